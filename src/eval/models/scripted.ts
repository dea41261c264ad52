/**
 * Sanity models. GoldLM knows every answer (from the tasks' gold()) and must score 100%;
 * RandomLM gives every option an unrelated pseudo-random score and must score chance.
 */
import { createHash } from 'node:crypto';
import type { GenerateRequest, LM, LoglikelihoodRequest, LoglikelihoodResult, RollingRequest, RollingResult } from '../lm.js';
import type { Gold } from '../task.js';

const llKey = (c: string, x: string) => `${c}\u0000${x}`;

export class GoldLM implements LM {
  readonly name = 'scripted gold model';
  readonly fingerprint = 'scripted-gold';
  readonly canScore = true;
  private ll = new Set<string>();
  private rolling = new Set<string>();
  private gen = new Map<string, string>();
  constructor(golds: Iterable<Gold>) {
    for (const g of golds) {
      if (g.type === 'loglikelihood') this.ll.add(llKey(g.context, g.continuation));
      else if (g.type === 'rolling') this.rolling.add(g.text);
      else this.gen.set(g.context, g.output);
    }
  }
  async loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return reqs.map((r) => (this.ll.has(llKey(r.context, r.continuation)) ? { logprob: -0.01, isGreedy: true, tokens: 1 } : { logprob: -10, isGreedy: false, tokens: 1 }));
  }
  async loglikelihoodRolling(reqs: RollingRequest[]): Promise<RollingResult[]> {
    return reqs.map((r) => ({ logprob: this.rolling.has(r.text) ? -1 : -1000, tokens: 100 }));
  }
  async generateUntil(reqs: GenerateRequest[]): Promise<string[]> {
    return reqs.map((r) => this.gen.get(r.context) ?? '');
  }
}

function unit(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32LE(0) / 2 ** 32;
}

export class RandomLM implements LM {
  readonly name: string;
  readonly fingerprint: string;
  readonly canScore = true;
  constructor(readonly seed = 0) {
    this.name = `uniform random model (seed ${seed})`;
    this.fingerprint = `scripted-random:${seed}`;
  }
  async loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return reqs.map((r) => ({ logprob: Math.log(unit(`${this.seed}\u0000${r.context}\u0000${r.continuation}`) + 1e-12), isGreedy: false, tokens: 1 }));
  }
  async loglikelihoodRolling(reqs: RollingRequest[]): Promise<RollingResult[]> {
    return reqs.map((r) => ({ logprob: Math.log(unit(`${this.seed}\u0000${r.text}`) + 1e-12), tokens: 1 }));
  }
  async generateUntil(reqs: GenerateRequest[]): Promise<string[]> {
    return reqs.map((r) => String(Math.floor(unit(`${this.seed}\u0000${r.context}\u0000${r.seed ?? 0}`) * 100)));
  }
}
