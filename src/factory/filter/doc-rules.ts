/**
 * Document-level rules: each decides from DocFeatures whether the whole
 * document goes. Thresholds follow Gopher, C4, FineWeb, ChineseWebText and
 * Data-Juicer defaults (../shared/reference/pipeline-anchors.md); every rule is
 * Chinese-aware. `scope` limits a rule to Chinese ('zh') or non-Chinese ('latin') text.
 */
import { LS, wordHash, type DocFeatures } from './features.js';
import { loadWordList } from './wordlists.js';
import type { PhraseMatcher } from './matcher.js';
import { defaultCutLists } from './cut-rules.js';
import { filterShortcuts } from './shortcuts.js';

export type Params = Record<string, number>;

export interface DocRule {
  name: string;
  scope: 'all' | 'zh' | 'latin';
  params: Params;
  about: string;
  /** true when the rule fires (the document should go). */
  fires(f: DocFeatures, p: Params, lists: Lists): boolean;
}

export interface Lists {
  stopEn: Set<number>;
  /** single Han characters (matched by unit id) and longer Chinese entries */
  stopZhChars: Set<number>;
  stopZhWords: string[];
  /**
   * list 0: boilerplate (read by no document rule), 1: ads, 2: toxic: the paragraph filter's lists
   * (defaultCutLists), so that with the same files both filters share one matcher and one count
   * of each document
   */
  words: PhraseMatcher;
}

export function defaultLists(files: { stopwords?: string[]; toxic?: string[]; ads?: string[]; boilerplate?: string[] } = {}): Lists {
  const stop = (files.stopwords ?? ['stopwords-en', 'stopwords-zh']).flatMap((f) => loadWordList(f));
  return {
    stopEn: new Set(stop.filter((w) => /^[a-z]+$/.test(w)).map(wordHash)),
    stopZhChars: new Set(stop.filter((w) => !/^[a-z]+$/.test(w) && w.length === 1).map((w) => w.charCodeAt(0))),
    stopZhWords: stop.filter((w) => !/^[a-z]+$/.test(w) && w.length > 1),
    words: defaultCutLists(files).words,
  };
}

const SENTENCE_END = /[.!?。！？]+(?=\s|$|[”"」』’')）])|[。！？]/g;
const URL = /\b(?:https?:\/\/|www\.)[^\s<>"'）)】]+/gi;
const HTML_RESIDUE = /<\/?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]{0,200})?>|&(?:nbsp|amp|lt|gt|quot|#\d{2,5}|#x[0-9a-f]{2,4});/gi;
const LOREM = /[Ll]orem [Ii]psum|LOREM IPSUM/;

/** Matches of a global pattern in s, counting stops at `enough` (rules compare the count with a minimum). */
function count(re: RegExp, s: string, enough = Infinity): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < enough && re.exec(s)) n++;
  re.lastIndex = 0;
  return n;
}

/** part / whole of the line figures, 0 when there is no whole (as the Gopher figures over empty lists) */
function frac(f: DocFeatures, part: LS, whole: LS): number {
  const st = f.lineStats();
  return st[whole]! > 0 ? st[part]! / st[whole]! : 0;
}

