/** Runs one shard: read → steps → write, all outputs renamed into place, the stats file last (the commit marker). */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Document } from '../core/document.js';
import { shardName } from '../core/shards.js';
import { isCorpusStep, isDrop, type CorpusStep, type DocStep, type Step, type StepContext } from '../core/step.js';
import { emptyStep, recordCut, recordDrop, type ShardStats, type StepStats } from '../core/stats.js';
import { readShardBatches, type ShardSpec } from '../io/readers.js';
import { JsonlLog, ShardedWriter, writeChecked, writeFileAtomic } from '../io/writers.js';
import type { Recipe } from './recipe.js';
import { buildStep, loadStepModules } from './build.js';

export { shardName };

export function statsPath(outDir: string, i: number): string {
  return join(outDir, '_run', 'stats', `${shardName(i)}.json`);
}

/** Removes whatever an interrupted attempt at this shard left behind. */
export function cleanShard(outDir: string, i: number): void {
  const prefix = shardName(i) + '.';
  for (const sub of ['data', 'quarantine', 'dropped']) {
    const d = join(outDir, sub);
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith(prefix)) rmSync(join(d, n), { force: true });
  }
}

export interface Pipeline {
  steps: Step[];
  stats: StepStats[];
  /** Which pass of a recipe with corpus steps: pass p observes the p-th corpus step; the last pass writes. */
  pass: number;
  /** combined states of the corpus steps decided in this pass, by corpus-step number */
  globals: unknown[];
  /** the observation summary of this pass */
  observed?: unknown;
  /** samples the corpus steps took in the decision pass */
  samples?: Record<string, unknown[]>;
  shard: number;
  /** per step: its context (built once) and the rules that cut the current document (cleared per document) */
  ctxs: StepContext[];
  cutRules: Set<string>[];
  /** per step: whether it is a corpus step (decided once, not per document) */
  corpus: boolean[];
}

export function buildPipeline(recipe: Recipe, pass = 0, globals: unknown[] = [], shard = 0): Pipeline {
  const steps = recipe.steps.map((s) => buildStep(s));
  const stats = steps.map((s) => emptyStep(s.name, s.rules));
  const cutRules = steps.map(() => new Set<string>());
  const ctxs = steps.map((_, i): StepContext => ({ cut: (rule, d, removed, chars) => recordCut(stats[i]!, rule, d, removed, cutRules[i]!, chars) }));
  const p: Pipeline = { steps, stats, pass, globals, shard, ctxs, cutRules, corpus: steps.map(isCorpusStep) };
  const corpus = steps.filter(isCorpusStep);
  if (pass < corpus.length) p.observed = corpus[pass]!.begin();
  return p;
}

export function passDir(outDir: string, pass: number): string {
  return join(outDir, '_run', `pass-${pass}`);
}

/**
 * Runs a document through the steps, recording statistics. Returns the kept
 * document, or the drop (step index and rule) so the caller can log it.
 */
export function runDoc(p: Pipeline, doc: Document, order = 0): { doc: Document } | { dropped: string; step: number } | { observed: true } {
  let cur = doc;
  let corpusNo = 0;
  // one clock reading per step boundary: a step's seconds run from the end of the one before
  // (its bookkeeping here included, a few counters) to its own end
  let t0 = performance.now();
  for (let i = 0; i < p.steps.length; i++) {
    const step = p.steps[i]!;
    const st = p.stats[i]!;
    const cutRules = p.cutRules[i]!;
    if (cutRules.size) cutRules.clear();
    const ctx = p.ctxs[i]!;
    const corpus = p.corpus[i]!;
    if (corpus && corpusNo === p.pass && p.observed !== undefined) {
      // observation pass: the document stops here
      (step as CorpusStep).observe(cur, p.observed, order);
      return { observed: true };
    }
    const len = cur.text.length;
    st.docsIn++;
    st.charsIn += len;
    let r: Document | import('../core/step.js').Drop;
    if (corpus) {
      const cs = step as CorpusStep;
      const g = p.globals[corpusNo++];
      if (cs.sample) {
        const smp = cs.sample(cur, g, p.shard, order);
        if (smp !== undefined) ((p.samples ??= {})[cs.name] ??= []).push(smp);
      }
      r = cs.decide(cur, ctx, g, p.shard, order);
    } else r = (step as DocStep).process(cur, ctx);
    const t1 = performance.now();
    st.seconds += (t1 - t0) / 1000;
    t0 = t1;
    if (isDrop(r)) {
      recordDrop(st, r.rule, r.fired, cur, len);
      return { dropped: `${step.name}/${r.rule}`, step: i };
    }
    st.docsOut++;
    st.charsOut += r.text.length;
    cur = r;
  }
  return { doc: cur };
}

