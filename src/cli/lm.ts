/** `ziya lm score`: KenLM-compatible sentence scores of an ARPA model. */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { loadTokenizer } from '../tokenizer/load.js';
import { createGunzip } from 'node:zlib';
import type { Command } from 'commander';
import { ArpaError, perplexity } from '../lm/arpa.js';
import { HashedModel } from '../lm/hashed.js';
import { loadModelFile } from '../lm/load.js';
import { trainKneserNeyOnDisk } from '../lm/kneser-ney-disk.js';
import { writeFileAtomic } from '../io/writers.js';

export function lmCommands(prog: Command): void {
  const lm = prog.command('lm').description('n-gram language models (ARPA): KenLM-compatible scoring');
  lm.command('train')
    .description('interpolated modified Kneser-Ney (lmplz\'s method) from text, one sentence per line; writes ARPA with bounded memory (hash buckets on disk)')
    .requiredOption('--input <file>', 'reference text, one sentence per line (.gz read as gzip)')
    .requiredOption('--out <file>', 'ARPA file to write')
    .option('--order <n>', 'n-gram order', (v) => parseInt(v, 10), 5)
    .option('--units <kind>', 'words (split on spaces), chars (every non-space character, for Chinese) or pieces (of --tokenizer)', 'words')
    .option('--tokenizer <file>', 'with --units pieces: the SentencePiece tokenizer (.model, tokenizer.json, tokenizer.bin, .gguf)')
    .option('--memory <MB>', 'memory (MB) the counting buffer and each group of buckets aim to stay under (the heap is capped at 1.5x)', Number, 1024)
    .option('--buckets <n>', 'hash buckets by word for the files on disk (default: from the input size and --memory); as many are loaded at once as fit', (v) => parseInt(v, 10))
    .option('--tmp <dir>', 'folder for the bucket files (default: the system temporary folder)')
    .option('--quiet', 'no progress lines')
    .action(async (o: { input: string; out: string; order: number; units: string; tokenizer?: string; memory: number; buckets?: number; tmp?: string; quiet?: boolean }) => {
      if (o.units !== 'words' && o.units !== 'chars' && o.units !== 'pieces') throw new ArpaError(`--units must be words, chars or pieces, not "${o.units}"`);
      if ((o.units === 'pieces') !== Boolean(o.tokenizer)) throw new ArpaError(o.tokenizer ? '--tokenizer goes with --units pieces' : '--units pieces needs --tokenizer FILE');
      if (!existsSync(o.input)) throw new ArpaError(`${o.input}: no such file`);
      if (!process.execArgv.some((a) => a.startsWith('--max-old-space-size'))) {
        // the budget holds because V8's heap is capped at it (with room for collection) in a child process
        const child = spawnSync(process.execPath, [`--max-old-space-size=${Math.max(256, Math.round(o.memory * 1.5))}`, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
        process.exitCode = child.status ?? 1;
        return;
      }
      const chars = o.units === 'chars';
      const tok = o.tokenizer ? loadTokenizer(o.tokenizer) : null;
      async function* sentences(): AsyncGenerator<string> {
        const raw = createReadStream(o.input);
        const rl = createInterface({ input: o.input.endsWith('.gz') ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity });
        for await (const line of rl) {
          if (!line.trim()) continue;
          yield chars ? [...line.replace(/\s+/g, '')].join(' ') : tok ? tok.encodePieces(line).join(' ') : line;
        }
      }
      const r = await trainKneserNeyOnDisk(sentences(), o.out, { order: o.order, memoryMB: o.memory, buckets: o.buckets, inputBytes: statSync(o.input).size, tmpDir: o.tmp, progress: !o.quiet });
      const peakMB = process.resourceUsage().maxRSS / 1024;
      writeFileAtomic(`${o.out}.json`, JSON.stringify({ units: o.units, ...(o.tokenizer ? { tokenizer: resolve(o.tokenizer) } : {}), order: o.order, sentences: r.sentences, tokens: r.tokens, vocabSize: r.vocabSize, counts: r.counts, discounts: r.discounts, buckets: r.buckets, groups: r.groups, spilledBytes: r.spilledBytes, largestBucketBytes: r.largestBucketBytes, seconds: r.seconds, peakRssMB: Math.round(peakMB) }, null, 1));
      process.stdout.write(`${o.out}: order ${o.order}, units ${o.units}, n-grams ${r.counts.join('/')} from ${r.sentences} sentences (${r.tokens} tokens) in ${r.seconds.total.toFixed(1)} s; ${r.buckets} buckets loaded in ${r.groups.adjust}/${r.groups.context} groups, ${(r.spilledBytes / 1e6).toFixed(0)} MB spilled, peak memory ${peakMB.toFixed(0)} MB\n`);
    });
  lm.command('binary')
    .description('write the compact binary form of an ARPA model (loads without parsing)')
    .argument('<arpa>', 'ARPA model')
    .argument('<out>', 'binary model to write')
    .action((arpa: string, out: string) => {
      const h = HashedModel.fromArpaFile(arpa);
      h.save(out);
      process.stdout.write(`${out}: order ${h.order}, n-grams ${h.counts.join('/')}\n`);
    });
  lm.command('score')
    .description('one TSV line per input line: line number, log10 probability (with </s>), unknown words, perplexity')
    .requiredOption('--model <file>', 'ARPA model, or its binary form (ziya lm binary)')
    .option('--input <file>', 'space-separated units, one sentence per line (default: stdin)')
    .action((o: { model: string; input?: string }) => {
      const model = loadModelFile(o.model);
      const out: string[] = [];
      readFileSync(o.input ?? 0, 'utf8').split('\n').forEach((line, i, all) => {
        if (i === all.length - 1 && line === '') return;
        const s = model.scoreSentence(line);
        out.push(`${i + 1}\t${s.total.toFixed(6)}\t${s.oov}\t${perplexity(s).toFixed(4)}`);
      });
      process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
    });
}
