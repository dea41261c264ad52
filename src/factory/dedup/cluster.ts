/** Union-find over global document numbers, and the per-shard drop lists a near-duplicate corpus step hands to its decision pass. */
export class UnionFind {
  private parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[x] !== r) {
      const nx = this.parent[x]!;
      this.parent[x] = r;
      x = nx;
    }
    return r;
  }
  /** Joins two sets; the smaller root number becomes the root (deterministic). */
  union(a: number, b: number): boolean {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return false;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
    return true;
  }
}

import { fnv1a } from '../../core/hash.js';
import { jaccard } from './shingles.js';
import type { Document } from '../../core/document.js';

export interface DropLists {
  /** shard -> sorted orders of the documents to drop */
  drop: Record<string, number[]>;
  clusters: number;
  /** cluster size -> number of clusters */
  sizes: Record<string, number>;
  /** up to 8 clusters (as shard:order lists) shown side by side in the report */
  sample: string[][];
  /** up to 100 (kept, dropped) pairs whose true Jaccard similarity the report measures */
  probe: [string, string][];
  candidatePairs: number;
}

/**
 * Turns a union-find over documents (numbered in shard order) into drop lists: in every
 * cluster the document with the smallest number (first in shard order, then position) is kept.
 */
export interface Where {
  shard: Int32Array;
  order: Int32Array;
}

export function dropLists(uf: UnionFind, where: Where, candidatePairs: number): DropLists {
  const n = where.shard.length;
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    if (r === i && !members.has(r)) continue;
    let l = members.get(r);
    if (!l) members.set(r, (l = [r]));
    if (r !== i) l.push(i);
  }
  const drop: Record<string, number[]> = {};
  const sizes: Record<string, number> = {};
  const sample: string[][] = [];
  const pairs: { key: number; p: [string, string] }[] = [];
  const name = (i: number) => `${where.shard[i]}:${where.order[i]}`;
  for (const [root, l] of members) {
    if (l.length < 2) continue;
    sizes[l.length] = (sizes[l.length] ?? 0) + 1;
    if (sample.length < 8) sample.push(l.slice(0, 6).map(name));
    for (const i of l) {
      if (i === root) continue;
      (drop[where.shard[i]!] ??= []).push(where.order[i]!);
      // a deterministic sample of (kept, dropped) pairs: the smallest hashes win
      pairs.push({ key: fnv1a(name(i)), p: [name(root), name(i)] });
      if (pairs.length > 400) {
        pairs.sort((a, b) => a.key - b.key);
        pairs.length = 100;
      }
    }
  }
  for (const k of Object.keys(drop)) drop[k]!.sort((a, b) => a - b);
  pairs.sort((a, b) => a.key - b.key);
  return { drop, clusters: Object.values(sizes).reduce((a, b) => a + b, 0), sizes, sample, probe: pairs.slice(0, 100).map((x) => x.p), candidatePairs };
}

export interface ClusterSample {
  k: string;
  text: string;
  sh: string;
}

/** Members of shown clusters and probed pairs report their excerpt and shingles. */
export function clusterSample(g: DropLists, doc: Document, shard: number, order: number, shingles: (d: Document) => Uint32Array, cache: WeakMap<object, Set<string>>): ClusterSample | undefined {
  let want = cache.get(g);
  if (!want) {
    want = new Set([...g.sample.flat(), ...g.probe.flat()]);
    cache.set(g, want);
  }
  const k = `${shard}:${order}`;
  if (!want.has(k)) return undefined;
  return { k, text: doc.text.slice(0, 300), sh: Buffer.from(shingles(doc).buffer).toString('base64') };
}

/** Report figures: cluster sizes, the true Jaccard similarity of probed pairs (an estimate of precision), clusters side by side. */
export function clusterSummary(g: DropLists & { empty?: number }, samples: unknown[], threshold: number): Record<string, unknown> {
  const by = new Map<string, ClusterSample>();
  for (const s of samples as ClusterSample[]) by.set(s.k, s);
  const sims: number[] = [];
  for (const [a, b] of g.probe) {
    const x = by.get(a);
    const y = by.get(b);
    if (!x || !y) continue;
    const dec = (s: string) => {
      const buf = Buffer.from(s, 'base64');
      return new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    };
    sims.push(jaccard(dec(x.sh), dec(y.sh)));
  }
  sims.sort((a, b) => a - b);
  const above = sims.filter((s) => s >= threshold).length;
  return {
    clusters: g.clusters,
    dropped: Object.values(g.drop).reduce((a, l) => a + l.length, 0),
    candidatePairs: g.candidatePairs,
    sizes: g.sizes,
    emptyDocuments: g.empty ?? 0,
    probedPairs: sims.length,
    jaccardThreshold: Number(threshold.toFixed(3)),
    estimatedPrecision: sims.length ? Number((above / sims.length).toFixed(3)) : null,
    medianJaccard: sims.length ? Number(sims[Math.floor(sims.length / 2)]!.toFixed(3)) : null,
    shown: g.sample.map((c) => c.map((k) => ({ k, text: by.get(k)?.text ?? '' }))),
  };
}
