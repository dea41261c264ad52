/**
 * Runs a task against a model: documents in batches, each batch's requests grouped by type and
 * sent in one call (through the cache when one is given), then scored. A failure names the
 * item; everything answered before it stays in the cache, so the same command resumes.
 */
import { EvalError, type LM } from './lm.js';
import { macro, micro, summarize, type Summary } from './metrics.js';
import type { Sandbox } from './sandbox.js';
import type { Doc, ItemResult, Request, Response, Task } from './task.js';

export interface RunOptions {
  /** at most this many documents per subject (lm-eval's --limit per sub-task) */
  limit?: number;
  /** documents per model call */
  batch?: number;
  sandbox?: Sandbox;
  /** progress lines (questions/s, ETA) on stderr */
  progress?: boolean;
  onItem?: (r: ItemResult) => void;
}

export interface MetricSummary {
  /** every question counts once */
  micro: Summary;
  /** every subject counts once */
  macro: Summary;
}

export interface TaskResult {
  task: string;
  protocol: string;
  scoring: string;
  model: string;
  metrics: string[];
  n: number;
  overall: Record<string, MetricSummary>;
  subjects: Record<string, Record<string, Summary>>;
  categories: Record<string, Record<string, MetricSummary>>;
  warnings: string[];
  seconds: number;
  itemsPerSecond: number;
  sandbox?: string;
}

export function limitDocs<D extends Doc>(docs: D[], limit?: number): D[] {
  if (limit === undefined) return docs;
  const seen = new Map<string, number>();
  return docs.filter((d) => {
    const n = seen.get(d.subject) ?? 0;
    seen.set(d.subject, n + 1);
    return n < limit;
  });
}

async function answer(lm: LM, reqs: Request[]): Promise<Response[]> {
  const out: Response[] = new Array(reqs.length);
  const idx = { loglikelihood: [] as number[], rolling: [] as number[], generate: [] as number[] };
  reqs.forEach((r, i) => idx[r.type].push(i));
  if (idx.loglikelihood.length) {
    if (!lm.canScore) throw new EvalError(`${lm.name} cannot return prompt log-probabilities, so multiple-choice tasks cannot be scored (they would silently score at chance)`);
    const rs = await lm.loglikelihood(idx.loglikelihood.map((i) => { const r = reqs[i] as Extract<Request, { type: 'loglikelihood' }>; return { context: r.context, continuation: r.continuation }; }));
    idx.loglikelihood.forEach((i, j) => (out[i] = rs[j]!));
  }
  if (idx.rolling.length) {
    if (!lm.canScore) throw new EvalError(`${lm.name} cannot return prompt log-probabilities, so perplexity-scored tasks cannot be run`);
    const rs = await lm.loglikelihoodRolling(idx.rolling.map((i) => ({ text: (reqs[i] as Extract<Request, { type: 'rolling' }>).text })));
    idx.rolling.forEach((i, j) => (out[i] = rs[j]!));
  }
  if (idx.generate.length) {
    const rs = await lm.generateUntil(idx.generate.map((i) => { const { type: _t, ...g } = reqs[i] as Extract<Request, { type: 'generate' }>; return g; }));
    idx.generate.forEach((i, j) => (out[i] = rs[j]!));
  }
  return out;
}

