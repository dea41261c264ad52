/**
 * The state of a factory run on disk, shared by every executor (local threads, Slurm):
 * the plan and a snapshot of the recipe in `_run/`, one commit marker per shard and pass,
 * the combined state of each corpus step, and the final merge into stats.json and
 * report.html. An executor only decides where and when the work items run.
 *
 *   _run/plan.json                 shards (saved once; a resumed run uses the same)
 *   _run/recipe.json               the resolved recipe, so that tasks on other machines run the same one
 *   _run/pass-P/shard-NNNNN.json   pass P's observation of shard N (corpus steps), checked
 *   _run/pass-P/global.json        corpus step P's combined state, checked
 *   _run/stats/shard-NNNNN.json    the final pass's commit marker for shard N
 *   _run/finished.json             written last, when stats.json and report.html are in place
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { accounting, mergeShardStats, type ShardStats } from '../core/stats.js';
import { isCorpusStep, type CorpusStep } from '../core/step.js';
import { CorruptFileError, readChecked, writeChecked, writeFileAtomic } from '../io/writers.js';
import { makePlan, samePlanInputs, recipeHash, type Plan } from './plan.js';
import { parseRecipe, resolveFrom, type Recipe } from './recipe.js';
import { buildStep } from './registry.js';
import { renderReport } from './report.js';
import { passDir, shardName, statsPath } from './shard.js';

export class RunMismatchError extends Error {}

export interface RunFiles {
  outDir: string;
  plan: Plan;
}

export function runDir(outDir: string): string {
  return join(outDir, '_run');
}

export function finishedPath(outDir: string): string {
  return join(runDir(outDir), 'finished.json');
}

export function corpusStepsOf(recipe: Recipe): CorpusStep[] {
  return recipe.steps.map((x) => buildStep(x)).filter(isCorpusStep);
}

/**
 * Opens the run in the recipe's output folder: a new plan, or the saved one when the recipe
 * and input are unchanged (a different run there is refused unless `force`). Removes the
 * temporary files of writes a kill interrupted; callers make sure no task is still running.
 */
