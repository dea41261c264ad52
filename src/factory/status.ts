/**
 * `ziya factory status RUN`: every stage and every shard of a run, from its files, joined
 * with what the Slurm queue says of the latest submission when the run was submitted there.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { finishedPath, loadRun } from './runstate.js';
import { isActive, queueState, ranges, readAttempts, taskLog, type QueueEntry } from './slurm.js';
import { runStages } from './stages.js';

export interface ItemState {
  item: number;
  /** done, running, pending, failed (with the queue's state), or waiting (not submitted / not known to the queue) */
  state: string;
  job?: string;
  log?: string;
}

export interface StageStatus {
  name: string;
  unit: string;
  total: number;
  done: number;
  items: ItemState[];
}

export interface RunStatus {
  outDir: string;
  recipe: string;
  shards: number;
  finished: boolean;
  executor: 'local' | 'slurm';
  attempts: number;
  stages: StageStatus[];
  /** the queue could not be asked (no Slurm commands here): states come from the files only */
  queueError?: string;
}

export function runStatus(dir: string): RunStatus {
  const outDir = resolve(dir);
  const { recipe, plan } = loadRun(outDir);
  const attempts = readAttempts(outDir);
  const last = attempts.at(-1);
  let queue: QueueEntry[] = [];
  let queueError: string | undefined;
  if (last) {
    try {
      queue = queueState(last.stages.map((s) => s.jobId));
    } catch (e) {
      queueError = (e as Error).message;
    }
  }
  const byId = new Map(queue.map((q) => [q.id, q]));
  const stages = runStages(recipe, outDir, plan).map((s): StageStatus => {
    const sub = last?.stages.find((x) => x.name === s.name);
    const position = new Map(sub?.items.map((item, k) => [item, k]));
    const items = s.items.map((item): ItemState => {
      if (s.done.has(item)) return { item, state: 'done' };
      const k = position.get(item);
      if (!sub || k === undefined) return { item, state: 'waiting' };
      const id = sub.logPattern.includes('%j') ? sub.jobId : `${sub.jobId}_${Math.floor(k / sub.perTask)}`;
      const q = byId.get(id);
      const log = taskLog(sub, id);
      const withLog = existsSync(log) ? { log } : {};
      if (!q) return { item, state: 'waiting', job: id, ...withLog };
      if (q.state === 'RUNNING' || q.state === 'COMPLETING' || q.state === 'CONFIGURING') return { item, state: 'running', job: id, ...withLog };
      if (isActive(q)) return { item, state: 'pending', job: id };
      return { item, state: q.state === 'COMPLETED' ? 'waiting' : `failed: ${q.state}${q.reason && q.reason !== 'None' ? ` (${q.reason})` : ''}`, job: id, ...withLog };
    });
    return { name: s.name, unit: s.unit, total: s.items.length, done: s.done.size, items };
  });
  return { outDir, recipe: recipe.name, shards: plan.shards.length, finished: existsSync(finishedPath(outDir)), executor: attempts.length ? 'slurm' : 'local', attempts: attempts.length, stages, queueError };
}

export function formatStatus(st: RunStatus): string {
  const lines = [
    `run ${st.outDir}: recipe ${st.recipe}, ${st.shards} shards, ${st.executor}${st.attempts ? ` (${st.attempts} submission${st.attempts > 1 ? 's' : ''})` : ''}: ${st.finished ? 'finished' : 'not finished'}`,
  ];
  if (st.queueError) lines.push(`(queue not available: ${st.queueError})`);
  for (const s of st.stages) {
    const groups = new Map<string, ItemState[]>();
    for (const it of s.items) {
      const key = it.state;
      groups.set(key, [...(groups.get(key) ?? []), it]);
    }
    const parts = [...groups.entries()].map(([state, its]) => `${state} ${s.unit === 'job' ? '' : ranges(its.map((x) => x.item))}`.trim());
    lines.push(`  ${s.name.padEnd(12)} ${`${s.done}/${s.total}`.padStart(9)} ${s.unit}s  ${parts.join(' · ')}`);
    for (const it of s.items) if (it.state.startsWith('failed')) lines.push(`      ${s.unit} ${it.item}: job ${it.job} ${it.state}${it.log ? `; log ${it.log}` : ''}`);
  }
  if (!st.finished && st.executor === 'slurm') lines.push(`to continue: ziya factory run RECIPE --executor slurm --resume (submits only what is not done); outputs: ${join(st.outDir, 'data')}`);
  return lines.join('\n');
}
