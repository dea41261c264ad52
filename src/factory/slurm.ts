/**
 * Slurm executor: each stage of a run (stages.ts) becomes one `sbatch` job, a job array
 * over its shards or tasks, chained with `afterok` dependencies; the tasks run
 * `ziya factory slurm-task` on the nodes and meet only through the run's folder, which
 * must be on storage every node sees. The scripts and logs are kept in `_run/slurm/`,
 * every submission (attempt) in `_run/slurm/jobs.json`. A resumed run submits only the
 * items whose commit markers are missing, so its output is byte-for-byte the output of
 * an uninterrupted run, and the output of the local executor.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShardStats } from '../core/stats.js';
import { writeFileAtomic } from '../io/writers.js';
import { Progress } from '../ui/progress.js';
import type { Plan } from './plan.js';
import { resolveFrom, type Recipe } from './recipe.js';
import { finishedPath, openRun, runDir } from './runstate.js';
import { runStages, type Stage } from './stages.js';

export interface SlurmOptions {
  partition?: string;
  /** time limit per task, in any form sbatch takes (e.g. 2:00:00) */
  time?: string;
  /** memory per task, as sbatch's --mem (e.g. 4G) */
  mem?: string;
  cpusPerTask?: number;
  /** most array tasks of one stage running at once (sbatch --array=…%N) */
  maxParallel?: number;
  /** further sbatch arguments, one per element (e.g. "--qos=low", "--account=data") */
  sbatchArgs?: string[];
  /** continue a run that has earlier Slurm submissions: submit only what did not finish */
  resume?: boolean;
  /** delete an existing run of a different recipe or input in the output folder */
  force?: boolean;
  /** submit and return without waiting */
  detach?: boolean;
  /** seconds between looks at the queue while waiting (default 5) */
  pollSeconds?: number;
  quiet?: boolean;
  log?: (m: string) => void;
  /** the command that starts ziya on a node (default: this Node.js and this installation's bin/ziya.js) */
  ziyaCommand?: string[];
}

export interface SubmittedStage {
  name: string;
  jobId: string;
  /** the items (shards, tasks) this submission covers, in array order */
  items: number[];
  /** items per array task (more than one when a stage has more items than the cluster's MaxArraySize) */
  perTask: number;
  script: string;
  logPattern: string;
}

export interface Attempt {
  attempt: number;
  submitted: string;
  stages: SubmittedStage[];
}

export interface SlurmRunResult {
  outDir: string;
  plan: Plan;
  attempt: Attempt | null;
  /** present when the run finished (always, unless detached) */
  stats?: ShardStats;
  statsFile?: string;
  reportFile?: string;
  seconds: number;
}

export class SlurmError extends Error {}

const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD']);

