/** `ziya data tokenize|info`: token datasets in Megatron-LM's indexed format. */
import type { Command } from 'commander';
import { tokenizeToIndexed } from '../data/tokenize.js';
import { IndexedDataset } from '../data/indexed.js';

export function dataCommands(prog: Command): void {
  const d = prog.command('data').description('token datasets (Megatron-LM .bin/.idx) from factory output');
  d.command('tokenize')
    .description('tokenize documents into PREFIX.bin / PREFIX.idx (one document per record: <s> … </s>)')
    .argument('<inputs...>', 'JSONL (.gz/.zst), Parquet or text files, folders or globs')
    .requiredOption('--tokenizer <file>', 'tokenizer (.model, tokenizer.json, tokenizer.bin, .gguf)')
    .requiredOption('--out <prefix>', 'output prefix')
    .option('--text-key <key>', 'JSON field holding the text', 'text')
    .option('--no-bos', 'do not start documents with <s>')
    .option('--no-eod', 'do not end documents with </s>')
    .option('--quiet', 'no progress line')
    .action(async (inputs: string[], o: { tokenizer: string; out: string; textKey: string; bos: boolean; eod: boolean; quiet?: boolean }) => {
      const s = await tokenizeToIndexed({ inputs, tokenizer: o.tokenizer, out: o.out, textKey: o.textKey, bos: o.bos, appendEod: o.eod, quiet: o.quiet });
      process.stdout.write(`${s.read} records read: ${s.written} documents written, ${s.empty} empty skipped, ${s.quarantined} quarantined; ${s.tokens.toLocaleString('en-US')} tokens (${s.dtype}) in ${s.seconds.toFixed(1)} s\n${s.bin}\n${s.idx}\n`);
    });
  d.command('info')
    .description('sequence, document and token counts of an indexed dataset (checks the index)')
    .argument('<prefix>', 'dataset prefix (PREFIX.bin, PREFIX.idx)')
    .action((prefix: string) => {
      const ds = IndexedDataset.open(prefix);
      process.stdout.write(JSON.stringify({ prefix, dtype: ds.dtype, sequences: ds.sequenceCount, documents: ds.documentCount, tokens: ds.tokenCount }, null, 2) + '\n');
      ds.close();
    });
}
