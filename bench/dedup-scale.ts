/**
 * bench/dedup-scale: end-to-end fuzzy de-duplication (MinHash-LSH) over the
 * shared Chinese and English text at two sizes (1 and 3 passes of the ~43 MB
 * corpus, so the larger one is two-thirds duplicates), one worker: MB/s per
 * core, peak memory, and the projection of peak memory to 10 million documents.
 * Uses the inputs bench/factory writes (and writes them if absent).
 *
 *   node dist/bench/dedup-scale.js
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedAvailable, SHARED } from './corpus.js';

const ROOT = join(tmpdir(), 'ziya-bench-factory');

interface R { seconds: number; bytes: number; docs: number; kept: number; maxRssMB: number; retainedHeapMB: number }

async function child(input: string): Promise<void> {
  const { parseRecipe } = await import('../src/factory/recipe.js');
  const { runFactory } = await import('../src/factory/executor.js');
  const out = join(tmpdir(), `ziya-dedup-scale-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const recipe = parseRecipe({ name: 'dedup-scale', input: { paths: [input], shardBytes: '16MB' }, output: { dir: out, format: 'jsonl' }, executor: { workers: 1 }, steps: [{ type: 'minhash_dedup' }] }, 'bench', process.cwd());
  const t0 = performance.now();
  const r = await runFactory(recipe, { workers: 1, quiet: true });
  const seconds = (performance.now() - t0) / 1000;
  // what stays after the run once garbage is collected (the child runs with --expose-gc)
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const res: R = { seconds, bytes: r.stats.bytesRead, docs: r.stats.read, kept: r.stats.kept, maxRssMB: process.resourceUsage().maxRSS / 1024, retainedHeapMB: process.memoryUsage().heapUsed / 2 ** 20 };
  rmSync(out, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(res) + '\n');
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!);
  if (!sharedAvailable()) {
    process.stdout.write(`bench/dedup-scale: skipped: shared data not found at ${SHARED}\n`);
    process.stdout.write(JSON.stringify({ name: 'dedup_end_to_end', skipped: true }) + '\n');
    return;
  }
  const inputs = [join(ROOT, 'input-x1'), join(ROOT, 'input-x3')];
  if (!inputs.every((d) => existsSync(join(d, '.complete')))) {
    process.stderr.write('writing the inputs with bench/factory first…\n');
    execFileSync(process.execPath, [fileURLToPath(new URL('./factory.js', import.meta.url)), '--inputs-only'], { stdio: 'inherit' });
  }
  const rows: R[] = [];
  for (const d of inputs) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', d], { encoding: 'utf8' });
    rows.push(JSON.parse(out.trim().split('\n').pop()!) as R);
  }
  process.stdout.write('input MB   docs     kept     s      MB/s/core  peak RSS MB\n');
  for (const r of rows) process.stdout.write(`${(r.bytes / 1e6).toFixed(1).padStart(8)} ${String(r.docs).padStart(7)} ${String(r.kept).padStart(7)} ${r.seconds.toFixed(1).padStart(6)} ${(r.bytes / 1e6 / r.seconds).toFixed(2).padStart(10)} ${r.maxRssMB.toFixed(0).padStart(11)}\n`);
  const [a, b] = rows as [R, R];
  const measured = (b.maxRssMB - a.maxRssMB) / (b.docs - a.docs);
  // what combine holds per document whatever the corpus: union-find parent + component size (2 × 4 bytes);
  // everything else is per shard (observation state, merge buffers) and does not grow with the corpus
  const structural = 8 / (1024 * 1024);
  const perDoc = Math.max(measured, structural);
  const projected = b.maxRssMB + perDoc * (10_000_000 - b.docs);
  process.stdout.write(`peak memory: ${a.maxRssMB.toFixed(0)} MB at ${a.docs} documents, ${b.maxRssMB.toFixed(0)} MB at ${b.docs} (measured growth ${(measured * 1024 * 1024).toFixed(0)} bytes per document; the combine step holds 8 bytes per document); projected for 10 million documents: about ${(projected / 1024).toFixed(2)} GB (goal: within 4 GB)\n`);
  // peaks include garbage not yet collected, so their difference over two sizes is a noisy slope;
  // the heap that stays after the run says whether anything is held per document
  process.stdout.write(`heap retained after the run (after garbage collection): ${a.retainedHeapMB.toFixed(1)} MB at ${a.docs} documents, ${b.retainedHeapMB.toFixed(1)} MB at ${b.docs}\n`);
  const mbs = b.bytes / 1e6 / b.seconds;
  process.stdout.write(JSON.stringify({ name: 'dedup_minhash_end_to_end_mb_per_s_per_core', value: Number(mbs.toFixed(2)), unit: 'MB/s/core', peer: 'Data-Juicer on Ray (published)', peer_value: 0.43, ratio: Number((mbs / 0.43).toFixed(1)), peak_rss_mb: rows.map((r) => Math.round(r.maxRssMB)), docs: rows.map((r) => r.docs), bytes_per_doc_measured: Math.round(measured * 1024 * 1024), bytes_per_doc_used: Math.round(perDoc * 1024 * 1024), projected_gb_10m_docs: Number((projected / 1024).toFixed(2)), retained_heap_mb: rows.map((r) => Number(r.retainedHeapMB.toFixed(1))) }) + '\n');
}

await main();
