/**
 * bench/score: the scoring stage's figures. Trains 5-gram models (Kneser-Ney) on the shared
 * Wikipedia text (cmrc2018 Chinese paragraphs by characters; WikiText-2 valid by words), writes
 * the binary form, and measures training time, peak memory, load time and scoring MB/s per core
 * (CCNet-style document perplexity) on other shared text (CLUECorpusSmall; WikiText-2 test).
 * Goal (issue): scoring at least 10 MB/s per core; model load under 1 s.
 *
 *   node dist/bench/score.js
 */
import { existsSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainKneserNey } from '../src/lm/kneser-ney.js';
import { HashedModel } from '../src/lm/hashed.js';
import { SHARED } from './corpus.js';

function main(): void {
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
  process.stdout.write(JSON.stringify({ name: 'score_mb_per_s_per_core', value: worst, unit: 'MB/s/core', peer: 'goal (KenLM not installable here)', peer_value: 10, ratio: Number((worst / 10).toFixed(2)), rows }) + '\n');
}

main();
