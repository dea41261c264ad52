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
import { isCjkDoc, shingleHashes, wordTables } from './shingles.js';
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

/** In-memory shard summary (typed arrays, 4 bytes a key); serialises to Summary. */
class ShardKeys {
  keys = new Uint32Array(1024);
  n = 0;
  orders: number[] = [];
  empty = 0;
  push(k: Uint32Array): void {
    if (this.n + k.length > this.keys.length) {
      const g = new Uint32Array(Math.max(this.keys.length * 2, this.n + k.length));
      g.set(this.keys.subarray(0, this.n));
      this.keys = g;
    }
    this.keys.set(k, this.n);
    this.n += k.length;
  }
  toJSON(): Summary {
    const k = this.keys.subarray(0, this.n);
    return { keys: Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('base64'), orders: this.orders, empty: this.empty };
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
    if (native) {
      const out = new Uint32Array(this.a.length);
      const u = toU16(doc.text);
      if (isCjkDoc(doc)) return native.minhashCjk(u, this.cfg.shingle, this.a, this.b, out) ? out : null;
      const t = wordTables();
      return native.minhashWords(u, this.cfg.shingle, t.isWord, t.lower, this.a, this.b, out) ? out : null;
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
    st.push(this.bandKeys(sig));
    st.orders.push(order);
  }

  combine(states: Summary[]): DropLists & { empty: number } {
    const bands = this.cfg.bands;
    let n = 0;
    for (const s of states) n += s.orders.length;
    const shardOf = new Int32Array(n);
    const orderOf = new Int32Array(n);
    const keys = new Uint32Array(n * bands);
    let g = 0;
    states.forEach((s, shard) => {
      const buf = Buffer.from(s.keys, 'base64');
      if (buf.length !== s.orders.length * bands * 4) throw new Error(`${this.name}: summary of shard ${shard} is corrupt (${buf.length} bytes of band keys for ${s.orders.length} documents)`);
      keys.set(new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)), g * bands);
      for (const o of s.orders) {
        shardOf[g] = shard;
        orderOf[g++] = o;
      }
    });
    const uf = new UnionFind(n);
    let pairs = 0;
    // per band: sort documents by key (typed arrays, no hash map) and join runs of equal keys
    const idx = new Uint32Array(n);
    const col = new Uint32Array(n);
    for (let b = 0; b < bands; b++) {
      for (let i = 0; i < n; i++) {
        idx[i] = i;
        col[i] = keys[i * bands + b]!;
      }
      idx.sort((x, y) => col[x]! - col[y]! || x - y);
      for (let i = 1; i < n; i++) {
        if (col[idx[i]!] === col[idx[i - 1]!]) {
          pairs++;
          uf.union(idx[i - 1]!, idx[i]!);
        }
      }
    }
    return { ...dropLists(uf, { shard: shardOf, order: orderOf }, pairs), empty: states.reduce((a, s) => a + s.empty, 0) };
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
