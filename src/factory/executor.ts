/**
 * Local executor: plans shards, runs them on worker threads (one per core by
 * default), skips shards already committed by an earlier attempt, and merges
 * the per-shard statistics into stats.json and report.html.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { accounting, mergeShardStats, type ShardStats } from '../core/stats.js';
import { CorruptFileError, readChecked, writeChecked, writeFileAtomic } from '../io/writers.js';
import { Progress } from '../ui/progress.js';
import { makePlan, samePlanInputs, type Plan } from './plan.js';
import { resolveFrom, workerCount, type Recipe } from './recipe.js';
import { renderReport } from './report.js';
import { passDir, runShard, shardName, statsPath } from './shard.js';
import { buildStep } from './registry.js';
import { isCorpusStep } from '../core/step.js';
import { registerSharedModels, shareModels } from '../lm/load.js';
import type { ShardSpec } from '../io/readers.js';

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
  const passDirs = readdirSync(join(outDir, '_run')).filter((d) => d.startsWith('pass-')).map((d) => join(outDir, '_run', d));
  for (const dir of [outDir, join(outDir, '_run'), join(outDir, '_run', 'stats'), ...passDirs]) {
    for (const f of readdirSync(dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
  }
  if (plan === fresh) writeFileAtomic(planFile, JSON.stringify(plan, null, 1));
  for (const w of plan.warnings) log(`warning: ${w}`);

  const built = recipe.steps.map((x) => buildStep(x));
  const corpusSteps = built.filter(isCorpusStep);
  // resources (n-gram models) loaded once here and shared with every worker thread, without copies
  const sharedModels = shareModels(built.flatMap((s) => (s as { resources?: () => string[] }).resources?.() ?? []));
  registerSharedModels(sharedModels);
  const globals: unknown[] = [];
  let resumedShards = 0;
  const failures: string[] = [];
  let done = new Map<number, ShardStats>();
  // passes 0..K-1 observe the K corpus steps in turn; pass K writes the output
  for (let pass = 0; pass <= corpusSteps.length; pass++) {
    const final = pass === corpusSteps.length;
    const globalFile = join(passDir(outDir, pass), 'global.json');
    if (!final && existsSync(globalFile)) {
      try {
        globals.push(readChecked(globalFile));
        continue;
      } catch (e) {
        // reported, then recomputed from the shard summaries: never a decision from a damaged file
        log(`warning: ${(e as Error).message}; combining the shard summaries again`);
      }
    }
    done = new Map<number, ShardStats>();
    const marker = (i: number) => (final ? statsPath(outDir, i) : join(passDir(outDir, pass), `${shardName(i)}.json`));
    for (const s of plan.shards) {
      const f = marker(s.index);
      if (!existsSync(f)) continue;
      try {
        const v = final ? (JSON.parse(readFileSync(f, 'utf8')) as ShardStats) : (readChecked(f), { shard: s.index, read: 0, bytesRead: s.bytes } as ShardStats);
        done.set(s.index, v);
      } catch (e) {
        log(`warning: ${f}: ${e instanceof CorruptFileError ? (e as Error).message.replace(`${f}: `, '') : 'unreadable'}; running shard ${s.index} again`);
      }
    }
    const todo = plan.shards.filter((s) => !done.has(s.index));
    if (final) resumedShards = done.size;
    if (done.size && todo.length) log(`resuming${corpusSteps.length ? ` pass ${pass + 1}/${corpusSteps.length + 1}` : ''}: ${done.size} of ${plan.shards.length} shards already done`);
    const label = corpusSteps.length ? `[${recipe.name} ${pass + 1}/${corpusSteps.length + 1}${final ? '' : ` ${corpusSteps[pass]!.name}`}]` : `[${recipe.name}]`;
    await runPass({ recipe, outDir, pass, globals, todo, done, failures, opts, label, totalBytes: plan.totalBytes, shards: plan.shards.length, sharedModels });
    if (failures.length) break;
    if (!final) {
      // a shard whose side files are damaged is reported and observed again
      const step = corpusSteps[pass]!;
      if (step.verify) {
        const bad = plan.shards.filter((s) => {
          const problem = step.verify!(readChecked(marker(s.index)), { dir: passDir(outDir, pass), shard: shardName(s.index) });
          if (problem) log(`warning: ${problem}; observing shard ${s.index} again`);
          return problem !== null;
        });
        if (bad.length) {
          for (const s of bad) done.delete(s.index);
          await runPass({ recipe, outDir, pass, globals, todo: bad, done, failures, opts, label, totalBytes: plan.totalBytes, shards: plan.shards.length, sharedModels });
          if (failures.length) break;
        }
      }
      // combine the shard summaries in shard order (after the step's parallel tasks, if it has any)
      const states = plan.shards.map((s) => readChecked(marker(s.index)));
      const io = { dir: passDir(outDir, pass), shards: plan.shards.map((s) => shardName(s.index)) };
      if (step.tasks && step.runTask && step.taskDone) {
        const pending = Array.from({ length: step.tasks(states) }, (_, i) => i).filter((i) => !step.taskDone!(i, io));
        if (pending.length) await runTasks({ recipe, outDir, pass, globals, tasks: pending, io, failures, opts, label: `${label} tasks` });
        if (failures.length) break;
      }
      const g = step.combine(states, io);
      writeChecked(globalFile, g);
      globals.push(g);
    }
  }
  if (failures.length) throw new Error(`${failures.length} shard(s) failed (the run is resumable):\n${failures.join('\n')}`);
  const stats = mergeShardStats([...done.values()]);
  stats.warnings.unshift(...plan.warnings);
  const corpusReport: Record<string, Record<string, unknown>> = {};
  corpusSteps.forEach((cs, i) => {
    corpusReport[cs.name] = cs.summarize ? cs.summarize(globals[i], stats.samples?.[cs.name] ?? []) : {};
  });
  delete stats.samples;
  const acc = accounting(stats);
  const statsFile = join(outDir, 'stats.json');
  writeFileAtomic(statsFile, JSON.stringify({ recipe: recipe.name, recipeHash: plan.recipeHash, shards: plan.shards.length, accounting: acc, corpusSteps: corpusReport, ...stats }, null, 1));
  const reportFile = join(outDir, 'report.html');
  writeFileAtomic(reportFile, renderReport(recipe, stats, plan, corpusReport));
  if (!acc.balanced) throw new Error(`accounting identity broken: read ${acc.read} != kept ${acc.kept} + dropped ${acc.droppedTotal} + quarantined ${acc.quarantinedTotal}`);
  return { outDir, plan, stats, resumedShards, statsFile, reportFile };
}

interface PassArgs {
  sharedModels?: Record<string, unknown>;
  recipe: Recipe;
  outDir: string;
  pass: number;
  globals: unknown[];
  todo: ShardSpec[];
  done: Map<number, ShardStats>;
  failures: string[];
  opts: RunOptions;
  label: string;
  totalBytes: number;
  shards: number;
}

/** Runs the given shards of one pass, in this thread or on a pool of worker threads, with a progress line. */
async function runPass(a: PassArgs): Promise<void> {
  const { recipe, outDir, pass, globals, todo, done, failures, opts } = a;
  const prog = new Progress(a.label, a.totalBytes, recipe.executor.progressSeconds * 1000, process.stderr, !opts.quiet);
  const inflight = new Map<number, { bytes: number; docs: number }>();
  const tick = (final = false) => {
    let b = 0;
    let d = 0;
    for (const v of done.values()) {
      b += v.bytesRead;
      d += v.read;
    }
    for (const v of inflight.values()) {
      b += v.bytes;
      d += v.docs;
    }
    if (final) prog.done(b, d, `shards ${done.size}/${a.shards}`);
    else prog.update(b, d, `shards ${done.size}/${a.shards}`);
  };
  const nWorkers = Math.max(1, Math.min(opts.workers ?? workerCount(recipe), todo.length || 1));
  if (todo.length && opts.inProcess) {
    for (const s of todo) {
      const st = await runShard(recipe, s, outDir, (bytes, docs) => {
        inflight.set(s.index, { bytes, docs });
        tick();
      }, pass, globals);
      inflight.delete(s.index);
      done.set(s.index, st);
    }
  } else if (todo.length) {
    await workerPool({ recipe, outDir, pass, globals, sharedModels: a.sharedModels }, todo, nWorkers, (s) => ({ shard: s }), (m: { progress?: { shard: number; bytes: number; docs: number }; done?: number; stats?: ShardStats; failed?: number; error?: string }) => {
      if (m.progress) {
        inflight.set(m.progress.shard, { bytes: m.progress.bytes, docs: m.progress.docs });
        tick();
        return false;
      }
      if (m.done !== undefined) {
        inflight.delete(m.done);
        done.set(m.done, m.stats!);
        tick();
        return true;
      }
      if (m.failed !== undefined) {
        inflight.delete(m.failed);
        failures.push(`shard ${m.failed}: ${m.error}`);
        return true;
      }
      return false;
    }, failures);
  }
  tick(true);
}

