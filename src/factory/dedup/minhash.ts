/**
 * MinHash-LSH near-duplicate removal as a corpus step. Signatures use
 * universal hashing (a·x + b) mod 2^32 with odd a over 32-bit shingle hashes
 * (native kernels when built); bands of rows are hashed into bucket keys.
 *
 * Out of core through runs.ts: per-shard sorted band runs with checksums, a
 * k-way merge per band, a union-find over document numbers, one drop list per
 * shard. In every connected component the first document (shard order, then
 * position) is kept. Same input, same output, whatever the number of workers.
 */
import { join } from 'node:path';
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { rng } from '../../core/hash.js';
import { isCjkDoc, shingleHashes, wordTables } from './shingles.js';
import { toU16 } from '../filter/features.js';
import { clusterSample, clusterSummary } from './cluster.js';
import { ShardRuns, DropListReader, bandDone, bucketBand, combineRuns, verifyRun, type Group, type RunGlobal, type RunSummary } from './runs.js';
import { native } from '../../native/index.js';

export interface MinHashConfig {
  /** shingle size: characters for Chinese, words otherwise */
  shingle: number;
  bands: number;
  rows: number;
  seed: number;
}


export class MinHashDedup implements CorpusStep<RunSummary, RunGlobal> {
  readonly corpus = true as const;
  readonly rules = ['dedup.minhash_near_duplicate'] as const;
  private a: Uint32Array;
  private b: Uint32Array;
  private drops = new DropListReader();

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

  begin(): RunSummary {
    return new ShardRuns(this.cfg.bands, 0) as unknown as RunSummary;
  }

  observe(doc: Document, s: RunSummary, order: number): void {
    const st = s as unknown as ShardRuns;
    const sig = this.docSignature(doc);
    if (!sig) {
      st.empty++; // no letters, digits or CJK: never a near-duplicate candidate
      return;
    }
    st.push(this.bandKeys(sig), null, order);
  }

  end(s: RunSummary, io: { dir: string; shard: string }): RunSummary {
    return (s as unknown as ShardRuns).write(io.dir, io.shard, 'mh');
  }

  verify(s: RunSummary, io: { dir: string; shard: string }): string | null {
    return verifyRun(s, join(io.dir, `${io.shard}.mh`), this.cfg.bands, 0);
  }

  /** Documents sharing a bucket key in a band are joined. */
  private onGroup = (g: Group, edge: (a: number, b: number) => void) => {
    for (let i = 1; i < g.docs.length; i++) edge(g.docs[0]!, g.docs[i]!);
  };

  /** The bucket stage: one task per band, run in parallel by the executor. */
  tasks(): number {
    return this.cfg.bands;
  }
  taskDone(i: number, io: { dir: string }): boolean {
    return bandDone(io, 'mh', i);
  }
  runTask(i: number, states: RunSummary[], io: { dir: string; shards: string[] }): void {
    bucketBand(states, io, 'mh', this.cfg.bands, 0, i, this.onGroup);
  }

  /** The cluster stage (any band not bucketed yet is done here first). */
  combine(states: RunSummary[], io: { dir: string; shards: string[] }): RunGlobal {
    return combineRuns(states, io, 'mh', this.cfg.bands, 0, this.onGroup);
  }

  private want = new WeakMap<object, Set<string>>();
  sample(doc: Document, g: RunGlobal, shard: number, order: number): unknown {
    return clusterSample(g, doc, shard, order, (d) => shingleHashes(d, this.cfg.shingle), this.want);
  }

  /** The LSH threshold (1/b)^(1/r): pairs above it are what the step means to find. */
  summarize(g: RunGlobal, samples: unknown[]): Record<string, unknown> {
    return clusterSummary(g, samples, Math.pow(1 / this.cfg.bands, 1 / this.cfg.rows));
  }

  decide(doc: Document, _ctx: StepContext, g: RunGlobal, shard: number, order: number): Document | Drop {
    return this.drops.has(g, shard, order) ? drop('dedup.minhash_near_duplicate') : doc;
  }
}
