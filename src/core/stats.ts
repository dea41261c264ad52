import { charCount, excerpt, type Document } from './document.js';
import { fnv1a } from './hash.js';

export interface Example {
  /** Sampling key: smallest keys win, so samples merge across shards and do not depend on order. */
  key: number;
  id: string;
  language: string;
  text: string;
}

export interface RuleStats {
  /** Documents this rule removed (it was the first rule of its step to fire). */
  docsDropped: number;
  charsDropped: number;
  /** Documents this rule fired on, whether or not another rule was charged. */
  docsFired: number;
  /** Documents only this rule (of its step) fired on: what removing the rule would let through. */
  marginal: number;
  /** Documents on which this rule and another rule of the same step both fired. */
  overlap: Record<string, number>;
  /** Documents partly cut and characters cut (paragraph, line, sentence and masking rules). */
  docsCut: number;
  charsCut: number;
  examples: Example[];
}

export interface StepStats {
  name: string;
  docsIn: number;
  docsOut: number;
  charsIn: number;
  charsOut: number;
  seconds: number;
  rules: Record<string, RuleStats>;
}

export interface ShardStats {
  shard: number;
  /** Records read from the input: documents plus quarantined records. */
  read: number;
  bytesRead: number;
  docsRead: number;
  charsRead: number;
  kept: number;
  charsKept: number;
  quarantined: Record<string, number>;
  steps: StepStats[];
  outputFiles: string[];
  seconds: number;
  warnings: string[];
  /** corpus-step samples for the report, by step name */
  samples?: Record<string, unknown[]>;
}

export const EXAMPLES_PER_RULE_LANG = 3;

export function emptyRule(): RuleStats {
  return { docsDropped: 0, charsDropped: 0, docsFired: 0, marginal: 0, overlap: {}, docsCut: 0, charsCut: 0, examples: [] };
}

export function emptyStep(name: string, rules: readonly string[]): StepStats {
  const r: Record<string, RuleStats> = {};
  for (const name of rules) r[name] = emptyRule();
  return { name, docsIn: 0, docsOut: 0, charsIn: 0, charsOut: 0, seconds: 0, rules: r };
}

export function ruleOf(step: StepStats, rule: string): RuleStats {
  let r = step.rules[rule];
  if (!r) step.rules[rule] = r = emptyRule();
  return r;
}

/** zh / en / other: the identified language, or (before language identification ran) a quick script census. */
function langBucket(doc: Document, text: string): string {
  const l = doc.meta.language;
  if (l) return l === 'zh' || l === 'en' ? l : 'other';
  let han = 0;
  let latin = 0;
  let other = 0;
  const s = text.length > 400 ? text.slice(0, 400) : text;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x4e00 && c <= 0x9fff) han++;
    else if ((c | 32) >= 97 && (c | 32) <= 122) latin++;
    else if (c > 0x2e80 || (c >= 0x370 && c < 0x2000)) other++;
  }
  if (han * 3 >= latin && han > other) return 'zh';
  if (latin > other * 2 && latin > 0) return 'en';
  return 'other';
}

/**
 * Where an example with this key and language goes among the k kept per language (smallest keys
 * win; deterministic and mergeable): list.length to append, the index it replaces, or -1.
 */
function exampleSlot(list: Example[], key: number, language: string, k: number): number {
  let same = 0;
  let worst = -1;
  for (let i = 0; i < list.length; i++) {
    if (list[i]!.language !== language) continue;
    same++;
    if (worst < 0 || list[i]!.key > list[worst]!.key) worst = i;
  }
  if (same < k) return list.length;
  return worst >= 0 && key < list[worst]!.key ? worst : -1;
}

/** Keep the k examples with the smallest key per language; deterministic and mergeable. */
export function offerExample(list: Example[], ex: Example, k = EXAMPLES_PER_RULE_LANG): void {
  const at = exampleSlot(list, ex.key, ex.language, k);
  if (at >= 0) list[at] = ex;
}

// FNV-1a of rule + '\u0000' per rule: FNV-1a goes unit by unit, so the hash of rule + '\u0000' + id
// is the hash of id seeded with it (no string concatenated and flattened per example offered)
const rulePrefix = new Map<string, number>();

/** The sampling key of an example: FNV-1a of rule + '\u0000' + id. */
export function exampleKey(rule: string, id: string): number {
  let seed = rulePrefix.get(rule);
  if (seed === undefined) rulePrefix.set(rule, (seed = fnv1a(rule + '\u0000')));
  return fnv1a(id, seed);
}

