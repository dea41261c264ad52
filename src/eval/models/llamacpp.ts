/**
 * Real GGUF models through llama.cpp (node-llama-cpp 3.21.1, an optional dependency; its
 * prebuilt CPU binary, nothing downloaded). Tokenisation is llama.cpp's own. One context is
 * kept open and the evaluated prefix is reused between requests (the A/B/C/D options of a
 * question, or questions sharing few-shot examples, evaluate only what differs).
 */
import { fileFingerprint } from './engine.js';
import { nodeLlamaCppVersion } from '../../model/llamacpp.js';
import { TokenLM, type GenerateTokensOptions } from './token-lm.js';

type Mod = typeof import('node-llama-cpp');
type Model = Awaited<ReturnType<Awaited<ReturnType<Mod['getLlama']>>['loadModel']>>;
type Ctx = Awaited<ReturnType<Model['createContext']>>;
type Seq = ReturnType<Ctx['getSequence']>;

const FLOOR = -1e9; // log of a probability that underflowed to 0 (kept finite so results serialise)

export class LlamaCppLM extends TokenLM {
  readonly prefix: number[];
  readonly maxLength: number;
  readonly eosId: number;
  readonly name: string;
  readonly fingerprint: string;
  private constructor(private llama: { dispose(): Promise<void> }, private model: Model, private ctx: Ctx, private seq: Seq, path: string, version: string) {
    super();
    const bos = model.tokens.bos;
    this.prefix = bos !== null && model.tokens.shouldPrependBosToken ? [bos as unknown as number] : [];
    this.eosId = (model.tokens.eos as unknown as number | null) ?? -1;
    this.maxLength = ctx.contextSize - 1;
    this.name = `llama.cpp via node-llama-cpp ${version} (${path})`;
    this.fingerprint = `llamacpp:${fileFingerprint(path)}:${this.maxLength}`;
  }

  /** null when node-llama-cpp is not installed or cannot load its prebuilt binary */
  static async open(path: string, o: { threads?: number; contextSize?: number } = {}): Promise<LlamaCppLM | null> {
    let mod: Mod;
    try {
      mod = await import('node-llama-cpp');
    } catch {
      return null;
    }
    const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: path });
    // one position more than the longest input: a full context makes llama.cpp shift it
    const contextSize = Math.min(o.contextSize ?? 2048, model.trainContextSize) + 1;
    const ctx = await model.createContext({ contextSize, threads: o.threads ?? 2, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    const version = await nodeLlamaCppVersion();
    return new LlamaCppLM(llama, model, ctx, ctx.getSequence(), path, version);
  }

  encode(text: string): number[] {
    return this.model.tokenize(text) as unknown as number[];
  }
  decode(ids: number[]): string {
    return this.model.detokenize(ids as never);
  }

  /** keeps the longest common prefix of what the sequence holds and `tokens` (at most `keep`), erases the rest; returns the index to evaluate from */
  private async sync(tokens: number[], keep: number): Promise<number> {
    const have = this.seq.contextTokens as unknown as number[];
    let common = 0;
    const lim = Math.min(have.length, tokens.length, keep);
    while (common < lim && have[common] === tokens[common]) common++;
    if (common < this.seq.nextTokenIndex) await this.seq.eraseContextTokenRanges([{ start: common, end: this.seq.nextTokenIndex }]);
    return common;
  }

  protected async logProbRows(input: number[], positions: number[]): Promise<Float32Array[]> {
    if (input.length > this.maxLength) throw new RangeError(`llama.cpp: ${input.length} tokens exceed the context of ${this.maxLength}`);
    // positions must be evaluated in this call, and at least one token must be
    const from = await this.sync(input, Math.min(positions[0]!, input.length - 1));
    const want = new Set(positions);
    const opts = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const items = input.slice(from).map((t, j) => (want.has(from + j) ? [t, { generateNext: { probabilities: true, options: opts } }] : t));
    const res = (await this.seq.controlledEvaluate(items as never)) as ({ next?: { probabilities?: Map<number, number> } } | undefined)[];
    return positions.map((p) => {
      const probs = res[p - from]?.next?.probabilities;
      if (!probs) throw new Error(`llama.cpp returned no probabilities at position ${p}`);
      // the whole vocabulary comes back (top-k 0)
      let V = probs.size;
      for (const t of probs.keys()) if (t >= V) V = t + 1;
      const row = new Float32Array(V).fill(FLOOR);
      for (const [t, pr] of probs) row[t] = pr > 0 ? Math.log(pr) : FLOOR;
      return row;
    });
  }

  protected async generateTokens(context: number[], o: GenerateTokensOptions): Promise<number[]> {
    const from = await this.sync(context, context.length - 1);
    const gen: number[] = [];
    const it = this.seq.evaluate(context.slice(from) as never, o.temperature > 0 ? { temperature: o.temperature, topP: o.topP, seed: o.seed } : { temperature: 0 });
    for await (const t of it) {
      gen.push(t as unknown as number);
      if (o.stop(gen) || gen.length >= o.maxTokens) break;
    }
    return gen;
  }

  async close(): Promise<void> {
    await this.ctx.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
