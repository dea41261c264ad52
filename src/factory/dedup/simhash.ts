/**
 * SimHash near-duplicate removal as a corpus step: a 64-bit SimHash per
 * document over its shingles; pairs within Hamming distance k are found with
 * k + 1 block tables (two fingerprints within distance k agree exactly on at
 * least one of k + 1 bit blocks), never by comparing all pairs: the blocks are
 * band keys of out-of-core runs (runs.ts) carrying the fingerprint, and only
 * fingerprints in the same block group are compared. Components are joined and
 * the first document of each is kept.
 */
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { shingleHashes } from './shingles.js';
import { clusterSample, clusterSummary } from './cluster.js';
import { ShardRuns, DropListReader, bandDone, bucketBand, combineRuns, verifyRun, type Group, type RunGlobal, type RunSummary } from './runs.js';
import { join } from 'node:path';

export interface SimHashConfig {
  shingle: number;
  maxDistance: number;
}

function mix64(h: number): [number, number] {
  // two 32-bit halves from one 32-bit shingle hash (murmur3 finalisers with different seeds)
  let a = h ^ 0x9e3779b9;
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 16;
  let b = h ^ 0x7f4a7c15;
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, b >>> 0];
}

export function simhash64(sh: Uint32Array): bigint {
  const w = new Int32Array(64);
  for (const x of sh) {
    const [hi, lo] = mix64(x);
    for (let i = 0; i < 32; i++) {
      w[i]! += (lo >>> i) & 1 ? 1 : -1;
      w[32 + i]! += (hi >>> i) & 1 ? 1 : -1;
    }
  }
  let v = 0n;
  for (let i = 63; i >= 0; i--) v = (v << 1n) | (w[i]! > 0 ? 1n : 0n);
  return v;
}

export function hamming64(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}

/** The k + 1 block values of a fingerprint used as band keys (blocks of more than 32 bits are hashed). */
export function blockKeys(fp: bigint, k: number): Uint32Array {
  const blocks = k + 1;
  const out = new Uint32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const lo = Math.round((64 * b) / blocks);
    const hi = Math.round((64 * (b + 1)) / blocks);
    const v = (fp >> BigInt(lo)) & ((1n << BigInt(hi - lo)) - 1n);
    out[b] = hi - lo <= 32 ? Number(v) : Number((v ^ (v >> 32n)) & 0xffffffffn) ^ Math.imul(b + 1, 0x9e3779b1);
  }
  return out;
}

export class SimHashDedup implements CorpusStep<RunSummary, RunGlobal> {
  readonly corpus = true as const;
  readonly rules = ['dedup.simhash_near_duplicate'] as const;
  private drops = new DropListReader();
  constructor(readonly name: string, private cfg: SimHashConfig) {}

  begin(): RunSummary {
    return new ShardRuns(this.cfg.maxDistance + 1, 2) as unknown as RunSummary;
  }

  observe(doc: Document, s: RunSummary, order: number): void {
    const st = s as unknown as ShardRuns;
    const sh = shingleHashes(doc, this.cfg.shingle);
    if (!sh.length) {
      st.empty++;
      return;
    }
    const fp = simhash64(sh);
    st.push(blockKeys(fp, this.cfg.maxDistance), Uint32Array.of(Number(fp & 0xffffffffn), Number(fp >> 32n)), order);
  }

  end(s: RunSummary, io: { dir: string; shard: string }): RunSummary {
    return (s as unknown as ShardRuns).write(io.dir, io.shard, 'sh');
  }

  verify(s: RunSummary, io: { dir: string; shard: string }): string | null {
    return verifyRun(s, join(io.dir, `${io.shard}.sh`), this.cfg.maxDistance + 1, 2);
  }

  /** Within each group of fingerprints that agree on a block, pairs within Hamming distance k are joined. */
  private onGroup = (g: Group, edge: (a: number, b: number) => void) => {
    const k = this.cfg.maxDistance;
    const n = g.docs.length;
    for (let x = 0; x < n; x++) {
      for (let y = x + 1; y < n; y++) {
        const d = popcount32(g.payload[2 * x]! ^ g.payload[2 * y]!) + popcount32(g.payload[2 * x + 1]! ^ g.payload[2 * y + 1]!);
        if (d <= k) edge(g.docs[x]!, g.docs[y]!);
      }
    }
  };

  /** The bucket stage: one task per block table, run in parallel by the executor. */
  tasks(): number {
    return this.cfg.maxDistance + 1;
  }
  taskDone(i: number, io: { dir: string }): boolean {
    return bandDone(io, 'sh', i);
  }
  runTask(i: number, states: RunSummary[], io: { dir: string; shards: string[] }): void {
    bucketBand(states, io, 'sh', this.cfg.maxDistance + 1, 2, i, this.onGroup);
  }

  combine(states: RunSummary[], io: { dir: string; shards: string[] }): RunGlobal {
    return combineRuns(states, io, 'sh', this.cfg.maxDistance + 1, 2, this.onGroup);
  }

  private want = new WeakMap<object, Set<string>>();
  sample(doc: Document, g: RunGlobal, shard: number, order: number): unknown {
    return clusterSample(g, doc, shard, order, (d) => shingleHashes(d, this.cfg.shingle), this.want);
  }

  /** SimHash has no Jaccard threshold of its own; 0.7 is the usual near-duplicate bar. */
  summarize(g: RunGlobal, samples: unknown[]): Record<string, unknown> {
    return clusterSummary(g, samples, 0.7);
  }

  decide(doc: Document, _ctx: StepContext, g: RunGlobal, shard: number, order: number): Document | Drop {
    return this.drops.has(g, shard, order) ? drop('dedup.simhash_near_duplicate') : doc;
  }
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