export async function evaluate<D extends Doc>(task: Task<D>, lm: LM, o: RunOptions = {}): Promise<{ result: TaskResult; items: ItemResult[] }> {
  const docs = limitDocs(task.docs, o.limit);
  if (docs.length === 0) throw new EvalError(`${task.name}: no documents to evaluate`);
  if (task.needsSandbox && !o.sandbox) throw new EvalError(`${task.name} runs model-written code and needs a sandbox`);
  const batch = o.batch ?? 16;
  const items: ItemResult[] = [];
  const warnings: string[] = [...(task.notes ?? [])];
  let empties = 0;
  const t0 = performance.now();
  let lastPrint = 0;
  for (let b = 0; b < docs.length; b += batch) {
    const chunk = docs.slice(b, b + batch);
    let reqs: Request[][];
    try {
      reqs = chunk.map((d) => task.requests(d));
    } catch (e) {
      throw new EvalError(`${task.name}: ${(e as Error).message}`);
    }
    let resp: Response[];
    try {
      resp = await answer(lm, reqs.flat());
    } catch (e) {
      if (e instanceof EvalError && !e.itemId && !lm.canScore) throw e;
      // find the item it happened on (answers so far are in the cache)
      for (let i = 0; i < chunk.length; i++) {
        try {
          await answer(lm, reqs[i]!);
        } catch (e2) {
          throw new EvalError(`${task.name}: item ${chunk[i]!.id}: ${(e2 as Error).message}`, chunk[i]!.id);
        }
      }
      throw e;
    }
    let at = 0;
    for (let i = 0; i < chunk.length; i++) {
      const d = chunk[i]!, r = resp.slice(at, at + reqs[i]!.length);
      at += reqs[i]!.length;
      for (const x of r) {
        if (x === '') {
          empties++;
          if (empties <= 5) warnings.push(`${task.name}: item ${d.id}: the model returned empty text`);
        }
      }
      let ir: ItemResult;
      try {
        ir = await task.score(d, r, { sandbox: o.sandbox });
      } catch (e) {
        throw new EvalError(`${task.name}: item ${d.id}: scoring failed: ${(e as Error).message}`, d.id);
      }
      items.push(ir);
      o.onItem?.(ir);
    }
    const now = performance.now();
    if (o.progress && (now - lastPrint > 2000 || b + batch >= docs.length)) {
      lastPrint = now;
      const done = Math.min(b + batch, docs.length), el = (now - t0) / 1000;
      const eta = (el / done) * (docs.length - done);
      process.stderr.write(`${task.name} [${task.protocol}] ${done}/${docs.length} | ${(done / el).toFixed(1)} q/s | ETA ${Math.floor(eta / 60)}:${String(Math.round(eta % 60)).padStart(2, '0')}\n`);
    }
  }
  if (empties > 5) warnings.push(`${task.name}: ${empties} empty outputs in all`);
  const seconds = (performance.now() - t0) / 1000;
  return { result: aggregate(task, lm.name, items, warnings, seconds, o.sandbox?.describe()), items };
}

export function aggregate(task: Pick<Task, 'name' | 'protocol' | 'scoring' | 'metrics' | 'category'>, model: string, items: ItemResult[], warnings: string[], seconds: number, sandbox?: string): TaskResult {
  const subjects: Record<string, Record<string, Summary>> = {};
  const bySubject = new Map<string, ItemResult[]>();
  for (const it of items) {
    const l = bySubject.get(it.subject) ?? [];
    l.push(it);
    bySubject.set(it.subject, l);
  }
  for (const [s, its] of [...bySubject].sort((a, b) => a[0].localeCompare(b[0]))) {
    subjects[s] = Object.fromEntries(task.metrics.map((m) => [m, summarize(its.map((x) => x.metrics[m] ?? 0))]));
  }
  const overall: Record<string, MetricSummary> = {};
  for (const m of task.metrics) {
    const groups = Object.values(subjects).map((s) => s[m]!);
    overall[m] = { micro: micro(groups), macro: macro(groups) };
  }
  const categories: Record<string, Record<string, MetricSummary>> = {};
  if (task.category) {
    const cats = new Map<string, string[]>();
    for (const s of Object.keys(subjects)) {
      const c = task.category(s);
      if (!c) continue;
      cats.set(c, [...(cats.get(c) ?? []), s]);
    }
    if (cats.size > 1) {
      for (const [c, subs] of [...cats].sort((a, b) => a[0].localeCompare(b[0]))) {
        categories[c] = Object.fromEntries(task.metrics.map((m) => {
          const g = subs.map((s) => subjects[s]![m]!);
          return [m, { micro: micro(g), macro: macro(g) }];
        }));
      }
    }
  }
  const r: TaskResult = { task: task.name, protocol: task.protocol, scoring: task.scoring, model, metrics: task.metrics, n: items.length, overall, subjects, categories, warnings, seconds, itemsPerSecond: items.length / Math.max(seconds, 1e-9) };
  if (sandbox) r.sandbox = sandbox;
  return r;
}
