/**
 * Paragraph and line/sentence rules: they cut the offending part out of a
 * document instead of dropping all of it.
 */
import { displayWidth, isJsSpace, TERMINAL } from './features.js';
import { loadWordList } from './wordlists.js';
import { PhraseMatcher } from './matcher.js';
import type { Params } from './doc-rules.js';

/** One matcher for the paragraph rules' lists: 0 boilerplate, 1 ads, 2 toxic. */
export interface CutLists {
  words: PhraseMatcher;
}

export function defaultCutLists(files: { boilerplate?: string[]; ads?: string[]; toxic?: string[] } = {}): CutLists {
  return {
    words: new PhraseMatcher([
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
}

const NAV_SEP = /\s*(?:\||»|›|>|·|\/|｜|→|>>)\s*/g;
const NAV_CHARS = /[|»›>·\/｜→]/;
/** The script-residue pattern of para.javascript (C4's word, plus code shapes); `hasScript` is its fast equivalent. */
export const JS = /javascript|function\s*\(|var\s+\w+\s*=|document\.write/i;

/** ASCII letters case-folded (as the non-Unicode /i flag does: no other unit folds to ASCII) */
function lowerAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function wordAt(s: string, i: number, w: string): boolean {
  if (i + w.length > s.length) return false;
  for (let k = 0; k < w.length; k++) if (lowerAt(s, i + k) !== w.charCodeAt(k)) return false;
  return true;
}

/** JS.test(s) without the regular expression: one pass that stops only at j, f, v and d. */
export function hasScript(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = lowerAt(s, i);
    if (c === 106) {
      if (wordAt(s, i, 'javascript')) return true;
    } else if (c === 102) {
      if (wordAt(s, i, 'function')) {
        let j = i + 8;
        while (j < n && isJsSpace(s.charCodeAt(j))) j++;
        if (j < n && s.charCodeAt(j) === 40) return true;
      }
    } else if (c === 118) {
      if (wordAt(s, i, 'var')) {
        let j = i + 3;
        const ws = j;
        while (j < n && isJsSpace(s.charCodeAt(j))) j++;
        if (j === ws) continue;
        const w0 = j;
        while (j < n && isWordUnit(s.charCodeAt(j))) j++;
        if (j === w0) continue;
        // \w+ backtracks, but \s* and = cannot be word units, so the longest run decides
        while (j < n && isJsSpace(s.charCodeAt(j))) j++;
        if (j < n && s.charCodeAt(j) === 61) return true;
      }
    } else if (c === 100) {
      if (wordAt(s, i, 'document.write')) return true;
    }
  }
  return false;
}

/** Whether s.replace(/\s+/g, ' ') would change s: a whitespace unit other than a lone space. */
export function needsCollapse(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isJsSpace(c) && (c !== 32 || (i + 1 < s.length && isJsSpace(s.charCodeAt(i + 1))))) return true;
  }
  return false;
}

function isWordUnit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

export const PARA_RULES: ParaRule[] = [
  { name: 'para.boilerplate', params: { maxWidth: 300 }, about: 'short paragraph with a policy, copyright, cookie or site-chrome phrase', fires: (s, p, hits) => hits[0]! > 0 && displayWidth(s) <= p.maxWidth! },
  { name: 'para.navigation', params: { minItems: 4, maxItemWidth: 24 }, about: 'menu or breadcrumb: many short items between | » › > / separators', fires: (s, p) => {
    if (!NAV_CHARS.test(s) || displayWidth(s) > p.minItems! * (p.maxItemWidth! + 4)) return false;
    const items = s.split(NAV_SEP).map((x) => x.trim()).filter(Boolean);
    if (items.length < p.minItems!) return false;
    return items.every((x) => displayWidth(x) <= p.maxItemWidth!) && !/[。.!?！？]$/.test(s);
  } },
  { name: 'para.advertising', params: { minHits: 2, maxWidthSingle: 120 }, about: 'advertising: several ad phrases, or one in a short paragraph', fires: (s, p, hits) => {
    const n = hits[1]!;
    return n >= p.minHits! || (n === 1 && displayWidth(s) <= p.maxWidthSingle!);
  } },
  { name: 'para.toxic', params: { minHits: 1 }, about: 'paragraph with toxic, adult or gambling terms', fires: (_s, p, hits) => hits[2]! >= p.minHits! },
  { name: 'para.javascript', params: {}, about: "mentions of 'javascript' (C4) or script residue", fires: (s) => hasScript(s) },
  { name: 'para.duplicate', params: { minWidth: 20 }, about: 'a paragraph repeating an earlier one in the same document', fires: (s, p, _hits, seen) => {
    if (displayWidth(s) < p.minWidth!) return false;
    const k = needsCollapse(s) ? s.replace(/\s+/g, ' ').trim() : s;
    if (seen.has(k)) return true;
    seen.add(k);
    return false;
  } },
];

export interface LineRule {
  name: string;
  params: Params;
  about: string;
  /** Returns the line with its offending part removed ('' to drop it), or the line unchanged. */
  apply(line: string, p: Params, ctx: { multiLine: boolean }): string;
}

const CITATION = /\[(?:\d{1,3}(?:[,–-]\d{1,3})*|edit|citation needed|编辑|来源请求|需要引用|注 ?\d+)\]/gi;
const UI_LINE = /^(?:click here|read more|continue reading|see more|show more|load more|log ?in|sign ?in|sign ?up|register|subscribe|print|share|tweet|reply|report|back|next|previous|home|menu|search|阅读全文|阅读更多|查看更多|展开全文|点击查看|点击这里|登录|注册|订阅|打印|分享|回复|举报|返回|首页|搜索|加载更多)\s*[>»›:：]*$/i;
const META_LINE = /^(?:(?:posted|published|updated|written) (?:on|by)|author:|tags?:|categor(?:y|ies):|filed under|发布时间|发布日期|更新时间|来源[:：]|作者[:：]|编辑[:：]|责任编辑|浏览次数|阅读量|点击数|标签[:：]|关键词[:：]|\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$)/i;

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

/** True when some character (other than a space) repeats `run` times in a row. */
function hasCharRun(l: string, run: number): boolean {
  let cur = 1;
  for (let i = 1; i < l.length; i++) {
    const c = l.charCodeAt(i);
    if (c === l.charCodeAt(i - 1) && c > 32) {
      if (++cur >= run) return true;
    } else cur = 1;
  }
  return false;
}

export const LINE_RULES: LineRule[] = [
  { name: 'line.citation_marks', params: {}, about: 'citation and edit marks: [1], [edit], [citation needed], [编辑]', apply: (l) => (l.includes('[') && CITATION.test(l) ? ((CITATION.lastIndex = 0), l.replace(CITATION, '')) : l) },
  { name: 'line.ui_text', params: {}, about: "interface text on its own line: 'Read more', '阅读全文', 'Log in'", apply: (l) => (UI_LINE.test(l.trim()) ? '' : l) },
  { name: 'line.meta_info', params: { maxWidth: 80 }, about: 'post metadata lines: dates, 发布时间, 来源, 责任编辑, Posted by', apply: (l, p) => (displayWidth(l) <= p.maxWidth! && META_LINE.test(l.trim()) ? '' : l) },
  { name: 'line.short_no_punct', params: { minWords: 3, minHan: 5 }, about: 'line with fewer than minWords words (minHan Han characters) and no terminal punctuation (C4)', apply: (l, p, ctx) => {
    if (!ctx.multiLine) return l;
    const t = l.trim();
    if (!t || TERMINAL.test(t)) return l;
    const han = (t.match(/[\u3400-\u9fff]/g) ?? []).length;
    if (han > 0) return han < p.minHan! && t.split(/\s+/).length < p.minWords! ? '' : l;
    return t.split(/\s+/).length < p.minWords! ? '' : l;
  } },
  { name: 'line.long_word', params: { max: 1000 }, about: 'line containing a word (non-space, non-CJK run) longer than max characters (C4)', apply: (l, p) => (l.length > p.max! && longestRun(l) > p.max! ? '' : l) },
  { name: 'sentence.char_run', params: { run: 10 }, about: 'sentence with the same character run times or more in a row (哈哈哈哈…, !!!!…)', apply: (l, p) => {
    if (!hasCharRun(l, p.run!)) return l;
    return l.split(/(?<=[。！？.!?])/).filter((s) => !hasCharRun(s, p.run!)).join('');
  } },
];
