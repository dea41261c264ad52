/**
 * One evaluation run: the chosen benchmarks against one model, through the result cache,
 * with reports and the tracking line. The CLI and the main job call this.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CachingLM, ResultCache } from './cache.js';
import { EvalError, type LM } from './lm.js';
import { buildTask, type Benchmark, type TaskOptions } from './registry.js';
import { evaluate, type TaskResult } from './runner.js';
import { Sandbox, type SandboxOptions } from './sandbox.js';
import { appendTrack, formatTable, writeReports } from './report.js';
import { GoldLM } from './models/scripted.js';
import type { Doc, Task } from './task.js';

export interface HarnessOptions extends TaskOptions {
  benchmarks: Benchmark[];
  out: string;
  /** SQLite cache file (default OUT/cache.sqlite); null = no cache */
  cache?: string | null;
  limit?: number;
  stage?: string;
  /** tracking file (default OUT/track.jsonl) */
  track?: string;
  sandbox?: SandboxOptions;
  progress?: boolean;
}

export interface HarnessResult {
  results: TaskResult[];
  table: string;
  json: string;
  html: string;
  track: string;
  cacheHits: number;
  cacheMisses: number;
}

/** model: an LM, or 'gold' for the scripted model that knows every answer of the chosen tasks */
export async function runHarness(model: LM | 'gold', o: HarnessOptions): Promise<HarnessResult> {
  mkdirSync(o.out, { recursive: true });
  const tasks: Task<Doc>[] = [];
  for (const b of o.benchmarks) tasks.push(await buildTask(b, o));
  const base: LM = model === 'gold' ? new GoldLM(tasks.flatMap((t) => t.docs.flatMap((d) => t.gold(d)))) : model;
  const cache = o.cache === null ? null : new ResultCache(o.cache ?? join(o.out, 'cache.sqlite'));
  const lm: LM = cache ? new CachingLM(base, cache) : base;
  let sandbox: Sandbox | undefined;
  const results: TaskResult[] = [];
  const started = new Date().toISOString();
  try {
    for (const t of tasks) {
      if (t.needsSandbox && !sandbox) sandbox = Sandbox.open(o.sandbox);
      if (!lm.canScore && t.requests(t.docs[0]!).some((r) => r.type !== 'generate')) {
        throw new EvalError(`${t.name}: ${lm.name} cannot return prompt log-probabilities, so this task cannot be scored (it would score at chance); leave it out or use a server that echoes prompt logprobs`);
      }
      const items = join(o.out, 'items', `${t.name}-${t.protocol}.jsonl`);
      mkdirSync(join(o.out, 'items'), { recursive: true });
      const lines: string[] = [];
      const { result } = await evaluate(t, lm, { limit: o.limit, sandbox, progress: o.progress, onItem: (r) => lines.push(JSON.stringify(r)) });
      writeFileSync(items, lines.join('\n') + '\n');
      results.push(result);
    }
  } finally {
    cache?.close();
    await lm.close?.();
  }
  const meta = { model: base.name, stage: o.stage, started, cache: cache?.path };
  const { json, html } = writeReports(o.out, results, meta);
  const track = o.track ?? join(o.out, 'track.jsonl');
  appendTrack(track, o.stage ?? 'eval', results);
  return { results, table: formatTable(results), json, html, track, cacheHits: cache?.hits ?? 0, cacheMisses: cache?.misses ?? 0 };
}
