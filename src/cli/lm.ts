/** `ziya lm score`: KenLM-compatible sentence scores of an ARPA model. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseArpa, perplexity, writeArpa } from '../lm/arpa.js';
import { HashedModel } from '../lm/hashed.js';
import { loadModelFile } from '../lm/load.js';
import { trainKneserNey } from '../lm/kneser-ney.js';
import { writeFileAtomic } from '../io/writers.js';

export function lmCommands(prog: Command): void {
  const lm = prog.command('lm').description('n-gram language models (ARPA): KenLM-compatible scoring');
  lm.command('train')
    .description('interpolated modified Kneser-Ney (lmplz\'s method) from text, one sentence per line; writes ARPA')
    .requiredOption('--input <file>', 'reference text, one sentence per line')
    .requiredOption('--out <file>', 'ARPA file to write')
    .option('--order <n>', 'n-gram order', (v) => parseInt(v, 10), 5)
    .option('--units <kind>', 'words (split on spaces) or chars (every non-space character, for Chinese)', 'words')
    .action((o: { input: string; out: string; order: number; units: string }) => {
      if (o.units !== 'words' && o.units !== 'chars') throw new Error(`--units must be words or chars, not "${o.units}"`);
      const lines = readFileSync(o.input, 'utf8').split('\n').filter((l) => l.trim());
      const sentences = o.units === 'chars' ? lines.map((l) => [...l.replace(/\s+/g, '')].join(' ')) : lines;
      const t0 = Date.now();
      const m = trainKneserNey(sentences, { order: o.order });
      writeFileAtomic(o.out, writeArpa(m));
      writeFileAtomic(`${o.out}.json`, JSON.stringify({ units: o.units, order: o.order, sentences: lines.length, counts: m.counts, discounts: m.discounts }, null, 1));
      process.stdout.write(`${o.out}: order ${o.order}, units ${o.units}, n-grams ${m.counts.join('/')} from ${lines.length} sentences in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    });
  lm.command('binary')
    .description('write the compact binary form of an ARPA model (loads without parsing)')
    .argument('<arpa>', 'ARPA model')
    .argument('<out>', 'binary model to write')
    .action((arpa: string, out: string) => {
      const h = HashedModel.fromArpa(parseArpa(readFileSync(arpa, 'utf8'), arpa));
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
