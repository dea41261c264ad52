/**
 * Text generation with a KV cache: greedy (temperature 0), temperature and top-p (nucleus)
 * sampling. The sampler is llama2.c's (xorshift64* generator, its top-p cut-off and order),
 * so a seed gives the same tokens as `run` does.
 */
import type { SentencePieceBPE } from '../tokenizer/bpe.js';
import type { Llama } from './llama.js';

export class Xorshift {
  private s: bigint;
  constructor(seed: number | bigint) {
    this.s = BigInt.asUintN(64, BigInt(seed));
    if (this.s === 0n) this.s = 1n;
  }
  u32(): number {
    let s = this.s;
    s ^= s >> 12n;
    s = BigInt.asUintN(64, s ^ (s << 25n));
    s ^= s >> 27n;
    this.s = s;
    return Number(BigInt.asUintN(64, s * 0x2545f4914f6cdd1dn) >> 32n);
  }
  /** float32 in [0, 1) */
  f32(): number {
    return Math.fround((this.u32() >>> 8) / 16777216);
  }
}

export interface SampleOptions {
  temperature?: number;
  topP?: number;
  seed?: number;
}

export class Sampler {
  private rng: Xorshift;
  readonly temperature: number;
  readonly topP: number;
  constructor(opts: SampleOptions = {}) {
    this.temperature = opts.temperature ?? 0;
    this.topP = opts.topP ?? 0.9;
    this.rng = new Xorshift(opts.seed ?? Date.now());
  }

  /** picks the next token from logits (modified in place when sampling) */
  sample(logits: Float32Array): number {
    if (this.temperature === 0) return argmax(logits);
    for (let i = 0; i < logits.length; i++) logits[i] = Math.fround(logits[i]! / this.temperature);
    softmaxInPlace(logits);
    const coin = this.rng.f32();
    if (this.topP <= 0 || this.topP >= 1) return sampleMult(logits, coin);
    return sampleTopP(logits, this.topP, coin);
  }
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

function softmaxInPlace(x: Float32Array): void {
  let m = x[0]!;
  for (let i = 1; i < x.length; i++) if (x[i]! > m) m = x[i]!;
  let s = 0;
  for (let i = 0; i < x.length; i++) { x[i] = Math.fround(Math.exp(x[i]! - m)); s = Math.fround(s + x[i]!); }
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! / s);
}

function sampleMult(p: Float32Array, coin: number): number {
  let cdf = 0;
  for (let i = 0; i < p.length; i++) {
    cdf = Math.fround(cdf + p[i]!);
    if (coin < cdf) return i;
  }
  return p.length - 1;
}

function sampleTopP(p: Float32Array, topP: number, coin: number): number {
  // as llama2.c: drop tokens below (1 - p) / (n - 1), sort the rest by probability, keep the shortest prefix above p
  const cutoff = Math.fround((1 - topP) / (p.length - 1));
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i]! >= cutoff) idx.push(i);
  idx.sort((a, b) => p[b]! - p[a]!);
  let cum = 0;
  let last = idx.length - 1;
  for (let i = 0; i < idx.length; i++) {
    cum = Math.fround(cum + p[idx[i]!]!);
    if (cum > topP) { last = i; break; }
  }
  const r = Math.fround(coin * cum);
  let cdf = 0;
  for (let i = 0; i <= last; i++) {
    cdf = Math.fround(cdf + p[idx[i]!]!);
    if (r < cdf) return idx[i]!;
  }
  return idx[last]!;
}

export interface GenerateOptions extends SampleOptions {
  /** total positions including the prompt, as llama2.c's -n (default: the model's max_seq_len) */
  steps?: number;
  /** stop when the model emits BOS (llama2.c's rule) or EOS */
  onToken?: (id: number, text: string) => void;
}

export interface Generation {
  /** prompt ids (BOS first) followed by the generated ids */
  ids: number[];
  promptLength: number;
  text: string;
  tokensPerSecond: number;
}

/** run.c's generate loop: forward each position, force the prompt, then sample until steps or BOS/EOS */
export function generate(model: Llama, tok: SentencePieceBPE, prompt: string, opts: GenerateOptions = {}): Generation {
  const steps = Math.min(opts.steps ?? model.config.maxSeqLen, model.config.maxSeqLen);
  const promptIds = tok.encode(prompt, { bos: true });
  if (promptIds.length < 1) throw new Error('generate: the prompt encodes to no tokens');
  const sampler = new Sampler(opts);
  const cache = model.newCache(steps);
  const ids = [...promptIds];
  let token = promptIds[0]!;
  const t0 = performance.now();
  let produced = 0;
  const bos = tok.vocab.bosId, eos = tok.vocab.eosId;
  for (let pos = 0; pos < steps; ) {
    const logits = model.step(token, cache);
    const sampled = pos >= promptIds.length - 1;
    const next = sampled ? sampler.sample(logits) : promptIds[pos + 1]!;
    pos++;
    if (sampled) {
      if (next === bos || next === eos) break;
      ids.push(next);
      produced++;
      opts.onToken?.(next, tok.decode([next]));
    }
    token = next;
  }
  const dt = (performance.now() - t0) / 1000;
  return { ids, promptLength: promptIds.length, text: tok.decode(ids.slice(1)), tokensPerSecond: produced / Math.max(dt, 1e-9) };
}
