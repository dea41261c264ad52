/**
 * Paragraph and line/sentence rules: they cut the offending part out of a
 * document instead of dropping all of it.
 */
import { displayWidth, endsTerminal, navMarksOf, textKernels } from './features.js';
import { arg, argSlot, releaseSlot } from '../../native/index.js';
import { loadWordList } from './wordlists.js';
import { PhraseMatcher } from './matcher.js';
import type { Params } from './doc-rules.js';

/** One matcher for the paragraph rules' lists: 0 boilerplate, 1 ads, 2 toxic. */
export interface CutLists {
  words: PhraseMatcher;
}

export function defaultCutLists(files: { boilerplate?: string[]; ads?: string[]; toxic?: string[] } = {}): CutLists {
  return {
    words: PhraseMatcher.of([
      (files.boilerplate ?? ['boilerplate-en', 'boilerplate-zh']).flatMap((f) => loadWordList(f)),
      (files.ads ?? ['ads-en', 'ads-zh']).flatMap((f) => loadWordList(f)),
      (files.toxic ?? ['toxic-en', 'toxic-zh']).flatMap((f) => loadWordList(f)),
    ]),
  };
}

export interface ParaRule {
  name: string;
  params: Params;
  about: string;
  /** true: cut this paragraph. `hits` are the word-list matches of the paragraph; `seen` holds paragraphs already kept. */
  fires(para: string, p: Params, hits: Int32Array, seen: Set<string>): boolean;
  /**
   * Optional, once per document: false only when no paragraph of `text` can fire (each is a part
   * of it). `docHits` are the word-list matches of the whole text: a list without a match there
   * has none in any paragraph.
   */
  mayFire?(text: string, p: Params, docHits: Int32Array): boolean;
}

/** Splits into paragraphs (blank-line separated; single lines when the text has no blank lines). */
export function splitParagraphs(text: string): { parts: string[]; sep: string } {
  if (/\n[ \t]*\n/.test(text)) return { parts: text.split(/\n[ \t]*\n/), sep: '\n\n' };
  return { parts: text.split('\n'), sep: '\n' };
}

/** The key under which para.duplicate compares a (trimmed) paragraph: runs of whitespace as one space. */
function duplicateKey(s: string): string {
  return needsCollapse(s) ? s.replace(/\s+/g, ' ').trim() : s.trim();
}

/**
 * Whether two paragraphs of text of display width >= minWidth have the same duplicate key: only
 * then can para.duplicate fire (the reference of the native paraDupPossible).
 */
