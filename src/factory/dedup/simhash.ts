/**
 * SimHash near-duplicate removal as a corpus step: a 64-bit SimHash per
 * document over its shingles; pairs within Hamming distance k are found with
 * k + 1 band tables (two fingerprints within distance k agree exactly on at
 * least one of k + 1 bit blocks), never by comparing all pairs; components are
 * joined and the first document of each is kept.
 */
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { shingleHashes } from './shingles.js';
import { UnionFind, clusterSample, clusterSummary, dropLists, type DropLists } from './cluster.js';

export interface SimHashConfig {
  shingle: number;
  maxDistance: number;
}

interface Summary {
  /** hex fingerprints */
  fp: string[];
  orders: number[];
  empty: number;
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

export class SimHashDedup implements CorpusStep<Summary, DropLists & { empty: number }> {
  readonly corpus = true as const;
  readonly rules = ['dedup.simhash_near_duplicate'] as const;
  private dropSets = new WeakMap<object, Map<number, Set<number>>>();
  constructor(readonly name: string, private cfg: SimHashConfig) {}

  begin(): Summary {
    return { fp: [], orders: [], empty: 0 };
  }

  observe(doc: Document, s: Summary, order: number): void {
    const sh = shingleHashes(doc, this.cfg.shingle);
    if (!sh.length) {
      s.empty++;
      return;
    }
    s.fp.push(simhash64(sh).toString(16).padStart(16, '0'));
    s.orders.push(order);
  }

  combine(states: Summary[]): DropLists & { empty: number } {
    const fps: bigint[] = [];
    const shards: number[] = [];
    const orders: number[] = [];
    states.forEach((s, shard) => s.fp.forEach((f, i) => {
      fps.push(BigInt(`0x${f}`));
      shards.push(shard);
      orders.push(s.orders[i]!);
    }));
    const where = { shard: Int32Array.from(shards), order: Int32Array.from(orders) };
    const k = this.cfg.maxDistance;
    const blocks = k + 1;
    const uf = new UnionFind(fps.length);
    let pairs = 0;
    // block boundaries over 64 bits
    const bounds = Array.from({ length: blocks + 1 }, (_, i) => Math.round((64 * i) / blocks));
    for (let b = 0; b < blocks; b++) {
      const lo = BigInt(bounds[b]!);
      const mask = (1n << BigInt(bounds[b + 1]! - bounds[b]!)) - 1n;
      const table = new Map<bigint, number[]>();
      fps.forEach((f, i) => {
        const key = (f >> lo) & mask;
        let l = table.get(key);
        if (!l) table.set(key, (l = []));
        l.push(i);
      });
      for (const l of table.values()) {
        if (l.length < 2) continue;
        for (let x = 0; x < l.length; x++) {
          for (let y = x + 1; y < l.length; y++) {
            if (hamming64(fps[l[x]!]!, fps[l[y]!]!) <= k) {
              pairs++;
              uf.union(l[x]!, l[y]!);
            }
          }
        }
      }
    }
    return { ...dropLists(uf, where, pairs), empty: states.reduce((a, s) => a + s.empty, 0) };
  }

  private want = new WeakMap<object, Set<string>>();
  sample(doc: Document, g: DropLists, shard: number, order: number): unknown {
    return clusterSample(g, doc, shard, order, (d) => shingleHashes(d, this.cfg.shingle), this.want);
  }

  /** SimHash has no Jaccard threshold of its own; 0.7 is the usual near-duplicate bar. */
  summarize(g: DropLists & { empty: number }, samples: unknown[]): Record<string, unknown> {
    return clusterSummary(g, samples, 0.7);
  }

  decide(doc: Document, _ctx: StepContext, g: DropLists, shard: number, order: number): Document | Drop {
    let m = this.dropSets.get(g);
    if (!m) this.dropSets.set(g, (m = new Map()));
    let set = m.get(shard);
    if (!set) m.set(shard, (set = new Set(g.drop[shard] ?? [])));
    return set.has(order) ? drop('dedup.simhash_near_duplicate') : doc;
  }
}