/** Offers the example of `text` for rule and doc, building its excerpt only when it is kept. */
function offerExampleFor(list: Example[], rule: string, doc: Document, text: string): void {
  const key = exampleKey(rule, doc.id);
  const language = langBucket(doc, text);
  const at = exampleSlot(list, key, language, EXAMPLES_PER_RULE_LANG);
  if (at >= 0) list[at] = { key, id: doc.id, language, text: excerpt(text, 400) };
}

export function recordDrop(step: StepStats, rule: string, fired: readonly string[], doc: Document, chars: number): void {
  const r = ruleOf(step, rule);
  r.docsDropped++;
  r.charsDropped += chars;
  for (const f of fired) {
    const fr = ruleOf(step, f);
    fr.docsFired++;
    if (fired.length === 1) fr.marginal++;
    for (const g of fired) if (g !== f) fr.overlap[g] = (fr.overlap[g] ?? 0) + 1;
  }
  offerExampleFor(r.examples, rule, doc, doc.text);
}

export function recordCut(step: StepStats, rule: string, doc: Document, removed: string, seen: Set<string>, chars?: number): void {
  const r = ruleOf(step, rule);
  if (!seen.has(rule)) {
    r.docsCut++;
    seen.add(rule);
  }
  r.charsCut += chars ?? charCount(removed);
  if (removed) offerExampleFor(r.examples, rule, doc, removed);
}

function mergeRule(a: RuleStats, b: RuleStats): void {
  a.docsDropped += b.docsDropped;
  a.charsDropped += b.charsDropped;
  a.docsFired += b.docsFired;
  a.marginal += b.marginal;
  a.docsCut += b.docsCut;
  a.charsCut += b.charsCut;
  for (const [k, v] of Object.entries(b.overlap)) a.overlap[k] = (a.overlap[k] ?? 0) + v;
  for (const ex of b.examples) offerExample(a.examples, ex);
}

/** Sum shard statistics in shard order (the result does not depend on the order). */
export function mergeShardStats(list: ShardStats[]): ShardStats {
  const out: ShardStats = {
    shard: -1, read: 0, bytesRead: 0, docsRead: 0, charsRead: 0, kept: 0, charsKept: 0,
    quarantined: {}, steps: [], outputFiles: [], seconds: 0, warnings: [],
  };
  for (const s of [...list].sort((x, y) => x.shard - y.shard)) {
    out.read += s.read;
    out.bytesRead += s.bytesRead;
    out.docsRead += s.docsRead;
    out.charsRead += s.charsRead;
    out.kept += s.kept;
    out.charsKept += s.charsKept;
    out.seconds += s.seconds;
    out.outputFiles.push(...s.outputFiles);
    out.warnings.push(...s.warnings);
    for (const [k, v] of Object.entries(s.samples ?? {})) ((out.samples ??= {})[k] ??= []).push(...v);
    for (const [k, v] of Object.entries(s.quarantined)) out.quarantined[k] = (out.quarantined[k] ?? 0) + v;
    s.steps.forEach((st, i) => {
      let t = out.steps[i];
      if (!t) {
        t = emptyStep(st.name, []);
        out.steps[i] = t;
      }
      t.docsIn += st.docsIn;
      t.docsOut += st.docsOut;
      t.charsIn += st.charsIn;
      t.charsOut += st.charsOut;
      t.seconds += st.seconds;
      for (const [name, r] of Object.entries(st.rules)) mergeRule(ruleOf(t, name), r);
    });
  }
  for (const st of out.steps) for (const r of Object.values(st.rules)) r.examples.sort((a, b) => a.key - b.key);
  return out;
}

/** documents read = kept + dropped (per rule) + quarantined (per reason). */
export function accounting(s: ShardStats): { read: number; kept: number; dropped: Record<string, number>; droppedTotal: number; quarantined: Record<string, number>; quarantinedTotal: number; balanced: boolean } {
  const dropped: Record<string, number> = {};
  let droppedTotal = 0;
  for (const st of s.steps) {
    for (const [name, r] of Object.entries(st.rules)) {
      if (r.docsDropped) {
        dropped[`${st.name}/${name}`] = r.docsDropped;
        droppedTotal += r.docsDropped;
      }
    }
  }
  const quarantinedTotal = Object.values(s.quarantined).reduce((a, b) => a + b, 0);
  return { read: s.read, kept: s.kept, dropped, droppedTotal, quarantined: s.quarantined, quarantinedTotal, balanced: s.read === s.kept + droppedTotal + quarantinedTotal };
}
