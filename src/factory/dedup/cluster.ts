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

export interface DropLists {
  /** shard -> sorted orders of the documents to drop */
  drop: Record<string, number[]>;
  clusters: number;
  /** cluster size -> number of clusters */
  sizes: Record<string, number>;
  /** up to 20 clusters (as shard:order lists) for the report */
  sample: string[][];
  candidatePairs: number;
}

/**
 * Turns a union-find over documents (numbered in shard order) into drop lists: in every
 * cluster the document with the smallest number (first in shard order, then position) is kept.
 */
export function dropLists(uf: UnionFind, where: { shard: number; order: number }[], candidatePairs: number): DropLists {
  const members = new Map<number, number[]>();
  for (let i = 0; i < where.length; i++) {
    const r = uf.find(i);
    if (r === i && !members.has(r)) continue;
    let l = members.get(r);
    if (!l) members.set(r, (l = [r]));
    if (r !== i) l.push(i);
  }
  const drop: Record<string, number[]> = {};
  const sizes: Record<string, number> = {};
  const sample: string[][] = [];
  for (const [root, l] of members) {
    if (l.length < 2) continue;
    sizes[l.length] = (sizes[l.length] ?? 0) + 1;
    if (sample.length < 20) sample.push(l.map((i) => `${where[i]!.shard}:${where[i]!.order}`));
    for (const i of l) {
      if (i === root) continue;
      const w = where[i]!;
      (drop[w.shard] ??= []).push(w.order);
    }
  }
  for (const k of Object.keys(drop)) drop[k]!.sort((a, b) => a - b);
  return { drop, clusters: Object.values(sizes).reduce((a, b) => a + b, 0), sizes, sample, candidatePairs };
}
