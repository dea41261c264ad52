/**
 * The request types implemented once over a token-level model (our engine, llama.cpp): the
 * pair is tokenised jointly and split where the context's tokens end (lm-evaluation-harness's
 * rule, so that merges across the boundary are the model's own), inputs are cut on the left to
 * the model's length, requests that share the same input share one forward pass (the A/B/C/D
 * options of a question), rolling log-likelihood scores every token exactly once in windows
 * that each see a full context, and generation stops at a stop string, EOS or the token limit.
 */
import { cutAtStop, movedWhitespace, type GenerateRequest, type LM, type LoglikelihoodRequest, type LoglikelihoodResult, type RollingRequest, type RollingResult } from '../lm.js';

export interface GenerateTokensOptions {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** called after each new token with every token generated so far; true stops */
  stop: (generated: number[]) => boolean;
}

export abstract class TokenLM implements LM {
  abstract readonly name: string;
  abstract readonly fingerprint: string;
  readonly canScore = true;
  /** tokens put before every input (BOS for LLaMA models) */
  abstract readonly prefix: number[];
  /** longest input the model takes */
  abstract readonly maxLength: number;
  abstract readonly eosId: number;
  abstract encode(text: string): number[];
  abstract decode(ids: number[]): string;
  /**
   * natural-log probability rows after input[0..p] for each requested position p
   * (a row holds the whole vocabulary)
   */
  protected abstract logProbRows(input: number[], positions: number[]): Promise<Float32Array[]>;
  protected abstract generateTokens(context: number[], o: GenerateTokensOptions): Promise<number[]>;

  /** context and continuation ids as lm-evaluation-harness splits them */
  encodePair(context: string, continuation: string): { ctx: number[]; cont: number[] } {
    const m = movedWhitespace(context, continuation);
    if (m.context === '') return { ctx: [...this.prefix], cont: this.encode(m.continuation) };
    const whole = this.encode(m.context + m.continuation);
    const ctx = this.encode(m.context);
    // the continuation is what follows the context's length in the joint encoding, so a merge
    // across the boundary is the model's own (the harness's rule)
    return { ctx: [...this.prefix, ...ctx], cont: whole.slice(ctx.length) };
  }