export const DOC_RULES: DocRule[] = [
  { name: 'doc.min_words', scope: 'all', params: { min: 50 }, about: 'fewer word units (Han characters or words) than min (Gopher)', fires: (f, p) => f.unitCount < p.min! },
  { name: 'doc.max_words', scope: 'all', params: { max: 100000 }, about: 'more word units than max (Gopher)', fires: (f, p) => f.unitCount > p.max! },
  { name: 'doc.zh_min_chars', scope: 'zh', params: { min: 200 }, about: 'Chinese document shorter than min characters (ChineseWebText)', fires: (f, p) => f.nonSpaceChars < p.min! },
  { name: 'doc.mean_word_length', scope: 'latin', params: { min: 3, max: 10 }, about: 'mean word length outside [min, max] characters (Gopher)', fires: (f, p) => { const m = f.unitChars / Math.max(1, f.unitCount); return m < p.min! || m > p.max!; } },
  { name: 'doc.hash_ratio', scope: 'all', params: { max: 0.1 }, about: "'#' per word above max (Gopher)", fires: (f, p) => f.hashes / Math.max(1, f.unitCount) > p.max! },
  { name: 'doc.ellipsis_ratio', scope: 'all', params: { max: 0.1 }, about: "'...' and '…' per word above max (Gopher)", fires: (f, p) => f.ellipses / Math.max(1, f.unitCount) > p.max! },
  { name: 'doc.bullet_lines', scope: 'all', params: { max: 0.9 }, about: 'fraction of lines starting with a bullet above max (Gopher)', fires: (f, p) => frac(f, LS.Bullet, LS.NonEmpty) > p.max! },
  { name: 'doc.ellipsis_lines', scope: 'all', params: { max: 0.3 }, about: 'fraction of lines ending with an ellipsis above max (Gopher)', fires: (f, p) => frac(f, LS.EllipsisEnd, LS.NonEmpty) > p.max! },
  { name: 'doc.alpha_words', scope: 'all', params: { min: 0.8 }, about: 'fraction of words with a letter or Han character below min (Gopher)', fires: (f, p) => f.tokenTotal > 0 && f.tokenAlpha / f.tokenTotal < p.min! },
  { name: 'doc.stop_words', scope: 'all', params: { min: 2 }, about: 'fewer than min distinct stop words (Gopher; Chinese function words for zh)', fires: (f, p, L) => {
    if (f.isZh) {
      let found = f.distinctIn(L.stopZhChars, p.min!);
      for (const w of L.stopZhWords) if (found < p.min! && f.text.includes(w)) found++;
      return found < p.min!;
    }
    return f.distinctIn(L.stopEn, p.min!) < p.min!;
  } },
  { name: 'doc.dup_lines', scope: 'all', params: { max: 0.3 }, about: 'fraction of duplicate lines above max (Gopher)', fires: (f, p) => frac(f, LS.DupLines, LS.NonEmpty) > p.max! },
  { name: 'doc.dup_paragraphs', scope: 'all', params: { max: 0.3 }, about: 'fraction of duplicate paragraphs above max (Gopher)', fires: (f, p) => frac(f, LS.DupParas, LS.Paras) > p.max! },
  { name: 'doc.dup_line_chars', scope: 'all', params: { max: 0.2 }, about: 'characters in duplicate lines above max (Gopher)', fires: (f, p) => frac(f, LS.DupLineChars, LS.NonEmptyChars) > p.max! },
  { name: 'doc.dup_paragraph_chars', scope: 'all', params: { max: 0.2 }, about: 'characters in duplicate paragraphs above max (Gopher)', fires: (f, p) => frac(f, LS.DupParaChars, LS.ParaChars) > p.max! },
  { name: 'doc.top_2gram', scope: 'all', params: { max: 0.2 }, about: 'characters covered by the most frequent 2-gram above max (Gopher)', fires: (f, p) => f.topNgramExceeds(2, p.max!) },
  { name: 'doc.top_3gram', scope: 'all', params: { max: 0.18 }, about: 'characters covered by the most frequent 3-gram above max (Gopher)', fires: (f, p) => f.topNgramExceeds(3, p.max!) },
  { name: 'doc.top_4gram', scope: 'all', params: { max: 0.16 }, about: 'characters covered by the most frequent 4-gram above max (Gopher)', fires: (f, p) => f.topNgramExceeds(4, p.max!) },
  { name: 'doc.dup_ngrams', scope: 'all', params: { max5: 0.15, max6: 0.14, max7: 0.13, max8: 0.12, max9: 0.11, max10: 0.1 }, about: 'characters in duplicated 5..10-grams above the Gopher limits', fires: (f, p) => {
    const f5 = f.dupNgramFraction(5);
    if (f5 > p.max5!) return true;
    // Longer n-grams repeat only where shorter ones do: when the 5-gram figure is under half
    // of every remaining limit, none of them can reach theirs (skips 5 of 6 passes on clean text).
    if (f5 < 0.5 * Math.min(p.max6!, p.max7!, p.max8!, p.max9!, p.max10!)) return false;
    for (let n = 6; n <= 10; n++) if (f.dupNgramFraction(n) > p[`max${n}`]!) return true;
    return false;
  } },
  { name: 'doc.char_repetition', scope: 'all', params: { n: 10, max: 0.5 }, about: 'fraction of repeated character n-grams above max (Data-Juicer, ChineseWebText)', fires: (f, p) => f.charRepetitionExceeds(p.n!, p.max!) },
  { name: 'doc.cjk_ratio', scope: 'zh', params: { min: 0.3 }, about: 'Chinese document whose Han characters are below min of its non-space characters (ChineseWebText)', fires: (f, p) => f.hanChars / Math.max(1, f.nonSpaceChars) < p.min! },
  { name: 'doc.avg_line_length', scope: 'all', params: { min: 10 }, about: 'mean line length below min characters (ChineseWebText)', fires: (f, p) => { const st = f.lineStats(); return st[LS.NonEmpty]! > 0 && st[LS.NonEmptyChars]! / st[LS.NonEmpty]! < p.min!; } },
  // (these four settle from a count of the units their pattern needs, when it is 0, or below the
  // minimum for doc.min_sentences: patternMarks in features.ts, -1 when unknown; filterShortcuts.on =
  // false runs every pattern)
  { name: 'doc.lorem_ipsum', scope: 'all', params: {}, about: "placeholder text 'lorem ipsum' (C4)", fires: (f) => (!filterShortcuts.on || f.loremMarks !== 0) && (f.text.includes('orem ') || f.text.includes('OREM ')) && LOREM.test(f.text) },
  { name: 'doc.curly_brace', scope: 'all', params: { max: 0.01 }, about: "'{' per character above max: code or template residue (C4 drops any '{')", fires: (f, p) => f.braces / Math.max(1, f.text.length) > p.max! },
  { name: 'doc.min_sentences', scope: 'all', params: { min: 3 }, about: 'fewer sentences than min (C4 uses 5)', fires: (f, p) => (filterShortcuts.on && f.terminalUnits >= 0 && f.terminalUnits < p.min!) || count(SENTENCE_END, f.text, p.min!) < p.min! },
  { name: 'doc.terminal_punct_lines', scope: 'all', params: { min: 0.12 }, about: 'fraction of lines ending in terminal punctuation below min (FineWeb)', fires: (f, p) => { const st = f.lineStats(); return st[LS.NonEmpty]! > 0 && st[LS.Terminal]! / st[LS.NonEmpty]! < p.min!; } },
  { name: 'doc.short_lines', scope: 'all', params: { width: 30, max: 0.67 }, about: 'fraction of lines narrower than width (CJK counts 2) above max (FineWeb)', fires: (f, p) => { const st = f.lineStats(p.width!); return st[LS.NonEmpty]! > 3 && st[LS.Short]! / st[LS.NonEmpty]! > p.max!; } },
  { name: 'doc.newline_ratio', scope: 'all', params: { max: 0.3 }, about: 'newlines per word unit above max (FineWeb)', fires: (f, p) => (f.lineStats()[LS.Lines]! - 1) / Math.max(1, f.unitCount) > p.max! },
  { name: 'doc.toxic_words', scope: 'all', params: { max: 0.0045 }, about: 'toxic / adult / gambling terms per word unit above max (Data-Juicer flagged words)', fires: (f, p, L) => f.listHits(L.words)[2]! / Math.max(1, f.unitCount) > p.max! },
  { name: 'doc.ad_words', scope: 'all', params: { max: 0.01 }, about: 'advertising phrases per word unit above max', fires: (f, p, L) => f.listHits(L.words)[1]! / Math.max(1, f.unitCount) > p.max! },
  { name: 'doc.url_ratio', scope: 'all', params: { max: 0.2 }, about: 'characters inside URLs above max (NeMo Curator)', fires: (f, p) => { let n = 0; if (!filterShortcuts.on || f.urlMarks !== 0) { URL.lastIndex = 0; for (let m = URL.exec(f.text); m; m = URL.exec(f.text)) n += m[0].length; URL.lastIndex = 0; } return n / Math.max(1, f.text.length) > p.max!; } },
  { name: 'doc.digit_ratio', scope: 'all', params: { max: 0.15 }, about: 'digits per non-space character above max (NeMo Curator)', fires: (f, p) => f.digits / Math.max(1, f.nonSpaceChars) > p.max! },
  { name: 'doc.special_chars', scope: 'all', params: { max: 0.25 }, about: 'symbols (not letters, digits or punctuation) per non-space character above max (Data-Juicer)', fires: (f, p) => f.symbols / Math.max(1, f.nonSpaceChars) > p.max! },
  { name: 'doc.html_residue', scope: 'all', params: { max: 0.005 }, about: 'HTML tags and entities per character above max', fires: (f, p) => ((filterShortcuts.on ? f.markupMarks !== 0 : f.text.includes('<') || f.text.includes('&')) ? count(HTML_RESIDUE, f.text) : 0) / Math.max(1, f.text.length / 10) > p.max! * 10 },
  { name: 'doc.longest_word', scope: 'all', params: { max: 1000 }, about: 'a word longer than max characters (NeMo Curator, C4)', fires: (f, p) => f.longestUnit > p.max! },
  { name: 'doc.whitespace_ratio', scope: 'all', params: { max: 0.25 }, about: 'whitespace per character above max (NeMo Curator)', fires: (f, p) => f.spaces / Math.max(1, f.text.length) > p.max! },
];
