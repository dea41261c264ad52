/**
 * A factory run as a chain of stages, each a set of independent work items, as a
 * scheduler sees it. For a recipe with K corpus steps:
 *
 *   p0-observe (one item per shard) → p0-tasks (one per bucket task, if the step has any) → p0-combine (one)
 *   …                                                                                        p{K-1}-combine
 *   write (one item per shard) → finalize (one)
 *
 * Whether an item is done is read from the run's files (runstate.ts), so any executor can
 * tell what is left after a failure, and `runItem` runs one item wherever it is started.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CorpusStep } from '../core/step.js';
import type { Plan } from './plan.js';
import type { Recipe } from './recipe.js';
import {
  combinePass, corpusStepsOf, damagedShards, finalizeRun, finishedPath, globalsBefore, loadRun, passStates, readGlobal, shardDone, shardMarker,
} from './runstate.js';
import { passDir, runShard, shardName } from './shard.js';

export type StageKind = 'observe' | 'tasks' | 'combine' | 'write' | 'finalize';

export interface Stage {
  name: string;
  kind: StageKind;
  /** the pass this stage belongs to (corpus step number; the write pass is K) */
  pass: number;
  /** what one item is: 'shard', 'task' or 'job' */
  unit: string;
  items: number[];
  /** items already finished, read from the run's files */
  done: Set<number>;
}

export function stageName(kind: StageKind, pass: number): string {
  return kind === 'write' || kind === 'finalize' ? kind : `p${pass}-${kind}`;
}

/** A stage before anything is read from disk: whether an item is done is asked item by item. */
interface StagePlan extends Omit<Stage, 'done'> {
  isDone(item: number): boolean;
}

/** The stages of a run; nothing is read until isDone is asked (a pass's combined state at most once). */
function stagePlans(recipe: Recipe, outDir: string, plan: Plan): StagePlan[] {
  const quiet = () => {};
  const corpus = corpusStepsOf(recipe);
  const shards = plan.shards.map((s) => s.index);
  const bytes = new Map(plan.shards.map((s) => [s.index, s.bytes]));
  const out: StagePlan[] = [];
  corpus.forEach((step, pass) => {
    let known: boolean | undefined;
    const combined = () => (known ??= readGlobal(outDir, pass, quiet) !== null);
    out.push({ name: stageName('observe', pass), kind: 'observe', pass, unit: 'shard', items: shards, isDone: (i) => combined() || shardDone(outDir, pass, false, i, bytes.get(i) ?? 0, quiet) !== null });
    if (step.tasks) {
      const io = { dir: passDir(outDir, pass) };
      out.push({ name: stageName('tasks', pass), kind: 'tasks', pass, unit: 'task', items: Array.from({ length: step.tasks() }, (_, i) => i), isDone: (i) => combined() || step.taskDone?.(i, io) === true });
    }
    out.push({ name: stageName('combine', pass), kind: 'combine', pass, unit: 'job', items: [0], isDone: () => combined() });
  });
  const K = corpus.length;
  out.push({ name: 'write', kind: 'write', pass: K, unit: 'shard', items: shards, isDone: (i) => shardDone(outDir, K, true, i, bytes.get(i) ?? 0, quiet) !== null });
  out.push({ name: 'finalize', kind: 'finalize', pass: K, unit: 'job', items: [0], isDone: () => existsSync(finishedPath(outDir)) });
  return out;
}

/** The stages of a run and what of each is finished on disk. */
export function runStages(recipe: Recipe, outDir: string, plan: Plan): Stage[] {
  return stagePlans(recipe, outDir, plan).map(({ isDone, ...s }) => ({ ...s, done: new Set(s.items.filter((i) => isDone(i))) }));
}

/**
 * Runs one item of a stage of the run in `outDir` (its recipe and plan are read from the run),
 * in this process. An item already finished is skipped, so a requeued task does no harm.
 */
export async function runItem(outDir: string, stageNameWanted: string, item: number, log: (m: string) => void = (m) => process.stdout.write(m + '\n')): Promise<void> {
  const { recipe, plan } = loadRun(outDir);
  // only this item's state is read: a task does not scan the markers of every shard
  const stages = stagePlans(recipe, outDir, plan);
  const stage = stages.find((s) => s.name === stageNameWanted);
  if (!stage) throw new Error(`${outDir}: no stage "${stageNameWanted}" in this run (stages: ${stages.map((s) => s.name).join(', ')})`);
  if (!stage.items.includes(item)) throw new Error(`${outDir}: stage ${stage.name} has no ${stage.unit} ${item}`);
  if (stage.isDone(item)) {
    log(`${stage.name} ${stage.unit} ${item}: already done, skipped`);
    return;
  }
  const t0 = performance.now();
  const took = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const corpus = corpusStepsOf(recipe);
  switch (stage.kind) {
    case 'observe':
    case 'write': {
      const spec = plan.shards.find((s) => s.index === item)!;
      log(`${stage.name} ${shardName(item)}: started (${spec.bytes} bytes)`);
      const st = await runShard(recipe, spec, outDir, undefined, stage.pass, globalsBefore(outDir, stage.pass));
      log(`${stage.name} ${shardName(item)}: done in ${took()}${stage.kind === 'write' ? `: read ${st.read}, kept ${st.kept}` : ''}`);
      return;
    }
    case 'tasks': {
      const step = corpus[stage.pass]!;
      const { states, io } = passStates(outDir, plan, stage.pass);
      log(`${stage.name} task ${item}: started`);
      step.runTask!(item, states, io);
      log(`${stage.name} task ${item}: done in ${took()}`);
      return;
    }
    case 'combine':
      await combineStage(recipe, outDir, plan, corpus[stage.pass]!, stage.pass, log);
      log(`${stage.name}: done in ${took()}`);
      return;
    case 'finalize': {
      const fin = finalizeRun(recipe, outDir, plan, globalsBefore(outDir, corpus.length));
      log(`finalize: ${fin.statsFile}, ${fin.reportFile} in ${took()}`);
      return;
    }
  }
}

/**
 * The combine stage of corpus step `pass`: shards whose observation files are damaged are
 * observed again (and then every bucket task is run again on the repaired files), tasks not
 * done are run, and the summaries are combined.
 */
async function combineStage(recipe: Recipe, outDir: string, plan: Plan, step: CorpusStep, pass: number, log: (m: string) => void): Promise<void> {
  const globals = globalsBefore(outDir, pass);
  for (const s of plan.shards) {
    if (!existsSync(shardMarker(outDir, pass, false, s.index))) throw new Error(`${shardMarker(outDir, pass, false, s.index)}: missing; the observe stage has not finished shard ${s.index}`);
  }
  const bad = damagedShards(step, outDir, plan, pass, log);
  for (const i of bad) await runShard(recipe, plan.shards.find((s) => s.index === i)!, outDir, undefined, pass, globals);
  if (step.tasks && step.runTask) {
    const { states, io } = passStates(outDir, plan, pass);
    for (let i = 0; i < step.tasks(); i++) {
      if (bad.length || !step.taskDone?.(i, io)) step.runTask(i, states, io);
    }
  }
  combinePass(step, outDir, plan, pass);
}