export function paraDupPossibleRef(text: string, minWidth: number): boolean {
  const seen = new Set<string>();
  for (const para of splitParagraphs(text).parts) {
    const s = para.trim();
    if (!s || displayWidth(s) < minWidth) continue;
    const k = duplicateKey(s);
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

/** paraDupPossible with whichever implementation is switched on. */
export function paraDupPossible(text: string, minWidth: number): boolean {
  const nk = textKernels.native;
  return nk ? nk.paraDupPossible(text, minWidth) : paraDupPossibleRef(text, minWidth);
}

const NAV_SEP = /\s*(?:\||»|›|>|·|\/|｜|→|>>)\s*/g;
const NAV_CHARS = /[|»›>·\/｜→]/;
const NAV_ALL = /[|»›>·\/｜→]/g;

/**
 * Whether some paragraph of text (split as splitParagraphs splits, trimmed) of display width <=
 * maxWidth holds at least minNav of the separators' characters (the reference of the native
 * navPossible). para.navigation fires only on a paragraph no wider than minItems * (maxItemWidth +
 * 4) that splits into minItems items or more: minItems - 1 separators at least, each with one of
 * these characters.
 */
export function navPossibleRef(text: string, maxWidth: number, minNav: number): boolean {
  for (const para of splitParagraphs(text).parts) {
    const s = para.trim();
    if (!s || displayWidth(s) > maxWidth) continue;
    if ((s.match(NAV_ALL)?.length ?? 0) >= minNav) return true;
  }
  return false;
}

/** navPossible with whichever implementation is switched on. */
export function navPossible(text: string, maxWidth: number, minNav: number): boolean {
  const nk = textKernels.native;
  return nk ? nk.navPossible(text, maxWidth, minNav) : navPossibleRef(text, maxWidth, minNav);
}
/** The script-residue pattern of para.javascript (C4's word, plus code shapes). */
const JS = /javascript|function\s*\(|var\s+\w+\s*=|document\.write/i;

/**
 * A whitespace unit other than a lone space: exactly when s.replace(/\s+/g, ' ') changes s. (Two
 * whitespace units in a row start with a unit of the class or with a space: this form scans ~40%
 * faster in V8 than \s\s|[…].)
 */
const COLLAPSIBLE = /[\t\n\v\f\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]| \s/;
export function needsCollapse(s: string): boolean {
  return COLLAPSIBLE.test(s);
}

export const PARA_RULES: ParaRule[] = [
  { name: 'para.boilerplate', params: { maxWidth: 300 }, about: 'short paragraph with a policy, copyright, cookie or site-chrome phrase', fires: (s, p, hits) => hits[0]! > 0 && displayWidth(s) <= p.maxWidth!, mayFire: (_t, _p, docHits) => docHits[0]! > 0 },
  { name: 'para.navigation', params: { minItems: 4, maxItemWidth: 24 }, about: 'menu or breadcrumb: many short items between | » › > / separators', fires: (s, p) => {
    if (!NAV_CHARS.test(s) || displayWidth(s) > p.minItems! * (p.maxItemWidth! + 4)) return false;
    const items = s.split(NAV_SEP).map((x) => x.trim()).filter(Boolean);
    if (items.length < p.minItems!) return false;
    return items.every((x) => displayWidth(x) <= p.maxItemWidth!) && !/[。.!?！？]$/.test(s);
  }, mayFire: (text, p) => {
    // (the document filter's scan of the same text counted the separators' characters, when it ran)
    const marks = navMarksOf(text);
    return (marks > 0 || (marks < 0 && NAV_CHARS.test(text))) && navPossible(text, p.minItems! * (p.maxItemWidth! + 4), Math.max(1, p.minItems! - 1));
  } },
  { name: 'para.advertising', params: { minHits: 2, maxWidthSingle: 120 }, about: 'advertising: several ad phrases, or one in a short paragraph', fires: (s, p, hits) => {
    const n = hits[1]!;
    return n >= p.minHits! || (n === 1 && displayWidth(s) <= p.maxWidthSingle!);
  }, mayFire: (_t, p, docHits) => docHits[1]! > 0 || p.minHits! <= 0 },
  { name: 'para.toxic', params: { minHits: 1 }, about: 'paragraph with toxic, adult or gambling terms', fires: (_s, p, hits) => hits[2]! >= p.minHits!, mayFire: (_t, p, docHits) => docHits[2]! > 0 || p.minHits! <= 0 },
  { name: 'para.javascript', params: {}, about: "mentions of 'javascript' (C4) or script residue", fires: (s) => JS.test(s), mayFire: (text) => JS.test(text) },
  { name: 'para.duplicate', params: { minWidth: 20 }, about: 'a paragraph repeating an earlier one in the same document', fires: (s, p, _hits, seen) => {
    if (s.length < p.minWidth! && displayWidth(s) < p.minWidth!) return false; // displayWidth(s) >= s.length
    const k = duplicateKey(s);
    if (seen.has(k)) return true;
    seen.add(k);
    return false;
  }, mayFire: (text, p) => paraDupPossible(text, p.minWidth!) },
];

export interface LineRule {
  name: string;
  params: Params;
  about: string;
  /** Returns the line with its offending part removed ('' to drop it), or the line unchanged. */
  apply(line: string, p: Params, ctx: { multiLine: boolean }): string;
  /**
   * Optional, once per document: false only when the rule cannot change any line of `text` as it
   * stands (a line an earlier rule changed is always tested). Spares per-line work on clean text.
   */
  mayFire?(text: string, p: Params, facts: LineFacts): boolean;
  /**
   * Optional: apply(l) for the i-th line of the text as it stands (unchanged by earlier rules),
   * from the facts gathered before the text was split (exactly what apply would return).
   */
  fromFacts?(l: string, i: number, p: Params, facts: LineFacts, ctx: { multiLine: boolean }): string;
}

/** What the per-line rules need to know of a text before it is split (lineFacts). */
export interface LineFacts {
  /** lines with something other than whitespace */
  nonEmpty: number;
  /**
   * some line's first non-space unit (ASCII lower-cased) starts an interface-text alternative, and
   * the trimmed line without its trailing whitespace, arrows and colons is no longer than the
   * longest alternative
   */
  uiLine: boolean;
  /** some line of at most the metadata rule's maxWidth units starts (trimmed) with two units a metadata pattern can start with */
  metaLine: boolean;
  /**
   * some non-empty line does not end in terminal punctuation and has fewer than minWords words and
   * not minHan Han characters (what line.short_no_punct cuts)
   */
  shortOpenLine: boolean;
  /** the longest run of units in U+0021..U+2E7F (what line.long_word measures, over all lines) */
  longestRun: number;
  /** some unit above U+0020 repeats `run` times in a row (sentence.char_run's test of the whole text) */
  charRun: boolean;
  /** the text holds a '[' (every citation mark does) */
  brackets: boolean;
  /**
   * per line (split at '\n'), 1 when it is a short open line as shortOpenLine says (what
   * line.short_no_punct cuts from a multi-line text); a view valid until the next lineFacts
   */
  shortLines: Uint8Array;
}

/** What lineFacts is asked about: the metadata rule's maxWidth and the short-line rule's limits. */
export interface LineFactsParams {
  metaMaxLen: number;
  minWords: number;
  minHan: number;
  /** sentence.char_run's run */
  run: number;
}

const CITATION = /\[(?:\d{1,3}(?:[,–-]\d{1,3})*|edit|citation needed|编辑|来源请求|需要引用|注 ?\d+)\]/gi;
const UI_WORDS_SOURCE = 'click here|read more|continue reading|see more|show more|load more|log ?in|sign ?in|sign ?up|register|subscribe|print|share|tweet|reply|report|back|next|previous|home|menu|search|阅读全文|阅读更多|查看更多|展开全文|点击查看|点击这里|登录|注册|订阅|打印|分享|回复|举报|返回|首页|搜索|加载更多';
export const UI_LINE = new RegExp(`^(?:${UI_WORDS_SOURCE})\\s*[>»›:：]*$`, 'i');
/**
 * The units META_LINE (tried on a trimmed line, ASCII letters folded by /i) can start with: the
 * first letters of its Latin alternatives, of its Chinese ones, and the digits of a date.
 * test/filter.test.ts derives the same set from the pattern's source.
 */
export const META_FIRST = new Set([...'puwatcf发更来作编责浏阅点标关0123456789'].map((c) => c.charCodeAt(0)));
export const META_LINE = /^(?:(?:posted|published|updated|written) (?:on|by)|author:|tags?:|categor(?:y|ies):|filed under|发布时间|发布日期|更新时间|来源[:：]|作者[:：]|编辑[:：]|责任编辑|浏览次数|阅读量|点击数|标签[:：]|关键词[:：]|\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$)/i;

/** Longest run of non-space characters outside CJK text. */
function longestRun(l: string): number {
  let best = 0;
  let cur = 0;
  for (let i = 0; i < l.length; i++) {
    const c = l.charCodeAt(i);
    if (c <= 32 || c >= 0x2e80) cur = 0;
    else if (++cur > best) best = cur;
  }
  return best;
}

/** True when some unit above U+0020 repeats `run` times in a row (the reference of the native charRun). */
export function hasCharRunRef(l: string, run: number): boolean {
  let cur = 1;
  let prev = l.length ? l.charCodeAt(0) : -1;
  for (let i = 1; i < l.length; i++) {
    const c = l.charCodeAt(i);
    if (c === prev && c > 32) {
      if (++cur >= run) return true;
    } else {
      cur = 1;
      prev = c;
    }
  }
  return false;
}

function hasCharRun(l: string, run: number): boolean {
  const nk = textKernels.native;
  return nk ? nk.charRun(l, run) : hasCharRunRef(l, run);
}

const WS_RUN = /\s+/g;
/** t.split(/\s+/).length < min for a trimmed, non-empty t (pieces are the whitespace runs + 1), counting no further than min. */
function fewerWords(t: string, min: number): boolean {
  WS_RUN.lastIndex = 0;
  let pieces = 1;
  while (pieces < min && WS_RUN.exec(t)) pieces++;
  WS_RUN.lastIndex = 0;
  return pieces < min;
}

/** Units of t in U+3400-U+9FFF, counting no further than limit. */
function hanUnits(t: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < t.length && n < limit; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0x3400 && c <= 0x9fff) n++;
  }
  return n;
}

/** Lower-cased first units of UI_LINE's alternatives: a line can only match when its first non-space unit is one. */
const UI_FIRST = new Set(UI_WORDS_SOURCE.split('|').map((w) => w.charCodeAt(0)));
/** The longest text an alternative of UI_LINE matches (' ?' taken as a space). */
export const UI_MAX_LEN = Math.max(...UI_WORDS_SOURCE.split('|').map((w) => w.replace(/ \?/g, ' ').length));
/** UI_LINE's tail: what is left of a matching (trimmed) line without it is the alternative. */
const UI_TAIL = /[\s>»›:：]+$/;

/**
 * The lower-cased first two units META_LINE can match a trimmed line with (as first * 65536 +
 * second): those of its Latin and Chinese alternatives, and two digits (a date's year).
 * test/filter.test.ts derives the same set from the pattern's source.
 */
export const META_PAIRS = new Set(
  [...['po', 'pu', 'up', 'wr', 'au', 'ta', 'ca', 'fi', '发布', '更新', '来源', '作者', '编辑', '责任', '浏览', '阅读', '点击', '标签', '关键'], ...[...'0123456789'].flatMap((a) => [...'0123456789'].map((b) => a + b))].map(
    (p) => p.charCodeAt(0) * 65536 + p.charCodeAt(1),
  ),
);

/** UI_LINE.test(l.trim()), without trimming lines whose first unit no alternative starts with (/i folds ASCII letters only). */
export function isUiLine(l: string): boolean {
  const i = l.search(NON_SPACE);
  if (i < 0) return false;
  let c = l.charCodeAt(i);
  if (c >= 65 && c <= 90) c += 32;
  return UI_FIRST.has(c) && UI_LINE.test(l.trim());
}
const NON_SPACE = /\S/;

function bitsOf(units: Set<number>): Int32Array {
  const b = new Int32Array(2048);
  for (const c of units) b[c >>> 5]! |= 1 << (c & 31);
  return b;
}
const UI_BITS = bitsOf(UI_FIRST);
const META_BITS = bitsOf(META_FIRST);
const META_PAIR_KEYS = Int32Array.from([...META_PAIRS].sort((a, b) => a - b));
const factsParams = new Float64Array(5);
/** the native kernel's numbers for the arrays of lineFacts */
const factsSlots = { ui: argSlot(), meta: argSlot(), pairs: argSlot(), params: argSlot(), out: argSlot(), marks: argSlot() };
const factsOut = new Int32Array(7);
/** one mark per line (grown to the longest text's line count seen) */
let shortMarks = new Uint8Array(4096);

/** ASCII lower-casing of one unit (what /i folds) */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** The line facts (the reference of the native lineFacts): from the text's lines, as the rules see them. */
export function lineFactsRef(text: string, q: LineFactsParams): LineFacts {
  const lines = text.split('\n');
  if (shortMarks.length < lines.length) shortMarks = new Uint8Array(2 * lines.length);
  const marks = shortMarks.fill(0, 0, lines.length);
  const f: LineFacts = { nonEmpty: 0, uiLine: false, metaLine: false, shortOpenLine: false, longestRun: 0, charRun: hasCharRunRef(text, q.run), brackets: text.includes('['), shortLines: marks.subarray(0, lines.length) };
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!;
    const i = l.search(NON_SPACE);
    if (i < 0) continue;
    f.nonEmpty++;
    const t = l.trim();
    const c = lower(l.charCodeAt(i));
    if (UI_FIRST.has(c) && t.replace(UI_TAIL, '').length <= UI_MAX_LEN) f.uiLine = true;
    if (l.length <= q.metaMaxLen && t.length >= 2 && META_PAIRS.has(c * 65536 + lower(t.charCodeAt(1)))) f.metaLine = true;
    if (!endsTerminal(l) && fewerWords(t, q.minWords)) {
      const han = hanUnits(t, Math.max(1, q.minHan));
      if (!(han > 0 && han >= q.minHan)) {
        f.shortOpenLine = true;
        marks[k] = 1;
      }
    }
    f.longestRun = Math.max(f.longestRun, longestRun(l));
  }
  return f;
}

