/** Our own engine behind the request types: any checkpoint we load or train, with its tokenizer. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Llama } from '../../model/llama.js';
import { Sampler } from '../../model/generate.js';
import { loadModel } from '../../model/load.js';
import { loadTokenizer } from '../../tokenizer/load.js';
import { SentencePieceBPE } from '../../tokenizer/bpe.js';
import { noGrad } from '../../tensor/tensor.js';
import { TokenLM, logSoftmax, type GenerateTokensOptions } from './token-lm.js';

export class EngineLM extends TokenLM {
  readonly prefix: number[];
  readonly maxLength: number;
  readonly eosId: number;
  constructor(readonly model: Llama, readonly tok: SentencePieceBPE, readonly name: string, readonly fingerprint: string, maxLength?: number) {
    super();
    if (tok.vocab.pieces.length > model.config.vocabSize) throw new Error(`${name}: the tokenizer has ${tok.vocab.pieces.length} pieces, the model ${model.config.vocabSize}`);
    this.prefix = tok.vocab.bosId >= 0 ? [tok.vocab.bosId] : [];
    this.maxLength = Math.min(maxLength ?? model.config.maxSeqLen, model.config.maxSeqLen);
    this.eosId = tok.vocab.eosId;
  }

  encode(text: string): number[] {
    return this.tok.encode(text);
  }
  decode(ids: number[]): string {
    return this.tok.decode(ids);
  }

  protected async logProbRows(input: number[], positions: number[]): Promise<Float32Array[]> {
    const V = this.model.config.vocabSize;
    const logits = noGrad(() => this.model.forward({ ids: Int32Array.from(input), B: 1, T: input.length })).data;
    return positions.map((p) => logSoftmax(logits.subarray(p * V, (p + 1) * V)));
  }

  protected async generateTokens(context: number[], o: GenerateTokensOptions): Promise<number[]> {
    const sampler = new Sampler({ temperature: o.temperature, topP: o.topP, seed: o.seed });
    const cache = this.model.newCache(context.length + o.maxTokens);
    let logits = this.model.prefill(context, cache);
    const gen: number[] = [];
    while (gen.length < o.maxTokens) {
      const next = sampler.sample(logits);
      gen.push(next);
      if (o.stop(gen) || gen.length >= o.maxTokens) break;
      logits = this.model.step(next, cache);
    }
    return gen;
  }
}

/** sha256 of a file's bytes (first 64 MiB and its size past that), for cache keys */
export function fileFingerprint(path: string): string {
  const h = createHash('sha256');
  const st = statSync(path);
  if (st.isDirectory()) {
    h.update(`dir:${path}:${st.mtimeMs}`);
    return h.digest('hex').slice(0, 16);
  }
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let off = 0;
    while (off < Math.min(st.size, 64 << 20)) {
      const n = readSync(fd, buf, 0, buf.length, off);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  h.update(`:${st.size}`);
  return h.digest('hex').slice(0, 16);
}

/** a checkpoint (llama2.c .bin, HF folder, GGUF) and a tokenizer (or the GGUF's own vocabulary) */
export function openEngineLM(modelPath: string, tokenizerPath?: string, maxLength?: number): EngineLM {
  const { model, vocab } = loadModel(modelPath);
  let tok: SentencePieceBPE;
  if (tokenizerPath) tok = loadTokenizer(tokenizerPath);
  else if (vocab) tok = new SentencePieceBPE(vocab);
  else throw new Error(`${modelPath}: this checkpoint holds no vocabulary; give --tokenizer`);
  const fp = `engine:${fileFingerprint(modelPath)}:${tokenizerPath ? fileFingerprint(tokenizerPath) : 'gguf'}:${maxLength ?? ''}`;
  return new EngineLM(model, tok, `ziya engine (${modelPath})`, fp, maxLength);
}
