/** The `ziya tokenizer extend` job: count, extend, write all formats, measure compression. */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { readShard, formatOf } from '../io/readers.js';
import { expandInputs } from '../factory/plan.js';
import { writeFileAtomic } from '../io/writers.js';
import { readVocabFile, writeVocabFile } from './load.js';
import { SentencePieceBPE } from './bpe.js';
import { HanCounter, extendVocab, tokensPer1000Chars } from './extend.js';

async function* corpusTexts(paths: string[]): AsyncGenerator<string> {
  const warnings: string[] = [];
  const files = expandInputs(paths, process.cwd(), warnings);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  for (const f of files) {
    const format = formatOf(f) ?? 'text';
    for await (const e of readShard({ index: 0, format, files: [f], keys: [f], bytes: 0 }, { textKey: 'text', idKey: 'id', maxRecordBytes: 64 << 20 }, { bytes: 0 })) {
      if ('doc' in e) yield e.doc.text;
      else if ('quarantine' in e) process.stderr.write(`skipped ${e.quarantine.file}:${e.quarantine.record}: ${e.quarantine.reason}\n`);
    }
  }
}

/** Chinese lines of the texts (lines with a Han character), for the compression figure. */
async function chineseLines(paths: string[], limit = 200_000): Promise<string[]> {
  const out: string[] = [];
  for await (const t of corpusTexts(paths)) {
    for (const l of t.split('\n')) if (/[\u4e00-\u9fff]/.test(l)) out.push(l);
    if (out.length >= limit) break;
  }
  return out;
}

export async function runExtend(o: { model: string; corpus: string[]; out: string; count: number; minCount: number; eval?: string[] }): Promise<{ summary: string; report: Record<string, unknown> }> {
  const base = readVocabFile(o.model);
  const counter = new HanCounter(base);
  let docs = 0;
  for await (const t of corpusTexts(o.corpus)) {
    counter.add(t);
    docs++;
  }
  const chosen = counter.top(o.count, o.minCount);
  const ext = extendVocab(base, chosen);
  mkdirSync(o.out, { recursive: true });
  for (const name of ['tokenizer.model', 'tokenizer.json', 'tokenizer.bin', 'tokenizer.gguf']) writeVocabFile(ext.vocab, join(o.out, name));
  const evalLines = await chineseLines(o.eval ?? o.corpus);
  const before = tokensPer1000Chars(new SentencePieceBPE(base), evalLines);
  const after = tokensPer1000Chars(new SentencePieceBPE(ext.vocab), evalLines);
  const reduction = before.per1000 ? 1 - after.per1000 / before.per1000 : 0;
  const report = {
    base: o.model,
    corpusDocuments: docs,
    candidates: counter.counts.size,
    added: ext.newTokens.length,
    baseSize: ext.baseSize,
    size: ext.size,
    paddedSize: ext.paddedSize,
    compression: { evalLines: evalLines.length, chars: before.chars, tokensBefore: before.tokens, tokensAfter: after.tokens, per1000Before: Number(before.per1000.toFixed(1)), per1000After: Number(after.per1000.toFixed(1)), reduction: Number((100 * reduction).toFixed(1)), ziya2Reduction: 34 },
    newTokens: ext.newTokens,
  };
  writeFileAtomic(join(o.out, 'extension.json'), JSON.stringify(report, null, 1));
  const summary = `added ${ext.newTokens.length} Chinese characters (of ${counter.counts.size} the base spells with bytes, from ${docs} documents): vocabulary ${ext.baseSize} → ${ext.size} (embedding rows padded to ${ext.paddedSize})\n` +
    `Chinese tokens per 1,000 characters on ${evalLines.length} lines: ${before.per1000.toFixed(1)} → ${after.per1000.toFixed(1)} (${(100 * reduction).toFixed(1)}% fewer; Ziya2 reports 34%)\n` +
    `wrote ${o.out}/tokenizer.{model,json,bin,gguf} and ${o.out}/extension.json (new id → base ids that spelled it)`;
  return { summary, report };
}
