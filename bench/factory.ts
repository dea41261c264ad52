/**
 * bench/factory: preprocessing + rule filtering over the shared Chinese and
 * English text (../shared/data), at two input sizes (1 and 3 passes over the
 * ~40 MB corpus, the second over 100 MB) to show that memory stays flat, with
 * one worker (MB/s per core) and with one worker per core.
 *
 *   node dist/bench/factory.js            # all runs
 *   node dist/bench/factory.js --quick    # one pass only
 *
 * The peer: datatrove cannot be installed on this machine (no PyPI), so the
 * figure compared against is the goal of 20 MB/s per core; for scale,
 * datatrove's MinHash signature step alone runs at ~0.8 MB/s per core here
 * (../shared/reference/pipeline-anchors.md, measured on this kind of machine).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedAvailable, sharedDocs, SHARED } from './corpus.js';

const ROOT = join(tmpdir(), 'ziya-bench-factory');

function buildInput(passes: number): { dir: string; bytes: number; docs: number } {
  const dir = join(ROOT, `input-x${passes}`);
  const done = join(dir, '.complete');
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    let part = 0;
    let buf: string[] = [];
    let size = 0;
    const flush = () => {
      if (!buf.length) return;
      writeFileSync(join(dir, `part-${String(part++).padStart(3, '0')}.jsonl`), buf.join(''));
      buf = [];
      size = 0;
    };
    for (let p = 0; p < passes; p++) {
      for (const d of sharedDocs()) {
        const line = JSON.stringify({ id: `${d.id}#${p}`, text: d.text, meta: { source: d.source } }) + '\n';
        buf.push(line);
        size += line.length;
        if (size > 8 << 20) flush();
      }
    }
    flush();
    writeFileSync(done, '');
  }
  let bytes = 0;
  for (const f of readdirSync(dir)) if (f.endsWith('.jsonl')) bytes += statSync(join(dir, f)).size;
  return { dir, bytes, docs: 0 };
}

interface ChildResult { seconds: number; bytes: number; docs: number; kept: number; maxRssMB: number; workers: number; cpuSeconds: number }

const ALL_STEPS = [
  { type: 'encoding' }, { type: 'normalize' }, { type: 't2s' }, { type: 'langid', keep: ['zh', 'en'] },
  { type: 'doc_filter' }, { type: 'para_filter' }, { type: 'sentence_filter' }, { type: 'pii' },
];

async function child(inputDir: string, workers: number, ioOnly: boolean): Promise<void> {
  const { parseRecipe } = await import('../src/factory/recipe.js');
  const { runFactory } = await import('../src/factory/executor.js');
  const out = join(ROOT, `out-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const recipe = parseRecipe({
    name: 'bench',
    input: { paths: [inputDir], shardBytes: '16MB' },
    output: { dir: out, format: 'jsonl', maxFileBytes: '256MB' },
    executor: { workers, progressSeconds: 10 },
    // io-only: the executor reading, checking the encoding and writing, the ceiling for any recipe
    steps: ioOnly ? ALL_STEPS.slice(0, 1) : ALL_STEPS,
  }, 'bench', process.cwd());
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await runFactory(recipe, { workers, quiet: true });
  const seconds = (performance.now() - t0) / 1000;
  // CPU time of every thread of the process (workers, the main thread, the garbage collector's
  // and libuv's helpers): one worker keeps more than one core partly busy
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  rmSync(out, { recursive: true, force: true });
  const res: ChildResult = { seconds, bytes: r.stats.bytesRead, docs: r.stats.read, kept: r.stats.kept, maxRssMB: process.resourceUsage().maxRSS / 1024, workers, cpuSeconds };
  process.stdout.write(JSON.stringify(res) + '\n');
}

function runChild(inputDir: string, workers: number, ioOnly = false): ChildResult {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', inputDir, String(workers), ioOnly ? 'io' : 'all'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!, Number(args[2]), args[3] === 'io');
  if (!sharedAvailable()) {
    process.stdout.write(`bench/factory: skipped: shared data not found at ${SHARED} (set ZIYA_SHARED_DATA)\n`);
    process.stdout.write(JSON.stringify({ name: 'factory_mb_per_s_per_core', skipped: true, reason: 'shared data absent' }) + '\n');
    return;
  }
  if (args.includes('--inputs-only')) {
    for (const p of [1, 3]) buildInput(p);
    return;
  }
  const quick = args.includes('--quick');
  const GOAL = 20;
  const rows: (ChildResult & { label: string })[] = [];
  const sizes = quick ? [1] : [1, 3];
  for (const passes of sizes) {
    const inp = buildInput(passes);
    process.stderr.write(`input x${passes}: ${(inp.bytes / 1e6).toFixed(1)} MB in ${inp.dir}\n`);
    if (passes === 1) rows.push({ label: 'x1, io only', ...runChild(inp.dir, 1, true) });
    rows.push({ label: `x${passes}, 1 worker`, ...runChild(inp.dir, 1) });
    if (passes === sizes[sizes.length - 1] && availableParallelism() > 1) rows.push({ label: `x${passes}, ${availableParallelism()} workers`, ...runChild(inp.dir, availableParallelism()) });
  }
  process.stdout.write('\nrun                 input MB   docs      kept      s       MB/s   MB/s/core  docs/s   peak RSS MB   CPU s  MB/CPU-s\n');
  for (const r of rows) {
    const mbs = r.bytes / 1e6 / r.seconds;
    process.stdout.write(`${r.label.padEnd(20)}${(r.bytes / 1e6).toFixed(1).padStart(8)} ${String(r.docs).padStart(8)} ${String(r.kept).padStart(8)} ${r.seconds.toFixed(1).padStart(7)} ${mbs.toFixed(1).padStart(8)} ${(mbs / r.workers).toFixed(1).padStart(9)} ${Math.round(r.docs / r.seconds).toString().padStart(8)} ${r.maxRssMB.toFixed(0).padStart(10)} ${r.cpuSeconds.toFixed(1).padStart(9)} ${(r.bytes / 1e6 / r.cpuSeconds).toFixed(1).padStart(8)}\n`);
  }
  const io = rows.find((r) => r.label === 'x1, io only')!;
  const ioRate = io.bytes / 1e6 / io.seconds;
  const single = rows.filter((r) => r.workers === 1 && r !== io);
  const perCore = single[single.length - 1]!.bytes / 1e6 / single[single.length - 1]!.seconds;
  const rss = single.map((r) => r.maxRssMB.toFixed(0)).join(' / ');
  const last = single[single.length - 1]!;
  const perCpuSecond = last.bytes / 1e6 / last.cpuSeconds;
  process.stdout.write(`\nreading + writing alone (the encoding check as the only step): ${ioRate.toFixed(1)} MB/s per core; at ${GOAL} MB/s the steps would have ${Math.max(0, 1 / GOAL - 1 / ioRate).toFixed(3)} s per MB (now ${(1 / perCore - 1 / ioRate).toFixed(3)})\n`);
  process.stdout.write(`MB/s per core ${perCore.toFixed(1)} vs goal ${GOAL} (ratio ${(perCore / GOAL).toFixed(2)}); counting every thread's CPU time, ${perCpuSecond.toFixed(1)} MB per CPU-second; peak RSS at ${single.map((r) => (r.bytes / 1e6).toFixed(0) + ' MB').join(' / ')} of input: ${rss} MB\n`);
  process.stdout.write(JSON.stringify({ name: 'factory_preprocess_filter_mb_per_s_per_core', value: Number(perCore.toFixed(2)), unit: 'MB/s/core', peer: 'goal (datatrove not installable here)', peer_value: GOAL, ratio: Number((perCore / GOAL).toFixed(3)), docs_per_s: Math.round(single[single.length - 1]!.docs / single[single.length - 1]!.seconds), mb_per_cpu_s: Number(perCpuSecond.toFixed(2)), io_only_mb_per_s: Number(ioRate.toFixed(2)), peak_rss_mb: single.map((r) => Math.round(r.maxRssMB)), input_mb: single.map((r) => Math.round(r.bytes / 1e6)) }) + '\n');
}

await main();