/** lineFacts with whichever implementation is switched on. */
export function lineFacts(text: string, q: LineFactsParams): LineFacts {
  const nk = textKernels.native;
  if (!nk) return lineFactsRef(text, q);
  factsParams[0] = q.metaMaxLen;
  factsParams[1] = UI_MAX_LEN;
  factsParams[2] = q.minWords;
  factsParams[3] = q.minHan;
  factsParams[4] = q.run;
  const sl = factsSlots;
  const args = [arg(nk, UI_BITS, sl.ui), arg(nk, META_BITS, sl.meta), arg(nk, META_PAIR_KEYS, sl.pairs), arg(nk, factsParams, sl.params), arg(nk, factsOut, sl.out)] as const;
  let lines = nk.lineFacts(text, ...args, arg(nk, shortMarks, sl.marks));
  if (lines > shortMarks.length) {
    // (more lines than marks: grown, and asked again)
    releaseSlot(sl.marks);
    shortMarks = new Uint8Array(2 * lines);
    lines = nk.lineFacts(text, ...args, arg(nk, shortMarks, sl.marks));
  }
  return { nonEmpty: factsOut[0]!, uiLine: factsOut[1] === 1, metaLine: factsOut[2] === 1, shortOpenLine: factsOut[3] === 1, longestRun: factsOut[4]!, charRun: factsOut[5] === 1, brackets: factsOut[6] === 1, shortLines: shortMarks.subarray(0, lines) };
}

