/**
 * bench/tokenizer: encoding MB/s in one thread on >= 20 MB of mixed Chinese and
 * English shared text, for ours, SentencePiece's spm_encode (where installed)
 * and the `tokenizers` npm package (Hugging Face's Rust binding, parallelism
 * off), with an id-by-id comparison; then batch encoding on all cores.
 *
 *   node dist/bench/tokenizer.js [--mb 24] [--model FILE]   (FILE: a .model, e.g. the extended one)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, readVocabFile } from '../src/tokenizer/load.js';
import { writeHfTokenizer } from '../src/tokenizer/formats/hf.js';
import { BatchEncoder } from '../src/tokenizer/batch.js';
import { sharedAvailable, sharedDocs, SHARED } from './corpus.js';

const modelArg = process.argv.indexOf('--model');
const MODEL = modelArg > 0 ? process.argv[modelArg + 1]! : join(SHARED, 'llama2-tokenizer/tokenizer.model');

async function main(): Promise<void> {
  if (!sharedAvailable() || !existsSync(MODEL)) {
    process.stdout.write(`bench/tokenizer: skipped: shared data not found at ${SHARED}\n`);
    process.stdout.write(JSON.stringify({ name: 'tokenizer_encode_mb_per_s', skipped: true }) + '\n');
    return;
  }
  const mbArg = process.argv.indexOf('--mb');
  const targetMB = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 24;
  const dir = join(tmpdir(), 'ziya-bench-tokenizer');
  mkdirSync(dir, { recursive: true });
  // mixed input: all English lines of the shared corpora, Chinese lines up to the target size
  const en: string[] = [];
  const zh: string[] = [];
  for (const d of sharedDocs()) for (const l of d.text.split('\n')) if (l.trim()) (d.lang === 'en' ? en : zh).push(l);
  const lines: string[] = [];
  let bytes = 0;
  let i = 0;
  let j = 0;
  while (bytes < targetMB * 1e6 && (i < en.length || j < zh.length)) {
    const l = (i < en.length && (j >= zh.length || i * 3 < j)) ? en[i++]! : zh[j++]!;
    lines.push(l);
    bytes += Buffer.byteLength(l) + 1;
  }
  const enBytes = lines.reduce((a, l) => a + (/[\u4e00-\u9fff]/.test(l) ? 0 : Buffer.byteLength(l) + 1), 0);
  const input = join(dir, 'input.txt');
  writeFileSync(input, lines.join('\n') + '\n');
  process.stderr.write(`input: ${lines.length} lines, ${(bytes / 1e6).toFixed(1)} MB (${(100 * enBytes / bytes).toFixed(0)}% English bytes)\n`);

  // ours, one thread (first pass warms the JIT and the segment cache is cleared before timing)
  const tok = loadTokenizer(MODEL);
  tok.encode(lines.slice(0, 2000).join(' '));
  const fresh = loadTokenizer(MODEL);
  let t0 = performance.now();
  const oursIds: number[][] = new Array(lines.length);
  for (let k = 0; k < lines.length; k++) oursIds[k] = fresh.encode(lines[k]!);
  const oursS = (performance.now() - t0) / 1000;
  // (formatting ids as text for the comparison is not timed)
  let tokens = 0;
  const ours = oursIds.map((ids) => {
    tokens += ids.length;
    return ids.join(' ');
  });
  const rows: { name: string; seconds: number; mismatches: number | null }[] = [{ name: 'ziya-ts (1 thread)', seconds: oursS, mismatches: null }];

  // SentencePiece
  const spm = spawnSync('spm_encode', ['--version'], { encoding: 'utf8' });
  if (!spm.error) {
    t0 = performance.now();
    const out = execFileSync('spm_encode', ['--model', MODEL, '--output_format=id', '--input', input], { maxBuffer: 1 << 30, encoding: 'utf8' });
    const s = (performance.now() - t0) / 1000;
    const ref = out.split('\n');
    let mism = 0;
    for (let k = 0; k < lines.length; k++) if (ref[k] !== ours[k]) mism++;
    rows.push({ name: 'spm_encode (SentencePiece CLI)', seconds: s, mismatches: mism });
  } else process.stderr.write('spm_encode not installed (apt-get install sentencepiece): skipped\n');

  // Hugging Face tokenizers, parallelism off
  try {
    process.env.TOKENIZERS_PARALLELISM = 'false';
    process.env.RAYON_NUM_THREADS = '1';
    const { Tokenizer } = await import('tokenizers');
    const json = join(dir, 'tokenizer.json');
    writeFileSync(json, writeHfTokenizer(readVocabFile(MODEL)));
    const hf = Tokenizer.fromFile(json);
    t0 = performance.now();
    const hfIds: number[][] = [];
    for (let k = 0; k < lines.length; k += 2000) {
      const encs = await hf.encodeBatch(lines.slice(k, k + 2000), { addSpecialTokens: false });
      for (const e of encs) hfIds.push(e.getIds());
    }
    const s = (performance.now() - t0) / 1000;
    const res = hfIds.map((x) => x.join(' '));
    if (process.argv.includes('--show-hf-diffs')) {
      let shown = 0;
      for (let k = 0; k < lines.length && shown < 5; k++) if (res[k] !== ours[k]) { shown++; process.stderr.write(`HF differs on ${JSON.stringify(lines[k]!.slice(0, 80))}\n  spm/ours ${ours[k]!.slice(0, 120)}\n  hf       ${res[k]!.slice(0, 120)}\n`); }
    }
    let mism = 0;
    for (let k = 0; k < lines.length; k++) if (res[k] !== ours[k]) mism++;
    rows.push({ name: 'tokenizers (HF Rust, npm)', seconds: s, mismatches: mism });
  } catch (e) {
    process.stderr.write(`tokenizers npm package unavailable: ${(e as Error).message}\n`);
  }

  // batch on all cores
  // batch on all cores: the first pass starts with empty segment caches, the second is the steady state of a long job
  const be = new BatchEncoder(readVocabFile(MODEL), availableParallelism());
  await be.encode(lines.slice(0, 1000));
  t0 = performance.now();
  const batch = await be.encode(lines);
  const batchColdS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await be.encode(lines);
  const batchS = (performance.now() - t0) / 1000;
  await be.close();
  let bm = 0;
  for (let k = 0; k < lines.length; k++) if (Array.from(batch.ids.subarray(batch.offsets[k]!, batch.offsets[k + 1]!)).join(' ') !== ours[k]) bm++;

  const mb = bytes / 1e6;
  process.stdout.write(`\n${'encoder'.padEnd(34)} ${'seconds'.padStart(8)} ${'MB/s'.padStart(7)}  mismatching lines vs ours\n`);
  for (const r of rows) process.stdout.write(`${r.name.padEnd(34)} ${r.seconds.toFixed(2).padStart(8)} ${(mb / r.seconds).toFixed(2).padStart(7)}  ${r.mismatches === null ? '–' : r.mismatches}\n`);
  process.stdout.write(`${`ziya-ts batch (${availableParallelism()} threads), cold`.padEnd(34)} ${batchColdS.toFixed(2).padStart(8)} ${(mb / batchColdS).toFixed(2).padStart(7)}  ${bm}\n`);
  process.stdout.write(`${`ziya-ts batch (${availableParallelism()} threads), warm`.padEnd(34)} ${batchS.toFixed(2).padStart(8)} ${(mb / batchS).toFixed(2).padStart(7)}  ${bm}\n`);
  process.stdout.write(`${lines.length} lines, ${mb.toFixed(1)} MB, ${tokens} tokens (${(tokens / oursS / 1e6).toFixed(2)} M tokens/s in one thread)\n`);
  const spmRow = rows.find((r) => r.name.startsWith('spm'));
  const hfRow = rows.find((r) => r.name.startsWith('tokenizers'));
  process.stdout.write(JSON.stringify({ name: 'tokenizer_encode_mb_per_s_1thread', value: Number((mb / oursS).toFixed(2)), unit: 'MB/s', input_mb: Number(mb.toFixed(1)), peer: 'spm_encode', peer_value: spmRow ? Number((mb / spmRow.seconds).toFixed(2)) : null, ratio: spmRow ? Number((spmRow.seconds / oursS).toFixed(2)) : null, spm_mismatches: spmRow?.mismatches ?? null, hf_tokenizers_mb_per_s: hfRow ? Number((mb / hfRow.seconds).toFixed(2)) : null, ratio_vs_hf: hfRow ? Number((hfRow.seconds / oursS).toFixed(2)) : null, hf_mismatches: hfRow?.mismatches ?? null, batch_cold_mb_per_s: Number((mb / batchColdS).toFixed(2)), batch_warm_mb_per_s: Number((mb / batchS).toFixed(2)) }) + '\n');
}

await main();
