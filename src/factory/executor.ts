/**
 * Local executor: plans shards, runs them on worker threads (one per core by
 * default), skips shards already committed by an earlier attempt, and merges
 * the per-shard statistics into stats.json and report.html.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { accounting, mergeShardStats, type ShardStats } from '../core/stats.js';
import { writeFileAtomic } from '../io/writers.js';
import { Progress } from '../ui/progress.js';
import { makePlan, samePlanInputs, type Plan } from './plan.js';
import { resolveFrom, workerCount, type Recipe } from './recipe.js';
import { renderReport } from './report.js';
import { runShard, statsPath } from './shard.js';

export interface RunOptions {
  /** Delete an existing run in the output folder that does not match this recipe and input. */
  force?: boolean;
  workers?: number;
  quiet?: boolean;
  /** Run shards in this thread (tests, debugging). */
  inProcess?: boolean;
  log?: (msg: string) => void;
}

export interface RunResult {
  outDir: string;
  plan: Plan;
  stats: ShardStats;
  resumedShards: number;
  statsFile: string;
  reportFile: string;
}

export class RunMismatchError extends Error {}

export async function runFactory(recipe: Recipe, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const outDir = resolve(resolveFrom(recipe.baseDir, recipe.output.dir));
  const planFile = join(outDir, '_run', 'plan.json');
  const fresh = makePlan(recipe);
  let plan = fresh;
  if (existsSync(planFile)) {
    const old = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
    if (!samePlanInputs(old, fresh)) {
      if (!opts.force) throw new RunMismatchError(`${outDir} holds a run of a different recipe or input; use --force to delete it and start over, or choose another output.dir`);
      rmSync(outDir, { recursive: true, force: true });
    } else plan = old;
  }
  mkdirSync(join(outDir, '_run', 'stats'), { recursive: true });
  // temporary files of writes that a kill interrupted
  for (const dir of [outDir, join(outDir, '_run'), join(outDir, '_run', 'stats')]) {
    for (const f of readdirSync(dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
  }
  if (plan === fresh) writeFileAtomic(planFile, JSON.stringify(plan, null, 1));
  for (const w of plan.warnings) log(`warning: ${w}`);

  const done = new Map<number, ShardStats>();
  for (const s of plan.shards) {
    const f = statsPath(outDir, s.index);
    if (existsSync(f)) {
      try {
        done.set(s.index, JSON.parse(readFileSync(f, 'utf8')) as ShardStats);
      } catch {
        /* unreadable marker: run the shard again */
      }
    }
  }
  const todo = plan.shards.filter((s) => !done.has(s.index));
  const resumedShards = done.size;
  if (resumedShards && todo.length) log(`resuming: ${resumedShards} of ${plan.shards.length} shards already done`);

  const doneBytes = () => [...done.values()].reduce((a, s) => a + s.bytesRead, 0);
  const doneDocs = () => [...done.values()].reduce((a, s) => a + s.read, 0);
  const prog = new Progress(`[${recipe.name}]`, plan.totalBytes, recipe.executor.progressSeconds * 1000, process.stderr, !opts.quiet);
  const inflight = new Map<number, { bytes: number; docs: number }>();
  const tick = () => {
    let b = doneBytes();
    let d = doneDocs();
    for (const v of inflight.values()) {
      b += v.bytes;
      d += v.docs;
    }
    prog.update(b, d, `shards ${done.size}/${plan.shards.length}`);
  };
  const failures: string[] = [];
  const nWorkers = Math.max(1, Math.min(opts.workers ?? workerCount(recipe), todo.length || 1));

  if (todo.length && opts.inProcess) {
    for (const s of todo) {
      const st = await runShard(recipe, s, outDir, (bytes, docs) => {
        inflight.set(s.index, { bytes, docs });
        tick();
      });
      inflight.delete(s.index);
      done.set(s.index, st);
    }
  } else if (todo.length) {
    const queue = [...todo];
    await new Promise<void>((resolveAll) => {
      let live = nWorkers;
      for (let w = 0; w < nWorkers; w++) {
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { recipe, outDir } });
        const next = () => {
          const s = queue.shift();
          if (s) worker.postMessage({ shard: s });
          else worker.postMessage({ exit: true });
        };
        worker.on('message', (m: { ready?: true; progress?: { shard: number; bytes: number; docs: number }; done?: number; stats?: ShardStats; failed?: number; error?: string }) => {
          if (m.ready) next();
          else if (m.progress) {
            inflight.set(m.progress.shard, { bytes: m.progress.bytes, docs: m.progress.docs });
            tick();
          } else if (m.done !== undefined) {
            inflight.delete(m.done);
            done.set(m.done, m.stats!);
            tick();
            next();
          } else if (m.failed !== undefined) {
            inflight.delete(m.failed);
            failures.push(`shard ${m.failed}: ${m.error}`);
            next();
          }
        });
        worker.on('error', (e) => failures.push(`worker: ${e.stack ?? e.message}`));
        worker.on('exit', () => {
          if (--live === 0) resolveAll();
        });
      }
    });
  }
  if (failures.length) throw new Error(`${failures.length} shard(s) failed (the run is resumable):\n${failures.join('\n')}`);
  const stats = mergeShardStats([...done.values()]);
  stats.warnings.unshift(...plan.warnings);
  prog.done(stats.bytesRead, stats.read, `shards ${done.size}/${plan.shards.length}`);
  const acc = accounting(stats);
  const statsFile = join(outDir, 'stats.json');
  writeFileAtomic(statsFile, JSON.stringify({ recipe: recipe.name, recipeHash: plan.recipeHash, shards: plan.shards.length, accounting: acc, ...stats }, null, 1));
  const reportFile = join(outDir, 'report.html');
  writeFileAtomic(reportFile, renderReport(recipe, stats, plan));
  if (!acc.balanced) throw new Error(`accounting identity broken: read ${acc.read} != kept ${acc.kept} + dropped ${acc.droppedTotal} + quarantined ${acc.quarantinedTotal}`);
  return { outDir, plan, stats, resumedShards, statsFile, reportFile };
}
