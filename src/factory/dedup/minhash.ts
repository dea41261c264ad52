/**
 * MinHash-LSH near-duplicate removal as a corpus step. Signatures use
 * universal hashing (a·x + b) mod 2^32 with odd a over 32-bit shingle hashes;
 * bands of rows are hashed into buckets; documents sharing a bucket in any band
 * are candidates, joined into connected components, and the first document of
 * each component (shard order, then position) is kept. Same input, same output,
 * whatever the number of workers.
 */
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { rng } from '../../core/hash.js';
import { isCjkDoc, shingleHashes } from './shingles.js';
import { toU16 } from '../filter/features.js';
import { native } from '../../native/index.js';
import { UnionFind, clusterSample, clusterSummary, dropLists, type DropLists } from './cluster.js';

export interface MinHashConfig {
  /** shingle size: characters for Chinese, words otherwise */
  shingle: number;
  bands: number;
  rows: number;
  seed: number;
}

interface Summary {
  /** band keys of each observed document, base64 of a little-endian Uint32Array (bands per document) */
  keys: string;
  orders: number[];
  empty: number;
}

/** In-memory shard summary; serialises to Summary. */
class ShardKeys {
  pending: number[] = [];
  orders: number[] = [];
  empty = 0;
  toJSON(): Summary {
    return { keys: Buffer.from(Uint32Array.from(this.pending).buffer).toString('base64'), orders: this.orders, empty: this.empty };
  }
}

export class MinHashDedup implements CorpusStep<Summary, DropLists & { empty: number }> {
  readonly corpus = true as const;
  readonly rules = ['dedup.minhash_near_duplicate'] as const;
  private a: Uint32Array;
  private b: Uint32Array;
  private dropSets = new WeakMap<object, Map<number, Set<number>>>();

  constructor(readonly name: string, private cfg: MinHashConfig) {
    const r = rng(cfg.seed);
    const n = cfg.bands * cfg.rows;
    this.a = new Uint32Array(n);
    this.b = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.a[i] = ((r() * 4294967296) | 1) >>> 0;
      this.b[i] = (r() * 4294967296) >>> 0;
    }
  }

  /** The MinHash signature of a shingle set (bands × rows values): the native kernel when built, else the reference. */
  signature(sh: Uint32Array): Uint32Array {
    if (native) {
      const out = new Uint32Array(this.a.length);
      native.minhash(sh, this.a, this.b, out);
      return out;
    }
    return this.signatureReference(sh);
  }

  /** TypeScript reference of the signature kernel. */
  signatureReference(sh: Uint32Array): Uint32Array {
    const n = this.a.length;
    const sig = new Uint32Array(n).fill(0xffffffff);
    for (let j = 0; j < sh.length; j++) {
      const x = sh[j]!;
      for (let i = 0; i < n; i++) {
        const v = (Math.imul(this.a[i]!, x) + this.b[i]!) >>> 0;
        if (v < sig[i]!) sig[i] = v;
      }
    }
    return sig;
  }

  bandKeys(sig: Uint32Array): Uint32Array {
    const { bands, rows } = this.cfg;
    const out = new Uint32Array(bands);
    for (let b = 0; b < bands; b++) {
      let h = 0x811c9dc5 ^ b;
      for (let r = 0; r < rows; r++) h = Math.imul(h ^ sig[b * rows + r]!, 0x01000193);
      out[b] = h >>> 0;
    }
    return out;
  }

  begin(): Summary {
    return new ShardKeys() as unknown as Summary;
  }

  /** Signature of a document, or null when it has no shingles. */
  docSignature(doc: Document): Uint32Array | null {
    if (native && isCjkDoc(doc)) {
      const out = new Uint32Array(this.a.length);
      return native.minhashCjk(toU16(doc.text), this.cfg.shingle, this.a, this.b, out) ? out : null;
    }
    const sh = shingleHashes(doc, this.cfg.shingle);
    return sh.length ? this.signature(sh) : null;
  }

  observe(doc: Document, s: Summary, order: number): void {
    const st = s as unknown as ShardKeys;
    const sig = this.docSignature(doc);
    if (!sig) {
      st.empty++; // no letters, digits or CJK: never a near-duplicate candidate
      return;
    }
    for (const k of this.bandKeys(sig)) st.pending.push(k);
    st.orders.push(order);
  }

  combine(states: Summary[]): DropLists & { empty: number } {
    const where: { shard: number; order: number }[] = [];
    const allKeys: Uint32Array[] = [];
    states.forEach((s, shard) => {
      const buf = Buffer.from(s.keys, 'base64');
      const keys = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
      if (keys.length !== s.orders.length * this.cfg.bands) throw new Error(`${this.name}: summary of shard ${shard} is corrupt (${keys.length} band keys for ${s.orders.length} documents)`);
      allKeys.push(keys);
      for (const o of s.orders) where.push({ shard, order: o });
    });
    const uf = new UnionFind(where.length);
    let pairs = 0;
    for (let b = 0; b < this.cfg.bands; b++) {
      const first = new Map<number, number>();
      let g = 0;
      for (const keys of allKeys) {
        for (let d = 0; d < keys.length / this.cfg.bands; d++, g++) {
          const k = keys[d * this.cfg.bands + b]!;
          const f = first.get(k);
          if (f === undefined) first.set(k, g);
          else {
            pairs++;
            uf.union(f, g);
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

  /** The LSH threshold (1/b)^(1/r): pairs above it are what the step means to find. */
  summarize(g: DropLists & { empty: number }, samples: unknown[]): Record<string, unknown> {
    return clusterSummary(g, samples, Math.pow(1 / this.cfg.bands, 1 / this.cfg.rows));
  }

  decide(doc: Document, _ctx: StepContext, g: DropLists, shard: number, order: number): Document | Drop {
    let m = this.dropSets.get(g);
    if (!m) this.dropSets.set(g, (m = new Map()));
    let set = m.get(shard);
    if (!set) m.set(shard, (set = new Set(g.drop[shard] ?? [])));
    return set.has(order) ? drop('dedup.minhash_near_duplicate') : doc;
  }
}