export const LINE_RULES: LineRule[] = [
  { name: 'line.citation_marks', params: {}, about: 'citation and edit marks: [1], [edit], [citation needed], [编辑]', apply: (l) => (l.includes('[') && CITATION.test(l) ? ((CITATION.lastIndex = 0), l.replace(CITATION, '')) : l), mayFire: (_t, _p, f) => f.brackets },
  { name: 'line.ui_text', params: {}, about: "interface text on its own line: 'Read more', '阅读全文', 'Log in'", apply: (l) => (isUiLine(l) ? '' : l), mayFire: (_t, _p, f) => f.uiLine },
  // displayWidth(l) >= l.length: a line longer than maxWidth units is not measured
  { name: 'line.meta_info', params: { maxWidth: 80 }, about: 'post metadata lines: dates, 发布时间, 来源, 责任编辑, Posted by', apply: (l, p) => (l.length <= p.maxWidth! && displayWidth(l) <= p.maxWidth! && META_LINE.test(l.trim()) ? '' : l), mayFire: (_t, _p, f) => f.metaLine },
  { name: 'line.short_no_punct', params: { minWords: 3, minHan: 5 }, about: 'line with fewer than minWords words (minHan Han characters) and no terminal punctuation (C4)', apply: (l, p, ctx) => {
    if (!ctx.multiLine) return l;
    // as: t = l.trim(); if (!t || TERMINAL.test(t)) keep; han = Han units of t; words =
    // t.split(/\s+/).length; cut when words < minWords and (no Han unit or han < minHan)
    if (!NON_SPACE.test(l) || endsTerminal(l)) return l;
    const t = l.trim();
    if (!fewerWords(t, p.minWords!)) return l;
    const han = hanUnits(t, Math.max(1, p.minHan!));
    return han > 0 && han >= p.minHan! ? l : '';
  }, mayFire: (_t, _p, f) => f.nonEmpty > 1 && f.shortOpenLine, fromFacts: (l, i, _p, f, ctx) => (ctx.multiLine && f.shortLines[i] === 1 ? '' : l) },
  { name: 'line.long_word', params: { max: 1000 }, about: 'line containing a word (non-space, non-CJK run) longer than max characters (C4)', apply: (l, p) => (l.length > p.max! && longestRun(l) > p.max! ? '' : l), mayFire: (_t, p, f) => f.longestRun > p.max! },
  { name: 'sentence.char_run', params: { run: 10 }, about: 'sentence with the same character run times or more in a row (哈哈哈哈…, !!!!…)', apply: (l, p) => {
    if (!hasCharRun(l, p.run!)) return l;
    return l.split(/(?<=[。！？.!?])/).filter((s) => !hasCharRun(s, p.run!)).join('');
  }, mayFire: (_t, _p, f) => f.charRun },
];