/** Runs a Slurm command; failures become errors that name the command and show what it said. */
function slurm(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT') throw new SlurmError(`${cmd} not found: the Slurm client commands must be on PATH (and SLURM_CONF set if the cluster's configuration is not in /etc/slurm)`);
    throw new SlurmError(`${cmd} ${args.join(' ')}: ${(err.stderr ?? '').trim() || err.message}`);
  }
}

export interface QueueEntry {
  /** 123 for a single job, 123_4 for an array task, 123_[5-9] for pending tasks not yet split */
  id: string;
  state: string;
  reason: string;
}

/** What the queue knows of these jobs (array tasks expanded). Jobs the controller has forgotten are simply absent. */
export function queueState(jobIds: string[]): QueueEntry[] {
  if (!jobIds.length) return [];
  let out: string;
  try {
    out = slurm('squeue', ['-h', '-r', '-t', 'all', '-j', jobIds.join(','), '-o', '%i|%T|%r']);
  } catch (e) {
    if (/Invalid job id/i.test((e as Error).message)) return [];
    throw e;
  }
  return out.split('\n').filter(Boolean).map((l) => {
    const [id, state, reason] = l.split('|');
    return { id: id!.trim(), state: state!.trim(), reason: (reason ?? '').trim() };
  });
}

export function isActive(q: QueueEntry): boolean {
  return ACTIVE.has(q.state) && !(q.state === 'PENDING' && /DependencyNeverSatisfied/.test(q.reason));
}

export function jobsFile(outDir: string): string {
  return join(runDir(outDir), 'slurm', 'jobs.json');
}

export function readAttempts(outDir: string): Attempt[] {
  const f = jobsFile(outDir);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { attempts: Attempt[] }).attempts : [];
}

function defaultZiyaCommand(): string[] {
  // dist/src/factory/slurm.js → bin/ziya.js
  return [process.execPath, resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/ziya.js')];
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function maxArraySize(): number {
  try {
    const m = /MaxArraySize\s*=\s*(\d+)/.exec(slurm('scontrol', ['show', 'config']));
    if (m) return Number(m[1]);
  } catch {
    /* the default below */
  }
  return 1001;
}

/** The sbatch script of one stage. */
function stageScript(a: { recipe: Recipe; outDir: string; stage: Stage; attempt: number; items: number[]; perTask: number; opts: SlurmOptions; dependency?: string; itemsFile: string; logPattern: string }): string {
  const { stage, opts } = a;
  const tasks = Math.ceil(a.items.length / a.perTask);
  const array = stage.kind === 'combine' || stage.kind === 'finalize' ? null : `0-${tasks - 1}${opts.maxParallel ? `%${opts.maxParallel}` : ''}`;
  const name = `ziya-${a.recipe.name.replace(/[^\w.-]+/g, '_')}-${stage.name}`;
  const lines = [
    '#!/bin/bash',
    `# ziya factory: stage ${stage.name} of ${a.outDir} (attempt ${a.attempt}); ${a.items.length} ${stage.unit}(s)${array ? `, ${a.perTask} per array task` : ''}`,
    `#SBATCH --job-name=${name}`,
    `#SBATCH --output=${a.logPattern}`,
    `#SBATCH --chdir=${a.recipe.baseDir}`,
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${opts.cpusPerTask ?? 1}`,
  ];
  if (array) lines.push(`#SBATCH --array=${array}`);
  if (opts.partition) lines.push(`#SBATCH --partition=${opts.partition}`);
  if (opts.time) lines.push(`#SBATCH --time=${opts.time}`);
  if (opts.mem) lines.push(`#SBATCH --mem=${opts.mem}`);
  if (a.dependency) lines.push(`#SBATCH --dependency=afterok:${a.dependency}`, '#SBATCH --kill-on-invalid-dep=yes');
  for (const x of opts.sbatchArgs ?? []) lines.push(`#SBATCH ${x}`);
  const cmd = [...(opts.ziyaCommand ?? defaultZiyaCommand()), 'factory', 'slurm-task', a.outDir, '--stage', stage.name, '--items', a.itemsFile, '--per-task', String(a.perTask)];
  lines.push('set -euo pipefail', `echo "ziya: stage ${stage.name} task \${SLURM_ARRAY_TASK_ID:-0} of job \${SLURM_JOB_ID} on $(hostname)"`, `exec ${cmd.map(shellQuote).join(' ')}`, '');
  return lines.join('\n');
}

/** Job ids of every submission of this run that the queue still has pending or running. */
export function activeJobs(outDir: string): QueueEntry[] {
  const ids = readAttempts(outDir).flatMap((a) => a.stages.map((s) => s.jobId));
  return queueState(ids).filter(isActive);
}

/**
 * Submits what is left of a run as chained job arrays and, unless detached, waits for it,
 * showing progress; returns the merged statistics when it finished, throws a SlurmError
 * that says which stage and task failed (with their logs) when it did not.
 */