  async loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    // one job per distinct input; its positions are the union of its requests'
    const jobs = new Map<string, { input: number[]; positions: Set<number>; rows?: Map<number, Float32Array> }>();
    const plan = reqs.map((r) => {
      const { ctx, cont } = this.encodePair(r.context, r.continuation);
      if (cont.length === 0) return null;
      let all = [...ctx, ...cont];
      if (all.length - 1 > this.maxLength) all = all.slice(all.length - 1 - this.maxLength);
      const input = all.slice(0, -1);
      const key = input.join(',');
      const job = jobs.get(key) ?? { input, positions: new Set<number>() };
      jobs.set(key, job);
      const first = input.length - cont.length;
      for (let i = 0; i < cont.length; i++) job.positions.add(first + i);
      return { key, cont, first };
    });
    for (const job of jobs.values()) {
      const pos = [...job.positions].sort((a, b) => a - b);
      const rows = await this.logProbRows(job.input, pos);
      job.rows = new Map(pos.map((p, i) => [p, rows[i]!]));
    }
    return plan.map((p) => {
      if (!p) return { logprob: 0, isGreedy: true, tokens: 0 };
      const rows = jobs.get(p.key)!.rows!;
      let lp = 0, greedy = true;
      p.cont.forEach((t, i) => {
        const row = rows.get(p.first + i)!;
        lp += row[t]!;
        if (argmax(row) !== t) greedy = false;
      });
      return { logprob: lp, isGreedy: greedy, tokens: p.cont.length };
    });
  }

  async loglikelihoodRolling(reqs: RollingRequest[]): Promise<RollingResult[]> {
    const out: RollingResult[] = [];
    for (const r of reqs) {
      const toks = [...this.prefix, ...this.encode(r.text)];
      // without a prefix token the first token has no context and is not scored
      let lp = 0, n = 0;
      for (let s = 1; s < toks.length; s += this.maxLength) {
        const e = Math.min(s + this.maxLength, toks.length);
        const inStart = Math.max(0, e - 1 - this.maxLength);
        const input = toks.slice(inStart, e - 1);
        const positions: number[] = [];
        for (let i = s; i < e; i++) positions.push(i - 1 - inStart);
        const rows = await this.logProbRows(input, positions);
        for (let i = s; i < e; i++) lp += rows[i - s]![toks[i]!]!;
        n += e - s;
      }
      out.push({ logprob: lp, tokens: n });
    }
    return out;
  }

  /** every prompt token's text, character offset and log-probability given what precedes it (BOS included) */
  async promptScores(text: string, top = 1): Promise<PromptScores> {
    let ids = this.encode(text);
    const keep = this.maxLength - this.prefix.length;
    if (ids.length > keep) ids = ids.slice(ids.length - keep);
    const all = [...this.prefix, ...ids];
    const from = this.prefix.length ? this.prefix.length : 1;
    const positions: number[] = [];
    for (let i = from; i < all.length; i++) positions.push(i - 1);
    const rows = all.length > 1 ? await this.logProbRows(all.slice(0, -1), positions) : [];
    const tokens: string[] = [], offsets: number[] = [], logprobs: number[] = [], tops: Record<string, number>[] = [];
    let off = 0;
    ids.forEach((t, i) => {
      const tail = ids.slice(Math.max(0, i - 8), i);
      const piece = tail.length ? this.decode([...tail, t]).slice(this.decode(tail).length) : this.decode([t]);
      tokens.push(piece);
      offsets.push(Math.min(off, text.length));
      off += piece.length;
      const row = this.prefix.length ? rows[i] : i === 0 ? undefined : rows[i - 1];
      logprobs.push(row ? row[t]! : NaN);
      const best: Record<string, number> = {};
      if (row) {
        const chosen = new Set<number>();
        for (let k = 0; k < top; k++) {
          let b = -1;
          for (let j = 0; j < row.length; j++) if (!chosen.has(j) && (b < 0 || row[j]! > row[b]!)) b = j;
          chosen.add(b);
          best[this.decode([b])] = row[b]!;
        }
      }
      tops.push(best);
    });
    return { tokens, offsets, logprobs, top: tops };
  }

  async generateUntil(reqs: GenerateRequest[]): Promise<string[]> {
    const out: string[] = [];
    for (const r of reqs) {
      let ctx = [...this.prefix, ...this.encode(r.context)];
      // the context keeps at least half the model's length (a small model's limit would leave no room)
      const room = Math.max(Math.ceil(this.maxLength / 2), this.maxLength - r.maxTokens);
      if (ctx.length > room) ctx = ctx.slice(ctx.length - room);
      const maxTokens = Math.min(r.maxTokens, this.maxLength - ctx.length);
      // decoded against a short tail of the context, so that a leading space or a split
      // UTF-8 sequence comes out as it would in the whole text
      const tail = ctx.slice(-16);
      const base = this.decode(tail);
      const text = (gen: number[]) => {
        const full = this.decode([...tail, ...gen]);
        return full.startsWith(base) ? full.slice(base.length) : this.decode(gen);
      };
      const gen = maxTokens <= 0 ? [] : await this.generateTokens(ctx, {
        maxTokens,
        temperature: r.temperature ?? 0,
        topP: r.topP ?? 1,
        seed: r.seed ?? 1234,
        stop: (g) => g[g.length - 1] === this.eosId || cutAtStop(text(g), r.until).stopped,
      });
      if (gen[gen.length - 1] === this.eosId) gen.pop();
      out.push(cutAtStop(text(gen), r.until).text);
    }
    return out;
  }
}

export function argmax(x: Float32Array | Float64Array): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[b]!) b = i;
  return b;
}

/** log-softmax of a logits row, in float64 accumulation */
export function logSoftmax(logits: Float32Array): Float32Array {
  let m = -Infinity;
  for (const v of logits) if (v > m) m = v;
  let s = 0;
  for (const v of logits) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/** what an OpenAI-compatible server echoes for a prompt: each token's text, offset and log-probability */
export interface PromptScores {
  tokens: string[];
  offsets: number[];
  logprobs: number[];
  top: Record<string, number>[];
}
