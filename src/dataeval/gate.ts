/**
 * Ziya2's data-evaluation gate: automatic metrics on a random sample (1% by default) of a
 * factory run's kept documents; a document is unqualified when any metric crosses its
 * threshold, and the gate passes when the share of unqualified documents is at most the limit
 * (0.1% by default). The sample is drawn by a seeded hash of each document's id, so it is the
 * same whatever order the output files are read in.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a, mix32 } from '../core/hash.js';
import { byteChunks, lines } from '../io/streams.js';
import type { Document } from '../core/document.js';
import { DEFAULT_THRESHOLDS, docMetrics, failures, histogram, METRICS, topics, type DocMetrics, type MetricName, type Thresholds } from './metrics.js';
import { loadWordList } from '../factory/filter/wordlists.js';

export class GateError extends Error {}

export interface GateOptions {
  /** fraction of kept documents evaluated (default 0.01) */
  fraction?: number;
  /** at least this many documents (or all of them) (default 200) */
  minSample?: number;
  /** largest share of unqualified documents that passes (default 0.001) */
  limit?: number;
  seed?: number;
  thresholds?: Partial<Thresholds>;
}

export interface GateReport {
  run: string;
  recipeHash: string;
  kept: number;
  sampled: number;
  unqualified: number;
  share: number;
  limit: number;
  pass: boolean;
  thresholds: Thresholds;
  /** perplexity cut-off per language (the run's medium cut) */
  pplCut: Record<string, number>;
  metrics: Record<MetricName, { failed: number; share: number; examples: { id: string; value: number; excerpt: string }[] }>;
  means: Record<string, number>;
  languages: Record<string, number>;
  lengths: { edges: number[]; counts: number[] };
  topics: { share: number; keywords: string[] }[];
  /** the sampled ids that failed, with the metrics they failed */
  failedDocs: { id: string; failed: MetricName[] }[];
}

/** every kept document of a factory output folder (data/*.jsonl[.gz|.zst]) */
export async function* keptDocs(outDir: string): AsyncGenerator<Document> {
  const dir = join(outDir, 'data');
  if (!existsSync(dir)) throw new GateError(`${outDir}: no data folder (is this a factory run's output folder?)`);
  const files = readdirSync(dir).filter((f) => /\.jsonl(\.gz|\.zst)?$/.test(f)).sort();
  for (const f of files) {
    const path = join(dir, f);
    for await (const ln of lines(byteChunks(path), 64 << 20)) {
      if (!ln.bytes || ln.length === 0) continue;
      let rec: { id?: unknown; text?: unknown; meta?: unknown };
      try {
        rec = JSON.parse(ln.bytes.toString('utf8')) as typeof rec;
      } catch (e) {
        throw new GateError(`${path}:${ln.line}: malformed JSON (${(e as Error).message})`);
      }
      if (typeof rec.text !== 'string') throw new GateError(`${path}:${ln.line}: no text field`);
      yield { id: String(rec.id ?? `${f}:${ln.line}`), text: rec.text, meta: (rec.meta ?? {}) as Document['meta'] };
    }
  }
}

export interface RunStats {
  recipeHash: string;
  kept: number;
  pplCut: Record<string, number>;
}

export function readRunStats(outDir: string): RunStats {
  const f = join(outDir, 'stats.json');
  if (!existsSync(f)) throw new GateError(`${outDir}: no stats.json (the run has not finished, or this is not a factory output folder)`);
  const s = JSON.parse(readFileSync(f, 'utf8')) as { recipeHash?: string; kept?: number; corpusSteps?: Record<string, Record<string, unknown>> };
  const pplCut: Record<string, number> = {};
  const pb = s.corpusSteps?.['ppl_buckets'];
  if (pb) for (const [k, v] of Object.entries(pb)) {
    const m = /^(\w+): medium if perplexity ≤$/.exec(k);
    if (m && typeof v === 'number') pplCut[m[1]!] = v;
  }
  return { recipeHash: s.recipeHash ?? '?', kept: s.kept ?? 0, pplCut };
}

export function mergeThresholds(t?: Partial<Thresholds>): Thresholds {
  const out = structuredClone(DEFAULT_THRESHOLDS);
  for (const [k, v] of Object.entries(t ?? {})) Object.assign((out as unknown as Record<string, object>)[k] ?? {}, v);
  return out;
}

/** evaluates a finished factory run's output folder */
export async function runGate(outDir: string, o: GateOptions = {}): Promise<GateReport> {
  const st = readRunStats(outDir);
  if (st.kept === 0) throw new GateError(`${outDir}: the run kept no documents; there is nothing to evaluate`);
  const thresholds = mergeThresholds(o.thresholds);
  const fraction = Math.min(1, Math.max(o.fraction ?? 0.01, Math.min(1, (o.minSample ?? 200) / st.kept)));
  const seed = o.seed ?? 1;
  const limit = o.limit ?? 0.001;
  const sample: { m: DocMetrics; text: string; failed: MetricName[] }[] = [];
  for await (const d of keptDocs(outDir)) {
    if (mix32(fnv1a(d.id, seed)) / 2 ** 32 >= fraction) continue;
    const m = docMetrics(d);
    sample.push({ m, text: d.text, failed: failures(m, thresholds, st.pplCut) });
  }
  if (sample.length === 0) throw new GateError(`${outDir}: the sample is empty (kept ${st.kept} documents, fraction ${fraction})`);
  const metrics = {} as GateReport['metrics'];
  for (const name of METRICS) {
    const failed = sample.filter((s) => s.failed.includes(name));
    const value = (s: (typeof sample)[number]) => (name === 'readability' ? s.m.sentenceLength : name === 'perplexity' ? (s.m.perplexity ?? NaN) : (s.m as unknown as Record<string, number>)[name]!);
    metrics[name] = { failed: failed.length, share: failed.length / sample.length, examples: failed.slice(0, 5).map((s) => ({ id: s.m.id, value: Number(value(s).toFixed(4)), excerpt: s.text.slice(0, 300) })) };
  }
  const unqualified = sample.filter((s) => s.failed.length > 0).length;
  const mean = (f: (m: DocMetrics) => number | null) => {
    const xs = sample.map((s) => f(s.m)).filter((x): x is number => x !== null && Number.isFinite(x));
    return xs.length ? Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4)) : NaN;
  };
  const languages: Record<string, number> = {};
  for (const s of sample) languages[s.m.language] = (languages[s.m.language] ?? 0) + 1;
  const stop = new Set([...loadWordList('stopwords-en'), ...loadWordList('stopwords-zh')]);
  return {
    run: outDir,
    recipeHash: st.recipeHash,
    kept: st.kept,
    sampled: sample.length,
    unqualified,
    share: unqualified / sample.length,
    limit,
    pass: unqualified / sample.length <= limit,
    thresholds,
    pplCut: st.pplCut,
    metrics,
    means: { privacy: mean((m) => m.privacy), toxic: mean((m) => m.toxic), ads: mean((m) => m.ads), html: mean((m) => m.html), perplexity: mean((m) => m.perplexity), informativeness: mean((m) => m.informativeness), sentenceLength: mean((m) => m.sentenceLength), punctuation: mean((m) => m.punctuation) },
    languages,
    lengths: histogram(sample.map((s) => s.m.chars), [100, 300, 1000, 3000, 10000, 30000]),
    topics: topics(sample.map((s) => s.text), 8, seed, stop),
    failedDocs: sample.filter((s) => s.failed.length).map((s) => ({ id: s.m.id, failed: s.failed })),
  };
}