export async function runFactorySlurm(recipe: Recipe, opts: SlurmOptions = {}): Promise<SlurmRunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const t0 = Date.now();
  const outDir = resolve(resolveFrom(recipe.baseDir, recipe.output.dir));
  // never touch a folder that tasks of an earlier submission are still writing to
  if (existsSync(jobsFile(outDir))) {
    const live = activeJobs(outDir);
    if (live.length) throw new SlurmError(`${outDir}: ${live.length} job(s) of an earlier submission are still queued or running (${[...new Set(live.map((q) => q.id.split('_')[0]))].join(', ')}); wait for them (ziya factory status ${outDir}) or cancel them with scancel, then run again with --resume`);
  }
  const { plan } = openRun(recipe, { force: opts.force, log });
  const attempts = readAttempts(outDir); // empty again if --force deleted a different run
  const stages = runStages(recipe, outDir, plan);
  const todo = stages.map((s) => ({ stage: s, items: s.items.filter((i) => !s.done.has(i)) })).filter((x) => x.items.length);
  if (!todo.length) {
    log(`${outDir}: the run is complete; nothing to submit`);
    return { outDir, plan, attempt: null, ...finished(outDir), seconds: (Date.now() - t0) / 1000 };
  }
  if (attempts.length && !opts.resume) throw new SlurmError(`${outDir}: an earlier Slurm submission of this run did not finish (attempt ${attempts.length}); run the same command with --resume to submit only what is left, or see ziya factory status ${outDir}`);
  rmSync(finishedPath(outDir), { force: true });

  const attemptNo = attempts.length + 1;
  const dir = join(runDir(outDir), 'slurm');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const maxArray = Math.max(1, maxArraySize() - 1);
  const attempt: Attempt = { attempt: attemptNo, submitted: new Date().toISOString(), stages: [] };
  let dependency: string | undefined;
  try {
    for (const { stage, items } of todo) {
      // a bucket task is small next to a shard: no more of them in one stage than there are shards,
      // so that task start-up does not dominate on small runs
      const perTask = Math.max(Math.ceil(items.length / maxArray), stage.kind === 'tasks' ? Math.ceil(items.length / plan.shards.length) : 1);
      const base = join(dir, `a${attemptNo}-${stage.name}`);
      const itemsFile = `${base}.items`;
      const single = stage.kind === 'combine' || stage.kind === 'finalize';
      const logPattern = join(dir, 'logs', `a${attemptNo}-${stage.name}-${single ? '%j' : '%A_%a'}.log`);
      writeFileSync(itemsFile, items.join('\n') + '\n');
      const script = stageScript({ recipe, outDir, stage, attempt: attemptNo, items, perTask, opts, dependency, itemsFile, logPattern });
      writeFileSync(`${base}.sbatch`, script);
      const jobId = slurm('sbatch', ['--parsable', `${base}.sbatch`]).trim().split(';')[0]!;
      if (!/^\d+$/.test(jobId)) throw new SlurmError(`sbatch ${base}.sbatch: unexpected answer "${jobId}"`);
      attempt.stages.push({ name: stage.name, jobId, items, perTask, script: `${base}.sbatch`, logPattern });
      dependency = jobId;
    }
  } finally {
    // recorded even when a later sbatch failed, so that status and the next --resume know what is queued
    if (attempt.stages.length) writeFileAtomic(jobsFile(outDir), JSON.stringify({ attempts: [...attempts, attempt] }, null, 1));
  }
  log(`submitted attempt ${attemptNo}: ${attempt.stages.map((s) => `${s.name} (job ${s.jobId}, ${s.items.length})`).join(' → ')}`);
  if (opts.detach) return { outDir, plan, attempt, seconds: (Date.now() - t0) / 1000 };
  await waitForRun(recipe, outDir, plan, attempt, opts, log);
  return { outDir, plan, attempt, ...finished(outDir), seconds: (Date.now() - t0) / 1000 };
}

function finished(outDir: string): { stats: ShardStats; statsFile: string; reportFile: string } {
  const statsFile = join(outDir, 'stats.json');
  return { stats: JSON.parse(readFileSync(statsFile, 'utf8')) as ShardStats, statsFile, reportFile: join(outDir, 'report.html') };
}