/**
 * `onBody`, when given, is called once every document of the shard has been through the steps,
 * before the outputs are committed (the data files' last write and fsync, the renames, the stats
 * file): a worker thread then asks for its next shard while this one's commit waits on the disk.
 */
export async function runShard(recipe: Recipe, spec: ShardSpec, outDir: string, onProgress?: (bytes: number, docs: number) => void, pass = 0, globals: unknown[] = [], onBody?: () => void): Promise<ShardStats> {
  const t0 = performance.now();
  const name = shardName(spec.index);
  await loadStepModules(recipe.steps);
  const pipe = buildPipeline(recipe, pass, globals, spec.index);
  const observing = pipe.observed !== undefined;
  if (!observing) cleanShard(outDir, spec.index);
  const writer = observing ? null : new ShardedWriter(join(outDir, 'data', name), recipe.output.format, recipe.output.maxFileBytes);
  const quarantine = observing ? null : new JsonlLog(join(outDir, 'quarantine', `${name}.jsonl`));
  const dropped = !observing && recipe.output.writeDropped ? new JsonlLog(join(outDir, 'dropped', `${name}.jsonl`)) : null;
  const stats: ShardStats = {
    shard: spec.index, read: 0, bytesRead: 0, docsRead: 0, charsRead: 0, kept: 0, charsKept: 0,
    quarantined: {}, steps: pipe.stats, outputFiles: [], seconds: 0, warnings: [],
  };
  const progress = { bytes: 0 };
  let lastReport = 0;
  const opts = { textKey: recipe.input.textKey, idKey: recipe.input.idKey, maxRecordBytes: recipe.input.maxRecordBytes };
  const quarantineOne = (q: { file: string; record: number; reason: string; detail: string; excerpt: string }) => {
    stats.read++;
    stats.quarantined[q.reason] = (stats.quarantined[q.reason] ?? 0) + 1;
    quarantine?.add(q);
  };
  // records a chunk at a time (one asynchronous step per chunk of input, not per record)
  for await (const batch of readShardBatches(spec, opts, progress)) for (const ev of batch) {
    if ('warning' in ev) {
      stats.warnings.push(ev.warning);
      continue;
    }
    if ('quarantine' in ev) {
      quarantineOne(ev.quarantine);
      continue;
    }
    const doc = ev.doc;
    const order = stats.read; // position among the shard's records: the same in every pass
    stats.read++;
    stats.docsRead++;
    stats.charsRead += doc.text.length;
    let r: ReturnType<typeof runDoc>;
    try {
      r = runDoc(pipe, doc, order);
    } catch (e) {
      // a step failed on this document: quarantine it rather than lose it or stop the run
      stats.docsRead--;
      stats.charsRead -= doc.text.length;
      quarantineOne({ file: String(doc.meta.record ?? doc.meta.source), record: 0, reason: 'step-error', detail: (e as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(e), excerpt: doc.text.slice(0, 200) });
      continue;
    }
    if ('doc' in r) {
      stats.kept++;
      stats.charsKept += r.doc.text.length;
      const w = writer?.write(r.doc);
      if (w) await w;
    } else if ('dropped' in r) dropped?.add({ id: doc.id, rule: r.dropped, meta: doc.meta, text: doc.text });
    const now = performance.now();
    if (onProgress && now - lastReport > 200) {
      lastReport = now;
      onProgress(progress.bytes, stats.read);
    }
  }
  onBody?.();
  if (observing) {
    // the observation summary is this pass's commit marker for the shard
    const step = pipe.steps.filter(isCorpusStep)[pass]!;
    const summary = step.end ? step.end(pipe.observed, { dir: passDir(outDir, pass), shard: name }) : pipe.observed;
    writeChecked(join(passDir(outDir, pass), `${name}.json`), summary);
    stats.bytesRead = spec.bytes;
    onProgress?.(spec.bytes, stats.read);
    return stats;
  }
  const files = await writer!.close();
  const qf = quarantine!.close();
  const df = dropped?.close() ?? null;
  stats.outputFiles = files.map((f) => f.slice(outDir.length + 1));
  if (qf) stats.outputFiles.push(qf.slice(outDir.length + 1));
  if (df) stats.outputFiles.push(df.slice(outDir.length + 1));
  stats.bytesRead = spec.bytes;
  if (pipe.samples) stats.samples = pipe.samples;
  stats.seconds = (performance.now() - t0) / 1000;
  onProgress?.(spec.bytes, stats.read);
  writeFileAtomic(statsPath(outDir, spec.index), JSON.stringify(stats));
  return stats;
}
