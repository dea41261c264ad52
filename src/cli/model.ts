/** `ziya generate` and `ziya model info|convert`: thin layers over src/model. */
import { writeSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { loadModel, saveModel, type ModelFormat } from '../model/load.js';
import { generate } from '../model/generate.js';
import { parameterCount } from '../model/config.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { SentencePieceBPE } from '../tokenizer/bpe.js';
import { backend } from '../tensor/index.js';
import { writeFileAtomic } from '../io/writers.js';
import type { FloatDtype } from '../model/formats/safetensors.js';

const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number (got "${v}")`);
  return n;
};

function formatFor(path: string, explicit?: string): ModelFormat {
  if (explicit) {
    if (!['llama2c', 'hf', 'gguf'].includes(explicit)) throw new Error(`--to must be llama2c, hf or gguf (got "${explicit}")`);
    return explicit as ModelFormat;
  }
  const e = extname(path);
  return e === '.gguf' ? 'gguf' : e === '.bin' ? 'llama2c' : 'hf';
}

export function modelCommands(prog: Command): void {
  prog.command('generate')
    .description('generate text from a checkpoint (llama2.c .bin, HF folder, GGUF) with a KV cache')
    .requiredOption('--model <path>', 'checkpoint: llama2.c .bin, Hugging Face folder (config.json + safetensors) or .gguf')
    .option('--tokenizer <file>', 'tokenizer (.model, tokenizer.json, tokenizer.bin, .gguf); a GGUF model carries its own')
    .option('--prompt <text>', 'prompt', '')
    .option('--steps <n>', 'positions to run including the prompt (as llama2.c -n)', num('steps'), 256)
    .option('--temperature <t>', '0 means greedy', num('temperature'), 1.0)
    .option('--top-p <p>', 'nucleus sampling threshold', num('top-p'), 0.9)
    .option('--seed <s>', 'sampler seed', num('seed'))
    .action((o: { model: string; tokenizer?: string; prompt: string; steps: number; temperature: number; topP: number; seed?: number }) => {
      const { model, vocab } = loadModel(o.model);
      let tok: SentencePieceBPE;
      if (o.tokenizer) tok = loadTokenizer(o.tokenizer);
      else if (vocab) tok = new SentencePieceBPE(vocab);
      else throw new Error(`${o.model} carries no vocabulary: pass --tokenizer`);
      if (tok.vocab.pieces.length > model.config.vocabSize) throw new Error(`the tokenizer has ${tok.vocab.pieces.length} pieces, more than the model's vocabulary of ${model.config.vocabSize}: they do not belong together`);
      // streams the text as it grows (decoding the whole prefix keeps byte-fallback characters intact)
      const shown = tok.encode(o.prompt, { bos: true }).slice(1);
      let printed = 0;
      const flush = (final: boolean) => {
        let text = tok.decode(shown);
        if (!final && text.endsWith('\uFFFD')) text = text.slice(0, -1);
        if (text.length > printed) writeSync(1, text.slice(printed));
        printed = Math.max(printed, text.length);
      };
      flush(false);
      const g = generate(model, tok, o.prompt, {
        steps: o.steps,
        temperature: o.temperature,
        topP: o.topP,
        seed: o.seed ?? Date.now(),
        onToken: (id) => {
          shown.push(id);
          flush(false);
        },
      });
      flush(true);
      writeSync(1, '\n');
      process.stderr.write(`achieved tok/s: ${g.tokensPerSecond.toFixed(1)} (${g.ids.length - g.promptLength} tokens, backend ${backend().name})\n`);
    });

  prog.command('sample')
    .description('write N generated texts to JSONL (one record per sample: id, seed, text), e.g. in-domain data of a model')
    .requiredOption('--model <path>', 'checkpoint')
    .option('--tokenizer <file>', 'tokenizer (a GGUF model carries its own)')
    .requiredOption('--out <file>', 'output .jsonl')
    .option('--count <n>', 'samples', num('count'), 100)
    .option('--steps <n>', 'positions per sample', num('steps'), 256)
    .option('--temperature <t>', 'temperature', num('temperature'), 1.0)
    .option('--top-p <p>', 'nucleus threshold', num('top-p'), 0.9)
    .option('--seed <s>', 'first seed (sample i uses seed + i)', num('seed'), 1)
    .option('--prompt <text>', 'prompt of every sample', '')
    .action((o: { model: string; tokenizer?: string; out: string; count: number; steps: number; temperature: number; topP: number; seed: number; prompt: string }) => {
      const { model, vocab } = loadModel(o.model);
      const tok = o.tokenizer ? loadTokenizer(o.tokenizer) : vocab ? new SentencePieceBPE(vocab) : null;
      if (!tok) throw new Error(`${o.model} carries no vocabulary: pass --tokenizer`);
      const lines: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < o.count; i++) {
        const g = generate(model, tok, o.prompt, { steps: o.steps, temperature: o.temperature, topP: o.topP, seed: o.seed + i });
        lines.push(JSON.stringify({ id: `sample-${o.seed + i}`, seed: o.seed + i, text: g.text.trim() }));
        if (process.stderr.isTTY) process.stderr.write(`\rsample ${i + 1}/${o.count}`);
      }
      writeFileAtomic(o.out, lines.join('\n') + '\n');
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${o.count} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${o.out}\n`);
    });

  const m = prog.command('model').description('checkpoints: inspect and convert between llama2.c, Hugging Face safetensors and GGUF');
  m.command('info')
    .description('print the configuration and parameter count of a checkpoint')
    .argument('<path>', 'checkpoint')
    .action((path: string) => {
      const { model, format, vocab } = loadModel(path);
      const out = { format, ...model.config, parameters: parameterCount(model.config), vocabulary: vocab ? vocab.pieces.length : null };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
  m.command('convert')
    .description('convert a checkpoint (format from the output name: .bin llama2.c, .gguf GGUF, else a HF folder)')
    .argument('<input>', 'checkpoint to read')
    .argument('<output>', 'file or folder to write')
    .option('--to <format>', 'llama2c, hf or gguf (default from the output name)')
    .option('--dtype <type>', 'F32, F16 or BF16 (HF and GGUF)', 'F32')
    .option('--tokenizer <file>', 'vocabulary to embed in a GGUF file')
    .option('--max-shard-bytes <n>', 'split HF safetensors into shards of at most this size', num('max-shard-bytes'))
    .action((input: string, output: string, o: { to?: string; dtype: string; tokenizer?: string; maxShardBytes?: number }) => {
      if (!['F32', 'F16', 'BF16'].includes(o.dtype)) throw new Error(`--dtype must be F32, F16 or BF16 (got "${o.dtype}")`);
      const { model, vocab } = loadModel(input);
      const v = o.tokenizer ? loadTokenizer(o.tokenizer).vocab : vocab ?? undefined;
      const files = saveModel(model, output, { format: formatFor(output, o.to), dtype: o.dtype as FloatDtype, vocab: v, maxShardBytes: o.maxShardBytes });
      for (const f of files) process.stdout.write(f + '\n');
    });
}
