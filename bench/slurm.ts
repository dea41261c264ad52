/**
 * bench/slurm: the same recipe (preprocessing, rule filtering, MinHash de-duplication) over
 * the shared Chinese and English text, once with the local executor (one worker thread per
 * core) and once through a single-node Slurm on this machine (scripts/slurm-cluster.sh: one
 * job array per stage, one task per shard, as many tasks at once as cores). Prints both
 * wall times, checks that the outputs are byte-identical, and ends with the JSON line.
 * The ratio (Slurm / local) is the price of the scheduler on one node: task start-up, the
 * scheduler's cycle, stage barriers; on a cluster the same stages spread over many nodes.
 *
 *   node dist/bench/slurm.js [--shard-mb 8] [--passes 1]
 *
 * Needs root, slurm-wlm and munge (it skips, saying so, without them) and ../shared/data.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedAvailable, sharedDocs, SHARED } from './corpus.js';
import { parseRecipe, type Recipe } from '../src/factory/recipe.js';
import { runFactory } from '../src/factory/executor.js';
import { runFactorySlurm } from '../src/factory/slurm.js';
import { outputDigest } from '../src/factory/runstate.js';

const ROOT = join(tmpdir(), 'ziya-bench-slurm');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

function buildInput(passes: number): { dir: string; bytes: number } {
  const dir = join(ROOT, `input-x${passes}`);
  if (!existsSync(join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (let p = 0; p < passes; p++) for (const d of sharedDocs()) lines.push(JSON.stringify({ id: `${d.id}#${p}`, text: d.text, meta: { source: d.source } }) + '\n');
    writeFileSync(join(dir, 'corpus.jsonl'), lines.join(''));
    writeFileSync(join(dir, '.complete'), '');
  }
  let bytes = 0;
  for (const f of readdirSync(dir)) if (f.endsWith('.jsonl')) bytes += statSync(join(dir, f)).size;
  return { dir, bytes };
}

function recipe(input: string, out: string, shardMB: number): Recipe {
  return parseRecipe({
    name: 'bench-slurm',
    input: { paths: [input], shardBytes: `${shardMB}MB` },
    output: { dir: out, format: 'jsonl.gz', maxFileBytes: '256MB' },
    steps: [
      { type: 'encoding' }, { type: 'normalize' }, { type: 't2s' }, { type: 'langid', keep: ['zh', 'en'] },
      { type: 'doc_filter' }, { type: 'para_filter' }, { type: 'sentence_filter' }, { type: 'pii' },
      { type: 'minhash_dedup' },
    ],
  }, 'bench-slurm', ROOT);
}

async function main(): Promise<void> {
  const script = resolve('scripts/slurm-cluster.sh');
  const probe = spawnSync('bash', [script, 'check'], { encoding: 'utf8' });
  const skip = (reason: string) => {
    process.stdout.write(`bench/slurm: skipped: ${reason}\n`);
    process.stdout.write(JSON.stringify({ name: 'slurm_vs_local_wall', skipped: true, reason }) + '\n');
  };
  if (probe.status !== 0) return skip(probe.stderr.trim());
  if (!sharedAvailable()) return skip(`shared data not found at ${SHARED} (set ZIYA_SHARED_DATA)`);
  const shardMB = arg('--shard-mb', 8);
  const inp = buildInput(arg('--passes', 1));
  const cores = availableParallelism();
  process.stderr.write(`input: ${(inp.bytes / 1e6).toFixed(1)} MB, shards of ${shardMB} MB, ${cores} cores\n`);

  const localOut = join(ROOT, 'out-local');
  rmSync(localOut, { recursive: true, force: true });
  let t0 = performance.now();
  const lr = await runFactory(recipe(inp.dir, localOut, shardMB), { workers: cores, quiet: true });
  const local = (performance.now() - t0) / 1000;
  process.stderr.write(`local executor: ${local.toFixed(1)} s (${lr.plan.shards.length} shards, ${cores} worker threads)\n`);

  const cluster = join(ROOT, 'cluster');
  rmSync(cluster, { recursive: true, force: true });
  const started = execFileSync('bash', [script, 'start', cluster], { encoding: 'utf8' });
  process.env.SLURM_CONF = /SLURM_CONF=(\S+)/.exec(started)![1];
  let slurm = 0;
  let identical = false;
  try {
    const slurmOut = join(ROOT, 'out-slurm');
    rmSync(slurmOut, { recursive: true, force: true });
    t0 = performance.now();
    await runFactorySlurm(recipe(inp.dir, slurmOut, shardMB), { pollSeconds: 1, maxParallel: cores });
    slurm = (performance.now() - t0) / 1000;
    identical = outputDigest(slurmOut) === outputDigest(localOut);
    process.stderr.write(`slurm executor: ${slurm.toFixed(1)} s; output byte-identical to the local run: ${identical}\n`);
  } finally {
    spawnSync('bash', [script, 'stop', cluster], { stdio: 'inherit' });
  }
  if (!identical) throw new Error('the Slurm output differs from the local output');
  process.stdout.write(`\nexecutor   wall s   MB/s\nlocal    ${local.toFixed(1).padStart(8)} ${(inp.bytes / 1e6 / local).toFixed(2).padStart(6)}\nslurm    ${slurm.toFixed(1).padStart(8)} ${(inp.bytes / 1e6 / slurm).toFixed(2).padStart(6)}\n`);
  process.stdout.write(JSON.stringify({ name: 'slurm_vs_local_wall', value: Number(slurm.toFixed(1)), unit: 's', peer: 'local executor, same recipe and input', peer_value: Number(local.toFixed(1)), ratio: Number((slurm / local).toFixed(3)), input_mb: Number((inp.bytes / 1e6).toFixed(1)), shards: lr.plan.shards.length, cores, byte_identical: identical }) + '\n');
}

await main();