interface TaskArgs {
  recipe: Recipe;
  outDir: string;
  pass: number;
  globals: unknown[];
  tasks: number[];
  io: { dir: string; shards: string[] };
  failures: string[];
  opts: RunOptions;
  label: string;
}

/** Runs a corpus step's parallel tasks (e.g. one bucket task per band) on worker threads, or in this thread. */
async function runTasks(a: TaskArgs): Promise<void> {
  const { recipe, outDir, pass, globals, tasks, io, failures, opts } = a;
  if (!opts.quiet) process.stderr.write(`${a.label}: ${tasks.length} to run\n`);
  if (opts.inProcess) {
    const step = recipe.steps.map((x) => buildStep(x)).filter(isCorpusStep)[pass]!;
    const states = io.shards.map((s) => readChecked(join(io.dir, `${s}.json`)));
    for (const t of tasks) step.runTask!(t, states, io);
    return;
  }
  const nWorkers = Math.max(1, Math.min(opts.workers ?? workerCount(recipe), tasks.length));
  await workerPool({ recipe, outDir, pass, globals }, tasks, nWorkers, (t) => ({ task: t, io }), (m: { taskDone?: number; taskFailed?: number; error?: string }) => {
    if (m.taskFailed !== undefined) failures.push(`task ${m.taskFailed}: ${m.error}`);
    return m.taskDone !== undefined || m.taskFailed !== undefined;
  }, failures);
}

/**
 * A pool of worker threads that take work items one at a time. `handle` sees every message
 * and returns true when the worker finished its item (and should get the next one).
 */
function workerPool<T, M>(data: object, items: T[], nWorkers: number, message: (item: T) => object, handle: (m: M) => boolean, failures: string[]): Promise<void> {
  const queue = [...items];
  return new Promise<void>((resolveAll) => {
    let live = nWorkers;
    for (let w = 0; w < nWorkers; w++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
      const next = () => {
        const item = queue.shift();
        worker.postMessage(item !== undefined ? message(item) : { exit: true });
      };
      worker.on('message', (m: M & { ready?: true }) => {
        if (m.ready || handle(m)) next();
      });
      worker.on('error', (e) => failures.push(`worker: ${e.stack ?? e.message}`));
      worker.on('exit', () => {
        if (--live === 0) resolveAll();
      });
    }
  });
}
