/**
 * Ziya2's automatic data metrics (Table 1), one document at a time: privacy-word rate (PII the
 * masking step missed), toxic-word and advertising-word rates (the factory's word lists),
 * HTML function-word rate (tags, entities, script and style residue, counted with patterns),
 * perplexity (from the scoring stage), informativeness (distinct word units per unit) and
 * readability (sentence length and punctuation, counted). Distributions over a sample:
 * language, document length, and topics by keyword clustering.
 */
import { DocFeatures } from '../factory/filter/features.js';
import { PhraseMatcher } from '../factory/filter/matcher.js';
import { loadWordList } from '../factory/filter/wordlists.js';
import { PiiMask, PII_DEFAULTS } from '../factory/filter/pii.js';
import type { Document } from '../core/document.js';

export interface DocMetrics {
  id: string;
  language: string;
  chars: number;
  units: number;
  /** unmasked e-mail addresses, phone numbers, ID and bank cards, IPs per 1,000 characters */
  privacy: number;
  /** toxic, adult or gambling terms per word unit */
  toxic: number;
  /** advertising phrases per word unit */
  ads: number;
  /** HTML tags, entities, script/style residue per 1,000 characters */
  html: number;
  /** n-gram perplexity from the scoring stage (null when the run has no scores) */
  perplexity: number | null;
  /** distinct word units per unit over the first 2,000 units */
  informativeness: number;
  /** mean sentence length in word units */
  sentenceLength: number;
  /** sentence-ending punctuation marks per 100 word units */
  punctuation: number;
}

