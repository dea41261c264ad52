/** `ziya tokenizer …`: encode and decode like spm_encode / spm_decode, convert between formats, extend with Chinese characters. */
import { readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { loadTokenizer, readVocabFile, writeVocabFile, formatForPath } from '../tokenizer/load.js';
import { decodeUtf8Spm } from '../tokenizer/utf8.js';

function lines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let s = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, s)) {
    out.push(buf.subarray(s, i));
    s = i + 1;
  }
  if (s < buf.length) out.push(buf.subarray(s));
  return out;
}

/** Buffered stdout writes (console.log per line is slow). */
class Out {
  private parts: string[] = [];
  private size = 0;
  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.parts.length) writeSync(1, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

export function tokenizerCommands(prog: Command): void {
  const t = prog.command('tokenizer').description('LLaMA-2 SentencePiece BPE: encode, decode, convert formats, extend with Chinese');
  t.command('encode')
    .description('one line of ids (or pieces) per input line, exactly as spm_encode --output_format=id|piece')
    .requiredOption('--model <file>', 'tokenizer: .model, tokenizer.json, tokenizer.bin or .gguf')
    .option('--input <file>', 'input text (default: stdin)')
    .option('--pieces', 'print pieces instead of ids')
    .option('--bos', 'prepend <s>')
    .option('--eos', 'append </s>')
    .action((o: { model: string; input?: string; pieces?: boolean; bos?: boolean; eos?: boolean }) => {
      const tok = loadTokenizer(o.model);
      const out = new Out();
      for (const l of lines(readFileSync(o.input ?? 0))) {
        const text = decodeUtf8Spm(l);
        const ids = tok.encode(text, { bos: o.bos, eos: o.eos });
        out.push((o.pieces ? ids.map((i) => tok.vocab.pieces[i]) : ids).join(' ') + '\n');
      }
      out.flush();
    });
  t.command('decode')
    .description('the inverse of encode: one line of text per line of ids (or pieces)')
    .requiredOption('--model <file>', 'tokenizer: .model, tokenizer.json, tokenizer.bin or .gguf')
    .option('--input <file>', 'ids, space-separated, one sequence per line (default: stdin)')
    .option('--pieces', 'input lines hold pieces instead of ids')
    .action((o: { model: string; input?: string; pieces?: boolean }) => {
      const tok = loadTokenizer(o.model);
      const ids = new Map(tok.vocab.pieces.map((p, i) => [p, i]));
      const out = new Out();
      let n = 0;
      for (const l of lines(readFileSync(o.input ?? 0))) {
        n++;
        const fields = l.toString('utf8').split(' ').filter(Boolean);
        const seq = fields.map((f) => {
          const id = o.pieces ? ids.get(f) : /^\d+$/.test(f) ? Number(f) : NaN;
          if (id === undefined || !Number.isInteger(id) || id < 0 || id >= tok.vocab.pieces.length) throw new Error(`line ${n}: "${f}" is not a ${o.pieces ? 'piece' : 'token id'} of ${o.model}`);
          return id;
        });
        out.push(tok.decode(seq) + '\n');
      }
      out.flush();
    });
  t.command('convert')
    .description('write a tokenizer in another format (by extension: .model, .json, .bin, .gguf)')
    .argument('<input>', 'tokenizer file')
    .argument('<output>', 'output file')
    .action((input: string, output: string) => {
      const v = readVocabFile(input);
      writeVocabFile(v, output);
      process.stdout.write(`${input} → ${output} (${formatForPath(output)}, ${v.pieces.length} pieces)\n`);
    });
  extendCommand(t);
  t.command('info')
    .description('vocabulary size, piece types and settings of a tokenizer file')
    .argument('<file>', 'tokenizer file')
    .action((file: string) => {
      const v = readVocabFile(file);
      const types = new Map<number, number>();
      for (const x of v.types) types.set(x, (types.get(x) ?? 0) + 1);
      const names: Record<number, string> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user-defined', 5: 'unused', 6: 'byte' };
      process.stdout.write(`${file}: ${v.pieces.length} pieces (${[...types].map(([k, n]) => `${n} ${names[k] ?? k}`).join(', ')}); byte_fallback ${v.byteFallback}, dummy prefix ${v.addDummyPrefix}, unk ${v.unkId}, bos ${v.bosId}, eos ${v.eosId}${v.mergeRanks ? `, ${v.mergeRanks.size} merges` : ''}\n`);
    });
}

export function extendCommand(t: Command): void {
  t.command('extend')
    .description('add the most frequent Chinese characters a base tokenizer spells with bytes (Ziya2: 7,400), write every format')
    .requiredOption('--model <file>', 'base tokenizer (e.g. LLaMA-2 tokenizer.model)')
    .requiredOption('--corpus <paths...>', 'text, JSONL (.gz/.zst), Parquet or WARC files or folders to count characters in')
    .requiredOption('--out <dir>', 'output folder')
    .option('--count <n>', 'characters to add', (v) => parseInt(v, 10), 7400)
    .option('--min-count <n>', 'ignore characters seen fewer times', (v) => parseInt(v, 10), 1)
    .option('--eval <paths...>', 'Chinese text to report compression on (default: the corpus)')
    .action(async (o: { model: string; corpus: string[]; out: string; count: number; minCount: number; eval?: string[] }) => {
      const { runExtend } = await import('../tokenizer/extend-run.js');
      const r = await runExtend(o);
      process.stdout.write(`${r.summary}\n`);
    });
}
