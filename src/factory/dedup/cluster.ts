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

import { jaccard } from './shingles.js';
import type { Document } from '../../core/document.js';

/** What the report needs of a near-duplicate step's combined state. */
export interface ClusterFacts {
  clusters: number;
  /** cluster size -> number of clusters */
  sizes: Record<string, number>;
  /** a few clusters (as shard:order lists) shown side by side in the report */
  sample: string[][];
  /** up to 100 (kept, dropped) pairs whose true Jaccard similarity the report measures */
  probe: [string, string][];
  candidatePairs: number;
  dropped: number;
  empty: number;
}

export interface ClusterSample {
  k: string;
  text: string;
  sh: string;
}

/** Members of shown clusters and probed pairs report their excerpt and shingles. */
export function clusterSample(g: ClusterFacts, doc: Document, shard: number, order: number, shingles: (d: Document) => Uint32Array, cache: WeakMap<object, Set<string>>): ClusterSample | undefined {
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
export function clusterSummary(g: ClusterFacts, samples: unknown[], threshold: number): Record<string, unknown> {
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
    dropped: g.dropped,
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