// HTML function words: what leaks through when markup is not removed
const HTML_PATTERNS = [
  /<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]{0,200})?\/?>/g, // tags
  /&(?:nbsp|amp|lt|gt|quot|apos|#\d{2,5}|#x[0-9a-fA-F]{2,4});/g, // entities
  /\b(?:function\s*\(|var\s+\w+\s*=|document\.(?:write|getElementById)|window\.\w+|console\.log|\$\(\s*['"])/g, // script
  /\b(?:href|src|class|style|onclick)\s*=\s*["']/g, // attributes
  /[{;]\s*(?:margin|padding|font-size|color|display)\s*:/g, // CSS
];

const PII_TOKENS = new RegExp(Object.values(PII_DEFAULTS).filter((v): v is string => typeof v === 'string').map((v) => v.replace(/[<>]/g, (c) => `\\${c}`)).join('|'), 'g');

const SENTENCE_END = /[.!?。！？…]+/g;

let matcher: PhraseMatcher | null = null;
let pii: PiiMask | null = null;

/** the metrics of one document */
export function docMetrics(doc: Document): DocMetrics {
  matcher ??= new PhraseMatcher([[...loadWordList('toxic-en'), ...loadWordList('toxic-zh')], [...loadWordList('ads-en'), ...loadWordList('ads-zh')]]);
  pii ??= new PiiMask('metrics', PII_DEFAULTS);
  const lang = typeof doc.meta.language === 'string' ? doc.meta.language : 'other';
  const f = new DocFeatures(doc.text, lang);
  const units = Math.max(1, f.unitCount);
  const hits = f.listHits(matcher);
  let privacy = 0;
  pii.mask(doc.text, () => privacy++);
  let html = 0;
  const unmasked = doc.text.replace(PII_TOKENS, ''); // the masking step's placeholders are not markup
  for (const re of HTML_PATTERNS) html += unmasked.match(re)?.length ?? 0;
  const n = Math.min(f.unitCount, 2000);
  const distinct = new Set<number>();
  for (let i = 0; i < n; i++) distinct.add(f.ids[i]!);
  const ends = doc.text.match(SENTENCE_END)?.length ?? 0;
  const sentences = Math.max(1, ends);
  const ppl = typeof doc.meta.perplexity === 'number' ? doc.meta.perplexity : null;
  return {
    id: doc.id,
    language: lang,
    chars: doc.text.length,
    units: f.unitCount,
    privacy: (1000 * privacy) / Math.max(1, doc.text.length),
    toxic: hits[0]! / units,
    ads: hits[1]! / units,
    html: (1000 * html) / Math.max(1, doc.text.length),
    perplexity: ppl,
    informativeness: n ? distinct.size / n : 0,
    sentenceLength: f.unitCount / sentences,
    punctuation: (100 * ends) / units,
  };
}

export type MetricName = 'privacy' | 'toxic' | 'ads' | 'html' | 'perplexity' | 'informativeness' | 'readability';
export const METRICS: MetricName[] = ['privacy', 'toxic', 'ads', 'html', 'perplexity', 'informativeness', 'readability'];

export interface Thresholds {
  privacy: { max: number };
  toxic: { max: number };
  ads: { max: number };
  html: { max: number };
  /** perplexity above this factor of the run's medium cut-off for the language */
  perplexity: { maxFactor: number };
  informativeness: { min: number };
  /** mean sentence length at most maxSentence word units and at least minPunctuation marks per 100 units */
  readability: { maxSentence: number; minPunctuation: number };
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  privacy: { max: 0 },
  toxic: { max: 0.002 },
  ads: { max: 0.005 },
  html: { max: 2 },
  perplexity: { maxFactor: 1 },
  informativeness: { min: 0.15 },
  readability: { maxSentence: 120, minPunctuation: 0.5 },
};

/** the metrics a document fails (empty when it is qualified) */
export function failures(m: DocMetrics, t: Thresholds, pplCut: Record<string, number>): MetricName[] {
  const out: MetricName[] = [];
  if (m.privacy > t.privacy.max) out.push('privacy');
  if (m.toxic > t.toxic.max) out.push('toxic');
  if (m.ads > t.ads.max) out.push('ads');
  if (m.html > t.html.max) out.push('html');
  const cut = pplCut[m.language];
  if (m.perplexity !== null && cut !== undefined && m.perplexity > cut * t.perplexity.maxFactor) out.push('perplexity');
  if (m.units >= 50 && m.informativeness < t.informativeness.min) out.push('informativeness');
  if (m.units >= 50 && (m.sentenceLength > t.readability.maxSentence || m.punctuation < t.readability.minPunctuation)) out.push('readability');
  return out;
}

// ------------------------------------------------------------------ distributions
export function histogram(values: number[], edges: number[]): { edges: number[]; counts: number[] } {
  const counts = new Array(edges.length + 1).fill(0) as number[];
  for (const v of values) {
    let i = 0;
    while (i < edges.length && v >= edges[i]!) i++;
    counts[i]!++;
  }
  return { edges, counts };
}

const TOKEN = /[\p{Script=Han}]{2}|[a-zA-Z]{4,}/gu;

/**
 * topics by keyword clustering: hashed bag-of-keywords vectors (TF-IDF weighted, L2 normalised),
 * spherical k-means with a seeded k-means++ start; each cluster is named by its top keywords
 */
export function topics(texts: string[], k = 8, seed = 1, stop: Set<string> = new Set()): { share: number; keywords: string[] }[] {
  if (texts.length === 0) return [];
  const D = 1 << 12;
  const docsTok = texts.map((t) => (t.slice(0, 5000).toLowerCase().match(TOKEN) ?? []).filter((w) => !stop.has(w)));
  const df = new Map<string, number>();
  for (const toks of docsTok) for (const w of new Set(toks)) df.set(w, (df.get(w) ?? 0) + 1);
  const N = texts.length;
  const hash = (w: string) => {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    return (h >>> 0) % D;
  };
  const vecs = docsTok.map((toks) => {
    const v = new Float32Array(D);
    const tf = new Map<string, number>();
    for (const w of toks) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const [w, c] of tf) {
      const d = df.get(w)!;
      if (d < 2 || d > N * 0.5) continue;
      v[hash(w)]! += (1 + Math.log(c)) * Math.log(N / d);
    }
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < D; i++) v[i]! /= n;
    return v;
  });
  k = Math.min(k, N);
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const dot = (a: Float32Array, b: Float32Array) => {
    let x = 0;
    for (let i = 0; i < D; i++) x += a[i]! * b[i]!;
    return x;
  };
  const cents: Float32Array[] = [vecs[Math.floor(rnd() * N)]!.slice()];
  while (cents.length < k) {
    const d2 = vecs.map((v) => Math.max(0, 1 - Math.max(...cents.map((c) => dot(v, c)))));
    const tot = d2.reduce((a, b) => a + b, 0);
    let r = rnd() * tot, i = 0;
    while (i < N - 1 && r > d2[i]!) r -= d2[i++]!;
    cents.push(vecs[i]!.slice());
  }
  let assign = new Int32Array(N);
  for (let it = 0; it < 10; it++) {
    assign = Int32Array.from(vecs, (v) => {
      let best = 0, bv = -Infinity;
      cents.forEach((c, j) => { const x = dot(v, c); if (x > bv) { bv = x; best = j; } });
      return best;
    });
    for (let j = 0; j < k; j++) {
      const c = new Float32Array(D);
      vecs.forEach((v, i) => { if (assign[i] === j) for (let d = 0; d < D; d++) c[d]! += v[d]!; });
      let n = 0;
      for (const x of c) n += x * x;
      n = Math.sqrt(n);
      if (n > 0) cents[j] = c.map((x) => x / n);
    }
  }
  return cents.map((_, j) => {
    const members = docsTok.filter((_, i) => assign[i] === j);
    const counts = new Map<string, number>();
    for (const toks of members) for (const w of new Set(toks)) if ((df.get(w) ?? 0) <= N * 0.5) counts.set(w, (counts.get(w) ?? 0) + 1);
    const keywords = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 6).map(([w]) => w);
    return { share: members.length / N, keywords };
  }).filter((t) => t.share > 0).sort((a, b) => b.share - a.share);
}
