/** The three rule-based filtering steps: document, then paragraph, then line/sentence. */
import type { Document } from '../../core/document.js';
import { drop, type DocStep, type Drop, type StepContext } from '../../core/step.js';
import { filterShortcuts } from './shortcuts.js';
import { DocFeatures, isHanCode } from './features.js';
import { DOC_RULES, defaultLists, type DocRule, type Lists, type Params } from './doc-rules.js';
import { PARA_RULES, LINE_RULES, defaultCutLists, lineFacts, splitParagraphs, type CutLists, type ParaRule, type LineRule, type LineFacts, type LineFactsParams } from './cut-rules.js';

export interface RuleOverride {
  enabled?: boolean;
  [param: string]: number | boolean | undefined;
}

export interface WordListFiles {
  stopwords?: string[];
  toxic?: string[];
  ads?: string[];
  boilerplate?: string[];
}

export { filterShortcuts } from './shortcuts.js';

function resolveRules<R extends { name: string; params: Params }>(all: R[], overrides: Record<string, RuleOverride> = {}, where: string): { rule: R; p: Params }[] {
  const known = new Set(all.map((r) => r.name));
  for (const k of Object.keys(overrides)) if (!known.has(k)) throw new Error(`${where}: unknown rule "${k}" (known: ${[...known].join(', ')})`);
  const out: { rule: R; p: Params }[] = [];
  for (const r of all) {
    const o = overrides[r.name] ?? {};
    if (o.enabled === false) continue;
    const p: Params = { ...r.params };
    for (const [k, v] of Object.entries(o)) {
      if (k === 'enabled') continue;
      if (!(k in r.params)) throw new Error(`${where}.${r.name}: unknown parameter "${k}" (known: ${Object.keys(r.params).join(', ') || 'none'})`);
      if (typeof v !== 'number') throw new Error(`${where}.${r.name}.${k}: expected a number`);
      p[k] = v;
    }
    out.push({ rule: r, p });
  }
  return out;
}

function isZhDoc(doc: Document): boolean {
  const l = doc.meta.language;
  if (l) return l === 'zh' || l === 'ja';
  let han = 0;
  const s = doc.text.slice(0, 2000);
  for (let i = 0; i < s.length; i++) if (isHanCode(s.charCodeAt(i))) han++;
  return han > s.length * 0.2;
}

export class DocumentFilter implements DocStep {
  readonly rules: readonly string[];
  private active: { rule: DocRule; p: Params }[];
  private lists: Lists;
  constructor(readonly name: string, cfg: { rules?: Record<string, RuleOverride>; wordlists?: WordListFiles }) {
    this.active = resolveRules(DOC_RULES, cfg.rules, `${name}.rules`);
    this.rules = this.active.map((a) => a.rule.name);
    this.lists = defaultLists(cfg.wordlists);
  }
  /** All rules that fire, in order (no short-circuit: the report needs marginal and overlap figures). */
  firing(doc: Document): string[] {
    const zh = isZhDoc(doc);
    const f = new DocFeatures(doc.text, zh ? 'zh' : (doc.meta.language ?? 'en'), { transient: true });
    const fired: string[] = [];
    for (const { rule, p } of this.active) {
      if (rule.scope === 'zh' && !zh) continue;
      if (rule.scope === 'latin' && zh) continue;
      if (rule.fires(f, p, this.lists)) fired.push(rule.name);
    }
    return fired;
  }
  process(doc: Document): Document | Drop {
    const fired = this.firing(doc);
    return fired.length ? drop(fired[0]!, fired) : doc;
  }
}

