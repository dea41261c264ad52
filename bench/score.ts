/**
 * bench/score: the scoring stage's figures. Trains 5-gram models (Kneser-Ney) on the shared
 * Wikipedia text (cmrc2018 Chinese paragraphs by characters; WikiText-2 valid by words), writes
 * the binary form, and measures training time, peak memory, load time and scoring MB/s per core
 * (CCNet-style document perplexity) on other shared text (CLUECorpusSmall; WikiText-2 test).
 * Goal (issue): scoring at least 10 MB/s per core; model load under 1 s.
 * Then training at scale: `ziya lm train` (bounded memory, partitions on disk) on more than
 * 100 MB of distinct reference text (the shared Chinese and English text, then Tang and Song
 * poems from the chinese-poetry npm package; Chinese by characters, English by words), in a
 * child process: wall time, peak memory, n-grams; then its binary form and its load time.
 *
 *   node dist/bench/score.js [--skip-scale] [--target-mb 105] [--memory 1024]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { trainKneserNey } from '../src/lm/kneser-ney.js';
import { HashedModel } from '../src/lm/hashed.js';
import { SHARED, sharedDocs } from './corpus.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

/**
 * The reference file for training at scale, distinct text only (repeated text would make every
 * count a multiple of the repeats and leave Kneser-Ney without discounts): the shared Chinese and
 * English text once, then poems of the chinese-poetry npm package (the demo's source: Tang and Song
 * poems, Song ci, Yuan qu) until `targetMB`; one paragraph or poem per line, Chinese as space-separated characters.
 */
