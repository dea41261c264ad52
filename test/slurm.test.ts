/**
 * The factory on a real Slurm: scripts/slurm-cluster.sh starts munged, slurmctld and slurmd
 * on this machine (Debian's slurm-wlm and munge), a recipe with filtering and MinHash
 * de-duplication runs through it as chained job arrays, and its output is compared byte for
 * byte with the local executor's. Then a task is cancelled with scancel in the middle of a
 * shard and --resume must still give the same bytes. Skips, saying why, where Slurm is not
 * installed or the test cannot run daemons (not root).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeDemoInput } from '../src/demo/corpus.js';
import { runFactory } from '../src/factory/executor.js';
import { parseRecipe, type Recipe } from '../src/factory/recipe.js';
import { activeJobs, readAttempts, runFactorySlurm, SlurmError, taskLog } from '../src/factory/slurm.js';
import { formatStatus, runStatus } from '../src/factory/status.js';
import { readChecked } from '../src/io/writers.js';
import { shardMarker } from '../src/factory/runstate.js';
import { outputDigest, tmp } from './helpers.js';

const script = resolve('scripts/slurm-cluster.sh');
const probe = spawnSync('bash', [script, 'check'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `no single-node Slurm here: ${probe.stderr.trim()} (.ci/run installs slurm-wlm and munge when it runs as root)`;

const root = tmp('ziya-slurm-');
const clusterDir = join(root, 'cluster');
const input = join(root, 'input');
const ziya = [process.execPath, resolve('bin/ziya.js')];

function recipe(out: string): Recipe {
  return parseRecipe({
    name: 'slurm-test',
    input: { paths: [input], shardBytes: '1MB', maxRecordBytes: '2MB' },
    output: { dir: out, format: 'jsonl.gz', maxFileBytes: '400KB', writeDropped: true },
    steps: [
      { type: 'html_extract' }, { type: 'encoding' }, { type: 'normalize' }, { type: 't2s' }, { type: 'langid' },
      { type: 'doc_filter' }, { type: 'para_filter' }, { type: 'sentence_filter' }, { type: 'pii' },
      { type: 'minhash_dedup', bands: 6, rows: 8 },
    ],
  }, 'slurm-test', root);
}

/** Everything a run decided, minus where it was written: its combined states with the folder path taken out. */
function globals(out: string): string {
  const dir = join(out, '_run');
  return readdirSync(dir).filter((d) => d.startsWith('pass-')).sort().map((d) => {
    const g = readChecked(join(dir, d, 'global.json')) as Record<string, unknown>;
    return JSON.stringify(g).split(out).join('<out>');
  }).join('\n');
}

function accountingOf(out: string): unknown {
  return (JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { accounting: unknown }).accounting;
}

let local = '';
let localSeconds = 0;

before(async () => {
  if (skip) return;
  await writeDemoInput(input, { scale: 0.6 });
  const out = execFileSync('bash', [script, 'start', clusterDir], { encoding: 'utf8' });
  process.env.SLURM_CONF = /SLURM_CONF=(\S+)/.exec(out)![1];
  local = join(root, 'local');
  const t0 = Date.now();
  await runFactory(recipe(local), { workers: 2, quiet: true });
  localSeconds = (Date.now() - t0) / 1000;
});

after(() => {
  if (!skip) spawnSync('bash', [script, 'stop', clusterDir], { stdio: 'inherit' });
});

