/** `ziya lm score`: KenLM-compatible sentence scores of an ARPA model. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseArpa, perplexity, scoreSentence } from '../lm/arpa.js';

export function lmCommands(prog: Command): void {
  const lm = prog.command('lm').description('n-gram language models (ARPA): KenLM-compatible scoring');
  lm.command('score')
    .description('one TSV line per input line: line number, log10 probability (with </s>), unknown words, perplexity')
    .requiredOption('--model <file>', 'ARPA model')
    .option('--input <file>', 'space-separated units, one sentence per line (default: stdin)')
    .action((o: { model: string; input?: string }) => {
      const model = parseArpa(readFileSync(o.model, 'utf8'), o.model);
      const out: string[] = [];
      readFileSync(o.input ?? 0, 'utf8').split('\n').forEach((line, i, all) => {
        if (i === all.length - 1 && line === '') return;
        const s = scoreSentence(model, line);
        out.push(`${i + 1}\t${s.total.toFixed(6)}\t${s.oov}\t${perplexity(s).toFixed(4)}`);
      });
      process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
    });
}
