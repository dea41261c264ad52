/**
 * Ziya2's data attributes, measured so that they scale:
 *  - Coherence (CH) and Readability (RA): people judge 1,000 documents (the web app); an
 *    automatic estimator calibrated on those labels (logistic regression on document features:
 *    perplexity, repetition, boilerplate and advertising rates, punctuation and sentence
 *    statistics, readability formulas) extends them to every document, with its agreement with
 *    people reported (cross-validated accuracy and Cohen's kappa). Without labels the same
 *    features give an uncalibrated heuristic estimate, and reports say so.
 *  - Similarity (SIM): mean cosine similarity between embeddings of data samples and of a
 *    benchmark's test set, with a pluggable embedder: hashed n-gram TF-IDF vectors (local, as
 *    DSIR hashes n-grams; no download) or any OpenAI-compatible /v1/embeddings endpoint.
 * Attributes are shares in [0, 1]: the fraction of documents without the problem.
 */
import { DocFeatures } from '../factory/filter/features.js';
import { PhraseMatcher } from '../factory/filter/matcher.js';
import { loadWordList } from '../factory/filter/wordlists.js';
import { cohensKappa } from '../ui/annotate.js';

export const FEATURES = ['logPerplexity', 'dupLines', 'top2gram', 'top4gram', 'boilerplate', 'ads', 'punctPerUnit', 'meanSentence', 'sdSentence', 'terminalLines', 'shortLines', 'fleschEase', 'nonAlpha', 'caseNoise', 'cohesion'] as const;

let matcher: PhraseMatcher | null = null;

const FUNCTION_WORDS = new Set('that with from this were which have been their they there when also after into other than more only about over such first would between during some these most while being under then where what could because before through them those will your said each very made upon shall unto'.split(' '));

/**
 * lexical cohesion: the share of sentences that share a content word (four letters or more, or a
 * pair of Han characters) with the sentence before or after; text glued together from unrelated
 * pieces scores low
 */
export function cohesion(text: string): number {
  const sents = text.split(/(?<=[.!?。！？])\s*/).map((s) => new Set((s.toLowerCase().match(/[a-z]{4,}|[\u4e00-\u9fff]{2}/g) ?? []).filter((w) => !FUNCTION_WORDS.has(w)))).filter((s) => s.size > 0);
  if (sents.length < 3) return 1;
  let linked = 0;
  for (let i = 0; i < sents.length; i++) {
    let ok = false;
    for (const j of [i - 1, i + 1]) {
      if (ok || j < 0 || j >= sents.length) continue;
      for (const w of sents[i]!) if (sents[j]!.has(w)) { ok = true; break; }
    }
    if (ok) linked++;
  }
  return linked / sents.length;
}

function syllables(word: string): number {
  const w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (!w) return 0;
  const groups = w.replace(/e$/, '').match(/[aeiouy]+/g);
  return Math.max(1, groups?.length ?? 1);
}