export function openRun(recipe: Recipe, opts: { force?: boolean; log: (m: string) => void }): RunFiles {
  const outDir = resolve(resolveFrom(recipe.baseDir, recipe.output.dir));
  const planFile = join(runDir(outDir), 'plan.json');
  const fresh = makePlan(recipe);
  let plan = fresh;
  if (existsSync(planFile)) {
    const old = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
    if (!samePlanInputs(old, fresh)) {
      if (!opts.force) throw new RunMismatchError(`${outDir} holds a run of a different recipe or input; use --force to delete it and start over, or choose another output.dir`);
      rmSync(outDir, { recursive: true, force: true });
    } else plan = old;
  }
  mkdirSync(join(runDir(outDir), 'stats'), { recursive: true });
  const passDirs = readdirSync(runDir(outDir)).filter((d) => d.startsWith('pass-')).map((d) => join(runDir(outDir), d));
  for (const dir of [outDir, runDir(outDir), join(runDir(outDir), 'stats'), ...passDirs]) {
    for (const f of readdirSync(dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
  }
  if (plan === fresh) writeFileAtomic(planFile, JSON.stringify(plan, null, 1));
  writeFileAtomic(join(runDir(outDir), 'recipe.json'), JSON.stringify(recipe, null, 1));
  for (const w of plan.warnings) opts.log(`warning: ${w}`);
  return { outDir, plan };
}

/** The recipe and plan of a run, as its executor saved them (for tasks started elsewhere). */
export function loadRun(outDir: string): { recipe: Recipe; plan: Plan } {
  const dir = runDir(resolve(outDir));
  for (const f of ['plan.json', 'recipe.json']) if (!existsSync(join(dir, f))) throw new Error(`${outDir}: not a factory run (no _run/${f})`);
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
  const { baseDir, ...saved } = JSON.parse(readFileSync(join(dir, 'recipe.json'), 'utf8')) as Recipe;
  const recipe = parseRecipe(saved, join(dir, 'recipe.json'), baseDir);
  if (recipeHash(recipe) !== plan.recipeHash) throw new RunMismatchError(`${outDir}: _run/recipe.json does not match the run's plan (recipe hash ${recipeHash(recipe)} != ${plan.recipeHash})`);
  return { recipe, plan };
}

/** The file whose presence says shard i finished pass `pass` (the last pass writes the output). */
export function shardMarker(outDir: string, pass: number, final: boolean, i: number): string {
  return final ? statsPath(outDir, i) : join(passDir(outDir, pass), `${shardName(i)}.json`);
}

export function globalPath(outDir: string, pass: number): string {
  return join(passDir(outDir, pass), 'global.json');
}

/** Shard i's marker for this pass, if present and intact (a final marker carries the shard's statistics); a damaged one is reported and counts as absent. */
export function shardDone(outDir: string, pass: number, final: boolean, i: number, bytes: number, log: (m: string) => void): ShardStats | null {
  const f = shardMarker(outDir, pass, final, i);
  if (!existsSync(f)) return null;
  try {
    return final ? (JSON.parse(readFileSync(f, 'utf8')) as ShardStats) : (readChecked(f), { shard: i, read: 0, bytesRead: bytes } as ShardStats);
  } catch (e) {
    log(`warning: ${f}: ${e instanceof CorruptFileError ? (e as Error).message.replace(`${f}: `, '') : 'unreadable'}; running shard ${i} again`);
    return null;
  }
}

/** Shards whose marker for this pass is present and intact. */
export function doneShards(outDir: string, plan: Plan, pass: number, final: boolean, log: (m: string) => void): Map<number, ShardStats> {
  const done = new Map<number, ShardStats>();
  for (const s of plan.shards) {
    const v = shardDone(outDir, pass, final, s.index, s.bytes, log);
    if (v) done.set(s.index, v);
  }
  return done;
}

/** Corpus step `pass`'s combined state if it was saved intact; a damaged file is reported and treated as absent. */
export function readGlobal(outDir: string, pass: number, log: (m: string) => void): { value: unknown } | null {
  const f = globalPath(outDir, pass);
  if (!existsSync(f)) return null;
  try {
    return { value: readChecked(f) };
  } catch (e) {
    // reported, then recomputed from the shard summaries: never a decision from a damaged file
    log(`warning: ${(e as Error).message}; combining the shard summaries again`);
    return null;
  }
}

/** The combined states of corpus steps 0..pass-1, which every shard of pass `pass` needs. */
export function globalsBefore(outDir: string, pass: number): unknown[] {
  const out: unknown[] = [];
  for (let p = 0; p < pass; p++) {
    const g = readGlobal(outDir, p, () => {});
    if (!g) throw new Error(`${globalPath(outDir, p)}: missing or damaged; corpus step ${p} must be combined before pass ${pass} runs`);
    out.push(g.value);
  }
  return out;
}

/** The shard summaries of pass `pass` (read in shard order) and the folder layout the corpus step's tasks use. */
export function passStates(outDir: string, plan: Plan, pass: number): { states: unknown[]; io: { dir: string; shards: string[] } } {
  return {
    states: plan.shards.map((s) => readChecked(shardMarker(outDir, pass, false, s.index))),
    io: { dir: passDir(outDir, pass), shards: plan.shards.map((s) => shardName(s.index)) },
  };
}

/** Shards whose observation files a corpus step finds damaged (each reported); they must be observed again. */
export function damagedShards(step: CorpusStep, outDir: string, plan: Plan, pass: number, log: (m: string) => void): number[] {
  if (!step.verify) return [];
  return plan.shards.filter((s) => {
    const problem = step.verify!(readChecked(shardMarker(outDir, pass, false, s.index)), { dir: passDir(outDir, pass), shard: shardName(s.index) });
    if (problem) log(`warning: ${problem}; observing shard ${s.index} again`);
    return problem !== null;
  }).map((s) => s.index);
}

/** The corpus step's parallel tasks that have not finished intact. */
export function pendingTasks(step: CorpusStep, io: { dir: string }): number[] {
  if (!step.tasks || !step.taskDone) return [];
  return Array.from({ length: step.tasks() }, (_, i) => i).filter((i) => !step.taskDone!(i, io));
}

/** Combines the shard summaries in shard order and saves the result (after the step's tasks, if any). */
export function combinePass(step: CorpusStep, outDir: string, plan: Plan, pass: number): unknown {
  const { states, io } = passStates(outDir, plan, pass);
  const g = step.combine(states, io);
  writeChecked(globalPath(outDir, pass), g);
  return g;
}

export interface Finalized {
  stats: ShardStats;
  statsFile: string;
  reportFile: string;
}

/**
 * Merges the final pass's shard statistics into stats.json and report.html, checks the
 * accounting identity, and writes _run/finished.json last.
 */
export function finalizeRun(recipe: Recipe, outDir: string, plan: Plan, globals: unknown[]): Finalized {
  const shardStats = plan.shards.map((s) => {
    const f = statsPath(outDir, s.index);
    if (!existsSync(f)) throw new Error(`${f}: missing; shard ${s.index} has not finished`);
    return JSON.parse(readFileSync(f, 'utf8')) as ShardStats;
  });
  const stats = mergeShardStats(shardStats);
  stats.warnings.unshift(...plan.warnings);
  const corpusReport: Record<string, Record<string, unknown>> = {};
  corpusStepsOf(recipe).forEach((cs, i) => {
    corpusReport[cs.name] = cs.summarize ? cs.summarize(globals[i], stats.samples?.[cs.name] ?? []) : {};
  });
  delete stats.samples;
  const acc = accounting(stats);
  const statsFile = join(outDir, 'stats.json');
  writeFileAtomic(statsFile, JSON.stringify({ recipe: recipe.name, recipeHash: plan.recipeHash, shards: plan.shards.length, accounting: acc, corpusSteps: corpusReport, ...stats }, null, 1));
  const reportFile = join(outDir, 'report.html');
  writeFileAtomic(reportFile, renderReport(recipe, stats, plan, corpusReport));
  if (!acc.balanced) throw new Error(`accounting identity broken: read ${acc.read} != kept ${acc.kept} + dropped ${acc.droppedTotal} + quarantined ${acc.quarantinedTotal}`);
  writeFileAtomic(finishedPath(outDir), JSON.stringify({ recipeHash: plan.recipeHash, shards: plan.shards.length, kept: acc.kept, read: acc.read }));
  return { stats, statsFile, reportFile };
}

/** sha256 over the run's output (data files, quarantine and drop logs), in sorted order: what "byte-identical" compares. */
export function outputDigest(outDir: string): string {
  const h = createHash('sha256');
  for (const sub of ['data', 'quarantine', 'dropped']) {
    const dir = join(outDir, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      h.update(`${sub}/${f}\n`);
      h.update(readFileSync(join(dir, f)));
    }
  }
  return h.digest('hex');
}