export class ParagraphFilter implements DocStep {
  readonly rules: readonly string[];
  private active: { rule: ParaRule; p: Params }[];
  private lists: CutLists;
  constructor(readonly name: string, cfg: { rules?: Record<string, RuleOverride>; wordlists?: WordListFiles; minChars: number }) {
    this.active = resolveRules(PARA_RULES, cfg.rules, `${name}.rules`);
    this.rules = [...this.active.map((a) => a.rule.name), 'para.nothing_left'];
    this.lists = defaultCutLists(cfg.wordlists);
    this.minChars = cfg.minChars;
  }
  private minChars: number;
  process(doc: Document, ctx: StepContext): Document | Drop {
    // once per document: word lists without a match in the whole text match in no paragraph
    // (CJK entries are substrings, Latin phrases runs of whole words, and a paragraph is a
    // trimmed part of the text between line breaks); rules that cannot fire anywhere are skipped,
    // and a document where none can is returned as it is, unsplit
    const on = filterShortcuts.on;
    // (with the default word lists, the document filter counted this text with the same matcher)
    const docHits = on ? this.lists.words.countOf(doc.text) : new Int32Array(this.lists.words.lists);
    let anyHit = !on;
    for (let k = 0; k < docHits.length && !anyHit; k++) anyHit = docHits[k]! > 0;
    const active = this.active;
    const may = active.map(({ rule, p }) => !on || !rule.mayFire || rule.mayFire(doc.text, p, docHits));
    if (!may.includes(true)) return doc;
    const { parts, sep } = splitParagraphs(doc.text);
    const seen = new Set<string>();
    const kept: string[] = [];
    let changed = false;
    for (const para of parts) {
      const t = para.trim();
      if (!t) {
        kept.push(para);
        continue;
      }
      let cutBy: string | null = null;
      const hits = anyHit ? this.lists.words.count(t) : docHits;
      for (let k = 0; k < active.length; k++) {
        if (!may[k]) continue;
        const { rule, p } = active[k]!;
        if (rule.fires(t, p, hits, seen)) {
          cutBy = rule.name;
          break;
        }
      }
      if (cutBy) {
        ctx.cut(cutBy, doc, t);
        changed = true;
      } else kept.push(para);
    }
    if (!changed) return doc;
    const text = kept.join(sep).replace(/\n{3,}/g, '\n\n').trim();
    if (text.length < this.minChars) return drop('para.nothing_left');
    return { ...doc, text };
  }
}

/** a unit other than whitespace: exactly when s.trim() is not empty */
const NON_SPACE = /\S/;

export class SentenceFilter implements DocStep {
  readonly rules: readonly string[];
  private active: { rule: LineRule; p: Params }[];
  constructor(readonly name: string, cfg: { rules?: Record<string, RuleOverride>; minChars: number }) {
    this.active = resolveRules(LINE_RULES, cfg.rules, `${name}.rules`);
    this.rules = [...this.active.map((a) => a.rule.name), 'line.nothing_left'];
    this.minChars = cfg.minChars;
    const p = (rule: string) => this.active.find((a) => a.rule.name === rule)?.p;
    this.factsParams = { metaMaxLen: p('line.meta_info')?.maxWidth ?? 0, minWords: p('line.short_no_punct')?.minWords ?? 0, minHan: p('line.short_no_punct')?.minHan ?? 0, run: p('sentence.char_run')?.run ?? 10 };
  }
  /** what the line facts are about: the metadata rule's maxWidth, the short-line rule's limits */
  private factsParams: LineFactsParams;
  private minChars: number;
  process(doc: Document, ctx: StepContext): Document | Drop {
    const active = this.active;
    const on = filterShortcuts.on;
    let multiLine: boolean;
    let may: boolean[];
    let lines: string[];
    let facts: LineFacts | null = null;
    if (on) {
      // once per document, before splitting: which rules can change some line at all (a line an
      // earlier rule changed is tested by every later rule); none, and the document stays as it is
      const f = (facts = lineFacts(doc.text, this.factsParams));
      multiLine = f.nonEmpty > 1;
      may = active.map(({ rule, p }) => !rule.mayFire || rule.mayFire(doc.text, p, f));
      if (!may.includes(true)) return doc;
      lines = doc.text.split('\n');
    } else {
      lines = doc.text.split('\n');
      let nonEmpty = 0;
      for (let i = 0; i < lines.length && nonEmpty < 2; i++) if (NON_SPACE.test(lines[i]!)) nonEmpty++;
      multiLine = nonEmpty > 1;
      may = active.map(() => true);
    }
    let changed = false;
    const out: string[] = [];
    const lineCtx = { multiLine };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      let l = line;
      for (let k = 0; k < active.length; k++) {
        if (!l) break;
        if (!may[k] && l === line) continue;
        const { rule, p } = active[k]!;
        // (a line as it stands: some rules read their answer from the facts)
        const r = facts && rule.fromFacts && l === line ? rule.fromFacts(l, i, p, facts, lineCtx) : rule.apply(l, p, lineCtx);
        if (r !== l) {
          const removed = r === '' ? l : l.length - r.length > 0 ? diffRemoved(l, r) : '';
          ctx.cut(rule.name, doc, removed, Math.max(0, l.length - r.length));
          l = r;
          changed = true;
        }
      }
      if (l || !line) out.push(l);
    }
    if (!changed) return doc;
    const text = out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
    if (text.length < this.minChars) return drop('line.nothing_left');
    return { ...doc, text };
  }
}

/** The removed middle of `a` when `b` is `a` with some spans taken out (good enough for examples). */
function diffRemoved(a: string, b: string): string {
  let i = 0;
  while (i < b.length && a[i] === b[i]) i++;
  let j = 0;
  while (j < b.length - i && a[a.length - 1 - j] === b[b.length - 1 - j]) j++;
  return a.slice(i, a.length - j);
}