/** Waits until the attempt's jobs have left the queue; progress from the run's files, failures from the queue. */
async function waitForRun(recipe: Recipe, outDir: string, plan: Plan, attempt: Attempt, opts: SlurmOptions, log: (m: string) => void): Promise<void> {
  const poll = (opts.pollSeconds ?? 5) * 1000;
  const ids = attempt.stages.map((s) => s.jobId);
  const shardStages = runStages(recipe, outDir, plan).filter((s) => s.unit === 'shard').length;
  const total = plan.totalBytes * shardStages;
  const bytesOf = new Map(plan.shards.map((s) => [s.index, s.bytes]));
  const tty = process.stderr.isTTY;
  const t0 = Date.now();
  let startBytes = -1;
  let lastLine = '';
  let lastPrint = 0;
  let lastQueue: QueueEntry[] = [];
  for (;;) {
    const queue = queueState(ids);
    lastQueue = queue.length ? queue : lastQueue;
    const stages = runStages(recipe, outDir, plan);
    if (!opts.quiet) {
      // progress: shard stages weighted by bytes; rate and ETA over what this attempt did
      let bytes = 0;
      for (const s of stages) if (s.unit === 'shard') for (const i of s.done) bytes += bytesOf.get(i) ?? 0;
      if (startBytes < 0) startBytes = bytes;
      const el = (Date.now() - t0) / 1000;
      const rate = (bytes - startBytes) / Math.max(el, 1e-3);
      const current = stages.find((s) => s.done.size < s.items.length);
      const running = queue.filter((q) => q.state === 'RUNNING').length;
      const pending = queue.filter((q) => q.state === 'PENDING' && isActive(q)).length;
      const line = `[slurm ${recipe.name}] ${(total ? (100 * bytes) / total : 100).toFixed(1).padStart(5)}% | ${current ? `${current.name} ${current.done.size}/${current.items.length} ${current.unit}s` : 'finishing'} | tasks running ${running}, pending ${pending} | ${(rate / 1e6).toFixed(2)} MB/s | ETA ${rate > 0 ? Progress.fmtTime((total - bytes) / rate) : '--:--'}`;
      const now = Date.now();
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      else if (line.replace(/ \| [\d.]+ MB\/s.*/, '') !== lastLine.replace(/ \| [\d.]+ MB\/s.*/, '') || now - lastPrint > 60_000) {
        process.stderr.write(line + '\n');
        lastPrint = now;
      }
      lastLine = line;
    }
    if (existsSync(finishedPath(outDir)) && statSync(finishedPath(outDir)).mtimeMs >= Date.parse(attempt.submitted) - 1000) {
      if (tty && !opts.quiet) process.stderr.write('\n');
      return;
    }
    if (!queue.some(isActive)) {
      // nothing of this attempt is queued or running any more, and the run is not finished
      if (existsSync(finishedPath(outDir))) return;
      throw new SlurmError(failureReport(outDir, stages, attempt, lastQueue));
    }
    await new Promise((r) => setTimeout(r, poll));
  }
}

/** Which stage stopped the run, which tasks failed and where their logs are. */
export function failureReport(outDir: string, stages: Stage[], attempt: Attempt, queue: QueueEntry[]): string {
  const first = stages.find((s) => s.done.size < s.items.length);
  const lines = [`the Slurm run of ${outDir} did not finish (attempt ${attempt.attempt})`];
  if (first) lines.push(`stage ${first.name}: ${first.done.size} of ${first.items.length} ${first.unit}s done; not done: ${ranges(first.items.filter((i) => !first.done.has(i)))}`);
  const ended = queue.filter((q) => !isActive(q) && q.state !== 'COMPLETED');
  const dependents = ended.filter((q) => /Dependency/.test(q.reason));
  const bad = ended.filter((q) => !/Dependency/.test(q.reason));
  for (const q of bad.slice(0, 20)) {
    const sub = attempt.stages.find((s) => s.jobId === q.id.split('_')[0]);
    const logFile = sub ? taskLog(sub, q.id) : '';
    lines.push(`  job ${q.id}${sub ? ` (${sub.name})` : ''}: ${q.state}${q.reason && q.reason !== 'None' ? ` (${q.reason})` : ''}${logFile && existsSync(logFile) ? `; log ${logFile}${lastLogLine(logFile)}` : ''}`);
  }
  if (bad.length > 20) lines.push(`  … and ${bad.length - 20} more`);
  if (dependents.length) lines.push(`  ${dependents.length} task(s) of later stages cancelled because a stage they depend on failed`);
  lines.push('fix the cause, then run the same command with --resume: only what did not finish is submitted again');
  return lines.join('\n');
}

/** The last line a failed task wrote (usually its error), for the failure report. */
function lastLogLine(file: string): string {
  const last = readFileSync(file, 'utf8').trimEnd().split('\n').filter((l) => !/^\s+at /.test(l)).at(-1) ?? '';
  return last ? `: ${last.slice(0, 300)}` : '';
}

/** The log file of one task of a submitted stage (a job id 123, or an array task 123_4). */
export function taskLog(sub: SubmittedStage, id: string): string {
  const [job, task] = id.split('_');
  return sub.logPattern.replace('%j', job!).replace('%A', job!).replace('%a', task ?? '');
}

/** 0-3,5,7-9 */
export function ranges(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(j > i ? `${s[i]}-${s[j]}` : String(s[i]));
    i = j + 1;
  }
  return out.join(',') || '-';
}

/** The items one array task of a stage runs (read from the items file the submission wrote). */
export function taskItems(itemsFile: string, perTask: number, taskIndex: number): number[] {
  const all = readFileSync(itemsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  const mine = all.slice(taskIndex * perTask, (taskIndex + 1) * perTask);
  if (!mine.length) throw new Error(`${itemsFile}: array task ${taskIndex} has no items (${all.length} items, ${perTask} per task)`);
  return mine;
}