test('a Slurm run (job arrays chained with afterok) writes exactly the bytes of the local executor', { skip, timeout: 600_000 }, async (t) => {
  const out = join(root, 'slurm');
  const t0 = Date.now();
  const r = await runFactorySlurm(recipe(out), { pollSeconds: 0.5, quiet: true, log: () => {}, ziyaCommand: ziya, maxParallel: 2, partition: 'debug', time: '20:00', mem: '1G', cpusPerTask: 1, sbatchArgs: ['--comment=ziya-test'] });
  const seconds = (Date.now() - t0) / 1000;
  t.diagnostic(`wall time: local executor ${localSeconds.toFixed(1)} s (2 worker threads), Slurm ${seconds.toFixed(1)} s (2 CPUs, one task per shard); ${r.plan.shards.length} shards, ${(r.plan.totalBytes / 1e6).toFixed(1)} MB`);
  assert.equal(outputDigest(out), outputDigest(local));
  assert.equal(globals(out), globals(local));
  assert.deepEqual(accountingOf(out), accountingOf(local));
  // the scripts are kept with the run: one per stage, an array over shards or tasks, chained
  const attempt = readAttempts(out)[0]!;
  assert.deepEqual(attempt.stages.map((s) => s.name), ['p0-observe', 'p0-tasks', 'p0-combine', 'write', 'finalize']);
  const observe = readFileSync(attempt.stages[0]!.script, 'utf8');
  assert.match(observe, new RegExp(`#SBATCH --array=0-${r.plan.shards.length - 1}%2`));
  for (const line of ['#SBATCH --partition=debug', '#SBATCH --time=20:00', '#SBATCH --mem=1G', '#SBATCH --cpus-per-task=1', '#SBATCH --comment=ziya-test']) assert.ok(observe.includes(line), line);
  assert.match(readFileSync(attempt.stages[1]!.script, 'utf8'), /#SBATCH --array=0-5%2\n/);
  assert.match(readFileSync(attempt.stages[3]!.script, 'utf8'), new RegExp(`#SBATCH --dependency=afterok:${attempt.stages[2]!.jobId}\\n#SBATCH --kill-on-invalid-dep=yes`));
  // status: every stage complete; running again submits nothing
  const st = runStatus(out);
  assert.ok(st.finished && st.stages.every((s) => s.done === s.total), formatStatus(st));
  const again = await runFactorySlurm(recipe(out), { quiet: true, ziyaCommand: ziya, log: () => {} });
  assert.equal(again.attempt, null);
});

test('a task cancelled with scancel in the middle of a shard, then --resume: the same bytes, nothing lost or twice', { skip, timeout: 600_000 }, async () => {
  const out = join(root, 'fault');
  const rec = recipe(out);
  const sub = await runFactorySlurm(rec, { detach: true, quiet: true, ziyaCommand: ziya, maxParallel: 2, log: () => {} });
  const write = sub.attempt!.stages.find((s) => s.name === 'write')!;
  // wait for a write task that has started its shard and not committed it, and cancel it there
  let killed: { shard: number; task: string } | null = null;
  const deadline = Date.now() + 300_000;
  while (!killed && Date.now() < deadline) {
    for (let k = 0; k < write.items.length && !killed; k++) {
      const shard = write.items[k]!;
      const log = taskLog(write, `${write.jobId}_${k}`);
      if (!existsSync(log) || !/: started/.test(readFileSync(log, 'utf8'))) continue;
      if (existsSync(shardMarker(out, 1, true, shard))) continue;
      execFileSync('scancel', [`${write.jobId}_${k}`]);
      killed = { shard, task: `${write.jobId}_${k}` };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(killed, 'no write task was caught in the middle of its shard');
  while (activeJobs(out).length) await new Promise((r) => setTimeout(r, 500));
  // the shard was really cut short: no commit marker, and the run did not finish
  assert.ok(!existsSync(shardMarker(out, 1, true, killed.shard)), `shard ${killed.shard} committed before the cancel landed`);
  const st = runStatus(out);
  assert.equal(st.finished, false);
  const writeStatus = st.stages.find((s) => s.name === 'write')!;
  assert.ok(writeStatus.done < writeStatus.total);
  assert.match(formatStatus(st), new RegExp(`shard ${killed.shard}: job ${killed.task} failed: CANCELLED`));
  // without --resume the unfinished run is not submitted again by accident
  await assert.rejects(runFactorySlurm(rec, { quiet: true, ziyaCommand: ziya, log: () => {} }), (e: Error) => e instanceof SlurmError && /--resume/.test(e.message));
  const resumed = await runFactorySlurm(rec, { resume: true, pollSeconds: 0.5, quiet: true, ziyaCommand: ziya, maxParallel: 2, log: () => {} });
  // only what did not finish was submitted: the observation stages were complete
  assert.deepEqual(resumed.attempt!.stages.map((s) => s.name), ['write', 'finalize']);
  assert.ok(resumed.attempt!.stages[0]!.items.includes(killed.shard));
  assert.ok(resumed.attempt!.stages[0]!.items.length < write.items.length);
  assert.equal(outputDigest(out), outputDigest(local));
  assert.equal(globals(out), globals(local));
  assert.deepEqual(accountingOf(out), accountingOf(local));
  // nothing half-written is left behind
  for (const sub of ['data', 'quarantine', 'dropped']) for (const f of readdirSync(join(out, sub))) assert.doesNotMatch(f, /\.tmp/);
});