/** feature vector of one document (perplexity from the scoring stage when present) */
export function docFeatures(text: string, language: string, perplexity?: number | null): number[] {
  matcher ??= new PhraseMatcher([[...loadWordList('boilerplate-en'), ...loadWordList('boilerplate-zh')], [...loadWordList('ads-en'), ...loadWordList('ads-zh')]]);
  const f = new DocFeatures(text, language);
  const units = Math.max(1, f.unitCount);
  const hits = f.listHits(matcher);
  const sentences = text.split(/(?<=[.!?。！？])\s*/).map((s) => s.trim()).filter(Boolean);
  const lens = sentences.map((s) => new DocFeatures(s, language).unitCount);
  const mean = lens.length ? lens.reduce((a, b) => a + b, 0) / lens.length : units;
  const sd = lens.length ? Math.sqrt(lens.reduce((a, b) => a + (b - mean) ** 2, 0) / lens.length) : 0;
  const lines = f.nonEmptyLines;
  const dupLines = lines.length ? 1 - new Set(lines).size / lines.length : 0;
  const words = text.match(/[A-Za-z]+/g) ?? [];
  // Flesch reading ease for English text; Chinese gets its analogue from sentence length alone
  const flesch = words.length >= 20 ? 206.835 - 1.015 * (words.length / Math.max(1, sentences.length)) - 84.6 * (words.reduce((a, w) => a + syllables(w), 0) / words.length) : 100 - mean;
  const caps = words.filter((w) => /[a-z][A-Z]/.test(w) || (w.length > 3 && w === w.toUpperCase())).length;
  return [
    perplexity && perplexity > 0 ? Math.log(perplexity) : 0,
    dupLines,
    f.topNgramFraction(2),
    f.topNgramFraction(4),
    hits[0]! / units,
    hits[1]! / units,
    (text.match(/[.!?,;:。！？，；：、]/g)?.length ?? 0) / units,
    Math.min(mean, 500),
    Math.min(sd, 500),
    lines.length ? lines.filter((l) => /[.!?。！？"'”’)）]$/.test(l.trim())).length / lines.length : 0,
    lines.length ? lines.filter((l) => l.trim().length < 20).length / lines.length : 0,
    Math.max(-100, Math.min(150, flesch)),
    f.nonSpaceChars ? f.symbols / f.nonSpaceChars : 0,
    words.length ? caps / words.length : 0,
    cohesion(text),
  ];
}

// ------------------------------------------------------------------ logistic regression
export interface Logistic {
  mean: number[];
  sd: number[];
  w: number[];
  b: number;
}

/** L2-regularised logistic regression by Newton's method on standardised features */
export function trainLogistic(X: number[][], y: boolean[], l2 = 1): Logistic {
  const n = X.length, d = X[0]?.length ?? 0;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((a, r) => a + r[j]!, 0) / Math.max(1, n));
  const sd = Array.from({ length: d }, (_, j) => Math.sqrt(X.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / Math.max(1, n)) || 1);
  const Z = X.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
  let w = new Array(d + 1).fill(0) as number[]; // last = bias
  for (let it = 0; it < 50; it++) {
    const g = new Array(d + 1).fill(0) as number[];
    const H = Array.from({ length: d + 1 }, () => new Array(d + 1).fill(0) as number[]);
    for (let i = 0; i < n; i++) {
      const z = [...Z[i]!, 1];
      const p = 1 / (1 + Math.exp(-z.reduce((a, v, j) => a + v * w[j]!, 0)));
      const r = p - (y[i] ? 1 : 0), s = p * (1 - p);
      for (let j = 0; j <= d; j++) {
        g[j]! += r * z[j]!;
        for (let k = 0; k <= d; k++) H[j]![k]! += s * z[j]! * z[k]!;
      }
    }
    for (let j = 0; j < d; j++) {
      g[j]! += l2 * w[j]!;
      H[j]![j]! += l2;
    }
    H[d]![d]! += 1e-9;
    const step = solve(H, g);
    w = w.map((v, j) => v - step[j]!);
    if (Math.sqrt(step.reduce((a, v) => a + v * v, 0)) < 1e-8) break;
  }
  return { mean, sd, w: w.slice(0, d), b: w[d]! };
}

function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]! || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / piv;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((r, i) => r[n]! / (M[i]![i]! || 1e-12));
}

export function predictLogistic(m: Logistic, x: number[]): number {
  const z = x.reduce((a, v, j) => a + ((v - m.mean[j]!) / m.sd[j]!) * m.w[j]!, m.b);
  return 1 / (1 + Math.exp(-z));
}

export interface Agreement {
  n: number;
  accuracy: number;
  kappa: number;
}

/** k-fold cross-validated agreement of the classifier with people */
export function crossValidate(X: number[][], y: boolean[], k = 5, l2 = 1): Agreement {
  const pred: boolean[] = new Array(X.length);
  for (let f = 0; f < k; f++) {
    const train = X.map((_, i) => i).filter((i) => i % k !== f);
    const test = X.map((_, i) => i).filter((i) => i % k === f);
    if (!test.length || new Set(train.map((i) => y[i])).size < 2) {
      for (const i of test) pred[i] = train.filter((j) => y[j]).length * 2 > train.length;
      continue;
    }
    const m = trainLogistic(train.map((i) => X[i]!), train.map((i) => y[i]!), l2);
    for (const i of test) pred[i] = predictLogistic(m, X[i]!) > 0.5;
  }
  const acc = pred.filter((p, i) => p === y[i]).length / Math.max(1, y.length);
  return { n: y.length, accuracy: acc, kappa: cohensKappa(pred, y) };
}

/**
 * uncalibrated heuristic problem scores when no human labels exist: coherence problems from
 * repetition, boilerplate, advertising, short fragmentary lines and low lexical cohesion; readability problems from
 * missing punctuation, run-on or ragged sentences, symbol and casing noise
 */
export function heuristicProblems(x: number[]): { coherence: boolean; readability: boolean } {
  const [, dupLines, top2, top4, boiler, ads, punct, meanSent, , terminal, shortLines, , nonAlpha, caseNoise, cohesive] = x as number[];
  const coherence = dupLines! > 0.3 || top4! > 0.12 || top2! > 0.2 || boiler! > 0.01 || ads! > 0.005 || shortLines! > 0.6 || cohesive! < 0.35;
  const readability = punct! < 0.02 || meanSent! > 80 || terminal! < 0.2 || nonAlpha! > 0.1 || caseNoise! > 0.2;
  return { coherence, readability };
}