async function scaleReference(dir: string, targetMB: number): Promise<{ file: string; textBytes: number; sources: Record<string, number> }> {
  const file = join(dir, `reference-${targetMB}mb.txt`);
  const meta = `${file}.json`;
  if (existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as { file: string; textBytes: number; sources: Record<string, number> };
  const out = createWriteStream(file);
  let textBytes = 0;
  const sources: Record<string, number> = {};
  const put = async (source: string, text: string, zh: boolean) => {
    const t = text.trim();
    if (!t) return;
    const b = Buffer.byteLength(t) + 1;
    textBytes += b;
    sources[source] = (sources[source] ?? 0) + b;
    if (!out.write((zh ? [...t.replace(/\s+/g, '')].join(' ') : t) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  for (const d of sharedDocs()) for (const para of d.text.split('\n')) await put(`shared ${d.lang}`, para, d.lang === 'zh');
  const poetry = join(dirname(createRequire(import.meta.url).resolve('chinese-poetry/package.json')), 'dist');
  for (const [sub, re] of [['quantangshi', /^poet\..*\.json$/], ['songci', /^ci\.song\..*\.json$/], ['yuanqu', /\.json$/]] as const) {
    for (const f of readdirSync(join(poetry, sub)).filter((x) => re.test(x)).sort()) {
      if (textBytes >= targetMB * 1e6) break;
      for (const p of JSON.parse(readFileSync(join(poetry, sub, f), 'utf8')) as { paragraphs?: string[] }[]) await put('chinese-poetry', (p.paragraphs ?? []).join(''), true);
    }
  }
  await new Promise<void>((r) => out.end(() => r()));
  const res = { file, textBytes, sources };
  writeFileSync(meta, JSON.stringify(res));
  return res;
}

/** `ziya lm train` on the reference in a child process; its sidecar has the times and the peak memory. */
function trainAtScale(file: string, memory: number): { seconds: Record<string, number>; peakRssMB: number; counts: number[]; buckets: number; groups: { adjust: number; context: number }; spilledBytes: number; tokens: number } {
  const bin = join(process.cwd(), 'bin/ziya.js');
  const arpa = `${file}.arpa`;
  execFileSync(process.execPath, [bin, 'lm', 'train', '--input', file, '--out', arpa, '--order', '5', '--memory', String(memory)], { stdio: ['ignore', 'inherit', 'inherit'] });
  return JSON.parse(readFileSync(`${arpa}.json`, 'utf8')) as ReturnType<typeof trainAtScale>;
}

async function main(): Promise<void> {
  const cmrc = join(SHARED, 'cmrc2018-zhwiki/squad-style-data/cmrc2018_dev.json');
  const wiki = join(SHARED, 'wikitext2/word_language_model/data/wikitext-2');
  if (!existsSync(cmrc) || !existsSync(wiki)) {
    process.stdout.write(`bench/score: skipped: shared Wikipedia text not found under ${SHARED}\n`);
    process.stdout.write(JSON.stringify({ name: 'score', skipped: true }) + '\n');
    return;
  }
  const dir = join(tmpdir(), 'ziya-bench-score');
  mkdirSync(dir, { recursive: true });
  const zhRef = (JSON.parse(readFileSync(cmrc, 'utf8')) as { data: { paragraphs: { context: string }[] }[] }).data.flatMap((a) => a.paragraphs.map((p) => [...p.context.replace(/\s+/g, '')]));
  const enRef = readFileSync(join(wiki, 'valid.txt'), 'utf8').split('\n').filter((l) => l.trim());
  const rows: Record<string, unknown>[] = [];
  for (const [lang, ref, test, chars] of [
    ['zh', zhRef.map((u) => u.join(' ')), readFileSync(join(SHARED, 'uer-py-zh-corpora/corpora/CLUECorpusSmall_sampled.txt'), 'utf8').split('\n').filter((l) => l.trim()), true],
    ['en', enRef, readFileSync(join(wiki, 'test.txt'), 'utf8').split(/\n \n/).filter((l) => l.trim()), false],
  ] as const) {
    const refBytes = ref.reduce((a, l) => a + Buffer.byteLength(l.replace(/ /g, chars ? '' : ' ')), 0);
    const rss0 = process.memoryUsage().rss;
    let t0 = performance.now();
    const m = trainKneserNey(ref, { order: 5 });
    const trainS = (performance.now() - t0) / 1000;
    const trainRssMB = (process.memoryUsage().rss - rss0) / 1e6;
    const path = join(dir, `${lang}.bin`);
    HashedModel.fromArpa(m).save(path);
    t0 = performance.now();
    const h = HashedModel.load(path);
    const loadS = (performance.now() - t0) / 1000;
    const bytes = test.reduce((a, l) => a + Buffer.byteLength(l), 0);
    t0 = performance.now();
    for (const doc of test) {
      if (!chars) h.scoreDocumentWords(doc);
      else for (const line of doc.split('\n')) h.scoreChars(line);
    }
    const scoreS = (performance.now() - t0) / 1000;
    rows.push({ lang, ref_mb: Number((refBytes / 1e6).toFixed(1)), ngrams: m.counts, train_s: Number(trainS.toFixed(1)), train_rss_growth_mb: Math.round(trainRssMB), binary_mb: Number((statSync(path).size / 1e6).toFixed(1)), load_s: Number(loadS.toFixed(3)), score_mb: Number((bytes / 1e6).toFixed(1)), score_mb_per_s: Number((bytes / 1e6 / scoreS).toFixed(2)), docs_per_s: Math.round(test.length / scoreS) });
  }
  for (const r of rows) process.stdout.write(`${r.lang}: 5-gram from ${r.ref_mb} MB in ${r.train_s} s (RSS +${r.train_rss_growth_mb} MB, n-grams ${(r.ngrams as number[]).join('/')}); binary ${r.binary_mb} MB loads in ${r.load_s} s; scoring ${r.score_mb_per_s} MB/s per core, ${r.docs_per_s} docs/s on ${r.score_mb} MB\n`);
  const worst = Math.min(...rows.map((r) => r.score_mb_per_s as number));
  let scale: Record<string, unknown> | undefined;
  if (!process.argv.includes('--skip-scale')) {
    const ref = await scaleReference(dir, arg('--target-mb', 105));
    const memory = arg('--memory', 1024);
    process.stderr.write(`training at scale: ${(ref.textBytes / 1e6).toFixed(1)} MB of reference text (${Object.entries(ref.sources).map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)} MB`).join(', ')}) in ${ref.file}, --memory ${memory}\n`);
    const r = trainAtScale(ref.file, memory);
    scale = { ref_mb: Number((ref.textBytes / 1e6).toFixed(1)), ref_sources_mb: Object.fromEntries(Object.entries(ref.sources).map(([k, v]) => [k, Number((v / 1e6).toFixed(1))])), tokens: r.tokens, ngrams: r.counts, buckets: r.buckets, groups: r.groups, spilled_mb: Math.round(r.spilledBytes / 1e6), train_s: Number(r.seconds.total!.toFixed(1)), phases_s: Object.fromEntries(Object.entries(r.seconds).map(([k, v]) => [k, Number(v.toFixed(1))])), peak_rss_mb: r.peakRssMB, memory_option_mb: memory };
    // its binary form, written by the streaming ARPA reader, and how long it takes to load
    const bin = `${ref.file}.bin`;
    let t0 = performance.now();
    execFileSync(process.execPath, [join(process.cwd(), 'bin/ziya.js'), 'lm', 'binary', `${ref.file}.arpa`, bin], { stdio: ['ignore', 'ignore', 'inherit'] });
    const binaryS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    HashedModel.load(bin);
    const loadS = (performance.now() - t0) / 1000;
    scale.binary_mb = Math.round(statSync(bin).size / 1e6);
    scale.binary_write_s = Number(binaryS.toFixed(1));
    scale.binary_load_s = Number(loadS.toFixed(2));
    process.stdout.write(`training at scale: 5-gram from ${scale.ref_mb} MB (${r.tokens} tokens) in ${scale.train_s} s, peak memory ${r.peakRssMB} MB (--memory ${memory}), ${r.buckets} buckets in ${r.groups.adjust}/${r.groups.context} groups, ${scale.spilled_mb} MB spilled, n-grams ${r.counts.join('/')}; binary ${scale.binary_mb} MB written in ${scale.binary_write_s} s, loads in ${scale.binary_load_s} s\n`);
  }
  process.stdout.write(JSON.stringify({ name: 'score_mb_per_s_per_core', value: worst, unit: 'MB/s/core', peer: 'goal (KenLM not installable here)', peer_value: 10, ratio: Number((worst / 10).toFixed(2)), rows, train_at_scale: scale }) + '\n');
}

await main();
