/**
 * Local executor: plans shards, runs them on worker threads (one per core by
 * default), skips shards already committed by an earlier attempt, and merges
 * the per-shard statistics into stats.json and report.html.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ShardStats } from '../core/stats.js';
import { readChecked } from '../io/writers.js';
import { Progress } from '../ui/progress.js';
import type { Plan } from './plan.js';
import { workerCount, type Recipe } from './recipe.js';
import { runShard } from './shard.js';
import { RunMismatchError, combinePass, damagedShards, doneShards, finalizeRun, openRun, passStates, pendingTasks, readGlobal } from './runstate.js';
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

export { RunMismatchError };

export async function runFactory(recipe: Recipe, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const { outDir, plan } = openRun(recipe, { force: opts.force, log });
  const built = recipe.steps.map((x) => buildStep(x));
  const corpusSteps = built.filter(isCorpusStep);
  // resources (n-gram models) loaded once here and shared with every worker thread, without copies
  const sharedModels = shareModels(built.flatMap((s) => (s as { resources?: () => string[] }).resources?.() ?? []));
  registerSharedModels(sharedModels);
  const globals: unknown[] = [];
  let resumedShards = 0;
  const failures: string[] = [];
  // passes 0..K-1 observe the K corpus steps in turn; pass K writes the output
  for (let pass = 0; pass <= corpusSteps.length; pass++) {
    const final = pass === corpusSteps.length;
    if (!final) {
      const saved = readGlobal(outDir, pass, log);
      if (saved) {
        globals.push(saved.value);
        continue;
      }
    }
    const done = doneShards(outDir, plan, pass, final, log);
    const todo = plan.shards.filter((s) => !done.has(s.index));
    if (final) resumedShards = done.size;
    if (done.size && todo.length) log(`resuming${corpusSteps.length ? ` pass ${pass + 1}/${corpusSteps.length + 1}` : ''}: ${done.size} of ${plan.shards.length} shards already done`);
    const label = corpusSteps.length ? `[${recipe.name} ${pass + 1}/${corpusSteps.length + 1}${final ? '' : ` ${corpusSteps[pass]!.name}`}]` : `[${recipe.name}]`;
    const pa = { recipe, outDir, pass, globals, done, failures, opts, label, totalBytes: plan.totalBytes, shards: plan.shards.length, sharedModels };
    await runPass({ ...pa, todo });
    if (failures.length) break;
    if (!final) {
      const step = corpusSteps[pass]!;
      // a shard whose side files are damaged is reported and observed again
      const bad = new Set(damagedShards(step, outDir, plan, pass, log));
      if (bad.size) {
        for (const i of bad) done.delete(i);
        await runPass({ ...pa, todo: plan.shards.filter((s) => bad.has(s.index)) });
        if (failures.length) break;
      }
      const { io } = passStates(outDir, plan, pass);
      const pending = pendingTasks(step, io);
      if (pending.length) await runTasks({ recipe, outDir, pass, globals, tasks: pending, io, failures, opts, label: `${label} tasks` });
      if (failures.length) break;
      globals.push(combinePass(step, outDir, plan, pass));
    }
  }
  if (failures.length) throw new Error(`${failures.length} shard(s) failed (the run is resumable):\n${failures.join('\n')}`);
  const fin = finalizeRun(recipe, outDir, plan, globals);
  return { outDir, plan, resumedShards, ...fin };
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
    // a worker asks for its next shard ({ next }) once a shard's documents are through, and reports
    // the shard ({ done } or { failed }) when its outputs are committed, maybe after
    await workerPool({ recipe, outDir, pass, globals, sharedModels: a.sharedModels }, todo, nWorkers, (s) => ({ shard: s }), (m: { next?: true; progress?: { shard: number; bytes: number; docs: number }; done?: number; stats?: ShardStats; failed?: number; error?: string }) => {
      if (m.next) return true;
      if (m.progress) {
        inflight.set(m.progress.shard, { bytes: m.progress.bytes, docs: m.progress.docs });
        tick();
        return false;
      }
      if (m.done !== undefined) {
        inflight.delete(m.done);
        done.set(m.done, m.stats!);
        tick();
        return false;
      }
      if (m.failed !== undefined) {
        inflight.delete(m.failed);
        failures.push(`shard ${m.failed}: ${m.error}`);
        return false;
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