// ------------------------------------------------------------------ similarity
export interface Embedder {
  readonly name: string;
  embed(texts: string[]): Promise<Float32Array[]>;
}

const TOKEN = /[\p{Script=Han}]|[A-Za-z0-9]+/gu;

/** hashed unigram + bigram counts, TF-IDF weighted (IDF fitted on what it is given), L2-normalised */
export class HashedTfidfEmbedder implements Embedder {
  readonly name: string;
  private idf: Float32Array | null = null;
  constructor(readonly dims = 1 << 14) {
    this.name = `hashed n-gram TF-IDF (${dims} dimensions)`;
  }
  private hashes(text: string): number[] {
    const toks = (text.toLowerCase().match(TOKEN) ?? []).slice(0, 20000);
    const out: number[] = [];
    const h = (s: string) => {
      let x = 2166136261;
      for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
      return (x >>> 0) % this.dims;
    };
    for (let i = 0; i < toks.length; i++) {
      out.push(h(toks[i]!));
      if (i + 1 < toks.length) out.push(h(`${toks[i]} ${toks[i + 1]}`));
    }
    return out;
  }
  /** document frequencies over a reference collection (both sides of a comparison) */
  fit(texts: string[]): void {
    const df = new Float32Array(this.dims);
    for (const t of texts) for (const x of new Set(this.hashes(t))) df[x]!++;
    this.idf = df.map((v) => Math.log((1 + texts.length) / (1 + v)) + 1);
  }
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => {
      const v = new Float32Array(this.dims);
      for (const x of this.hashes(t)) v[x]!++;
      let n = 0;
      for (let i = 0; i < this.dims; i++) {
        if (v[i]) v[i] = (1 + Math.log(v[i]!)) * (this.idf ? this.idf[i]! : 1);
        n += v[i]! * v[i]!;
      }
      n = Math.sqrt(n) || 1;
      for (let i = 0; i < this.dims; i++) v[i]! /= n;
      return v;
    });
  }
}

/** any OpenAI-compatible embeddings endpoint (POST /v1/embeddings) */
export class OpenAIEmbedder implements Embedder {
  readonly name: string;
  constructor(readonly baseUrl: string, readonly model: string, readonly apiKey?: string, readonly batch = 64) {
    this.name = `${model} at ${baseUrl}`;
  }
  async embed(texts: string[]): Promise<Float32Array[]> {
    const url = this.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '') + '/v1/embeddings';
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batch) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) }, body: JSON.stringify({ model: this.model, input: texts.slice(i, i + this.batch) }), signal: AbortSignal.timeout(300000) });
      const body = await res.text();
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${body.slice(0, 300)}`);
      const v = JSON.parse(body) as { data?: { index: number; embedding: number[] }[] };
      if (!v.data || v.data.length !== Math.min(this.batch, texts.length - i)) throw new Error(`${url}: expected ${Math.min(this.batch, texts.length - i)} embeddings, got ${v.data?.length ?? 0}`);
      for (const d of [...v.data].sort((a, b) => a.index - b.index)) {
        const e = Float32Array.from(d.embedding);
        let n = 0;
        for (const x of e) n += x * x;
        n = Math.sqrt(n) || 1;
        out.push(e.map((x) => x / n));
      }
    }
    return out;
  }
}

/**
 * similarity of a data sample and a test set: 'pairwise' is the mean cosine over all pairs (Ziya2's
 * definition; for unit vectors it equals mean(u) · mean(v)); 'centroid' is the cosine of the two
 * mean vectors, the better measure for sparse hashed vectors, whose pairwise cosines are all near 0
 */
export async function similarity(embedder: Embedder, data: string[], test: string[], kind: 'pairwise' | 'centroid' = 'pairwise'): Promise<number> {
  if (!data.length || !test.length) throw new Error('similarity needs data and test texts');
  if (embedder instanceof HashedTfidfEmbedder) embedder.fit([...data, ...test]);
  const mean = (vs: Float32Array[]) => {
    const m = new Float64Array(vs[0]!.length);
    for (const v of vs) for (let i = 0; i < v.length; i++) m[i]! += v[i]! / vs.length;
    return m;
  };
  const a = mean(await embedder.embed(data)), b = mean(await embedder.embed(test));
  let s = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (kind === 'centroid') s /= Math.sqrt(na * nb) || 1;
  return Math.max(0, Math.min(1, s));
}
