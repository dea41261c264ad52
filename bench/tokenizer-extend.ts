/**
 * bench/tokenizer-extend: Ziya2's vocabulary extension of the LLaMA-2 tokenizer
 * with up to 7,400 Chinese characters counted on the shared Chinese corpora, and
 * Chinese compression (tokens per 1,000 characters) before and after, next to
 * the 34% Ziya2 reports.
 *
 *   node dist/bench/tokenizer-extend.js [--count 7400]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExtend } from '../src/tokenizer/extend-run.js';
import { sharedAvailable, sharedDocs, SHARED } from './corpus.js';

const MODEL = join(SHARED, 'llama2-tokenizer/tokenizer.model');

async function main(): Promise<void> {
  if (!sharedAvailable() || !existsSync(MODEL)) {
    process.stdout.write(`bench/tokenizer-extend: skipped: shared data not found at ${SHARED}\n`);
    process.stdout.write(JSON.stringify({ name: 'tokenizer_zh_compression', skipped: true }) + '\n');
    return;
  }
  const k = process.argv.indexOf('--count');
  const count = k > 0 ? Number(process.argv[k + 1]) : 7400;
  const dir = join(tmpdir(), 'ziya-bench-extend');
  mkdirSync(dir, { recursive: true });
  const corpus = join(dir, 'zh.jsonl');
  const lines: string[] = [];
  for (const d of sharedDocs()) if (d.lang === 'zh') lines.push(JSON.stringify({ id: d.id, text: d.text }));
  writeFileSync(corpus, lines.join('\n') + '\n');
  const t0 = performance.now();
  const r = await runExtend({ model: MODEL, corpus: [corpus], out: join(dir, 'out'), count, minCount: 1 });
  process.stdout.write(`${r.summary}\n(${lines.length} Chinese documents of the shared corpora, ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  const c = r.report.compression as { per1000Before: number; per1000After: number; reduction: number };
  process.stdout.write(JSON.stringify({ name: 'tokenizer_zh_token_reduction', value: c.reduction, unit: '% fewer tokens on Chinese', tokens_per_1000_chars_before: c.per1000Before, tokens_per_1000_chars_after: c.per1000After, added: r.report.added, peer: 'Ziya2 (paper)', peer_value: 34, ratio: Number((c.reduction / 34).toFixed(2)) }) + '\n');
}

await main();
