/**
 * MinHash-LSH near-duplicate removal as a corpus step. Signatures use
 * universal hashing (a·x + b) mod 2^32 with odd a over 32-bit shingle hashes
 * (native kernels when built); bands of rows are hashed into bucket keys.
 *
 * Out of core: each shard writes, per band, its (key, document) pairs sorted
 * by key, and the document positions, to a binary run file with a checksum.
 * The combine step k-way merges the runs band by band, joining documents that
 * share a key with a union-find over document numbers (4 bytes a document),
 * and writes one drop list per shard; the decision pass reads only its own.
 * In every connected component the first document (shard order, then
 * position) is kept. Same input, same output, whatever the number of workers.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { shardName } from '../../core/shards.js';
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { fnv1a, rng } from '../../core/hash.js';
import { isCjkDoc, shingleHashes, wordTables } from './shingles.js';
import { toU16 } from '../filter/features.js';
import { UnionFind, clusterSample, clusterSummary, type DropLists } from './cluster.js';
import { native } from '../../native/index.js';
import { readChecked, writeChecked, writeFileAtomic } from '../../io/writers.js';

export interface MinHashConfig {
  /** shingle size: characters for Chinese, words otherwise */
  shingle: number;
  bands: number;
  rows: number;
  seed: number;
}

/** What a shard keeps after its observation: counts and the checksum of its run file. */
interface Summary {
  docs: number;
  empty: number;
  bytes: number;
  sha256: string;
}

/** In-memory shard state during observation (typed arrays). */
class ShardKeys {
  keys = new Uint32Array(1024);
  n = 0;
  orders = new Uint32Array(256);
  docs = 0;
  empty = 0;
  push(k: Uint32Array, order: number): void {
    if (this.n + k.length > this.keys.length) {
      const g = new Uint32Array(Math.max(this.keys.length * 2, this.n + k.length));
      g.set(this.keys.subarray(0, this.n));
      this.keys = g;
    }
    this.keys.set(k, this.n);
    this.n += k.length;
    if (this.docs >= this.orders.length) {
      const g = new Uint32Array(this.orders.length * 2);
      g.set(this.orders);
      this.orders = g;
    }
    this.orders[this.docs++] = order;
  }
}

const MAGIC = 0x4853484d; // "MHSH"

/** Buffered reader of one band section of a run file: (key, doc) pairs in key order. */
class RunReader {
  private buf: Uint32Array;
  private pos = 0;
  private len = 0;
  private left: number;
  private off: number;
  key = 0;
  doc = 0;
  done = false;
  constructor(private fd: number, offset: number, pairs: number, chunk = 1 << 14) {
    this.off = offset;
    this.left = pairs;
    this.buf = new Uint32Array(chunk * 2);
    this.next();
  }
  next(): void {
    if (this.pos >= this.len) {
      if (this.left === 0) {
        this.done = true;
        return;
      }
      const pairs = Math.min(this.left, this.buf.length / 2);
      const bytes = new Uint8Array(this.buf.buffer, 0, pairs * 8);
      readSync(this.fd, bytes, 0, bytes.length, this.off);
      this.off += bytes.length;
      this.left -= pairs;
      this.len = pairs * 2;
      this.pos = 0;
    }
    this.key = this.buf[this.pos]!;
    this.doc = this.buf[this.pos + 1]!;
    this.pos += 2;
  }
}

export class MinHashDedup implements CorpusStep<Summary, DropLists & { empty: number; dir: string }> {
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

  begin(): Summary {
    return new ShardKeys() as unknown as Summary;
  }

  observe(doc: Document, s: Summary, order: number): void {
    const st = s as unknown as ShardKeys;
    const sig = this.docSignature(doc);
    if (!sig) {
      st.empty++; // no letters, digits or CJK: never a near-duplicate candidate
      return;
    }
    st.push(this.bandKeys(sig), order);
  }

  /** Writes the shard's run file: header, document positions, then per band the (key, doc) pairs sorted by key. */
  end(s: Summary, io: { dir: string; shard: string }): Summary {
    const st = s as unknown as ShardKeys;
    const bands = this.cfg.bands;
    const n = st.docs;
    const out = new Uint32Array(4 + n + bands * n * 2);
    out[0] = MAGIC;
    out[1] = bands;
    out[2] = n;
    out[3] = 0;
    out.set(st.orders.subarray(0, n), 4);
    const idx = new Uint32Array(n);
    const col = new Uint32Array(n);
    for (let b = 0; b < bands; b++) {
      for (let i = 0; i < n; i++) {
        idx[i] = i;
        col[i] = st.keys[i * bands + b]!;
      }
      idx.sort((x, y) => col[x]! - col[y]! || x - y);
      const base = 4 + n + b * n * 2;
      for (let i = 0; i < n; i++) {
        out[base + 2 * i] = col[idx[i]!]!;
        out[base + 2 * i + 1] = idx[i]!;
      }
    }
    const bytes = new Uint8Array(out.buffer);
    const path = join(io.dir, `${io.shard}.mh`);
    writeFileAtomic(path, bytes);
    return { docs: n, empty: st.empty, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  verify(s: Summary, io: { dir: string; shard: string }): string | null {
    const path = join(io.dir, `${io.shard}.mh`);
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      return `${path}: ${(e as Error).message}`;
    }
    if (buf.length !== s.bytes) return `${path}: truncated run file (${buf.length} of ${s.bytes} bytes)`;
    if (createHash('sha256').update(buf).digest('hex') !== s.sha256) return `${path}: run file checksum mismatch (corrupted)`;
    if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== this.cfg.bands || buf.readUInt32LE(8) !== s.docs) return `${path}: run file header does not match the step`;
    return null;
  }

  combine(states: Summary[], io: { dir: string; shards: string[] }): DropLists & { empty: number; dir: string } {
    const bands = this.cfg.bands;
    const offsets: number[] = [];
    let total = 0;
    const fds: number[] = [];
    try {
      states.forEach((s, i) => {
        const path = join(io.dir, `${io.shards[i]}.mh`);
        // check length and checksum before trusting the run (the executor re-runs bad shards first)
        const bad = this.verify(s, { dir: io.dir, shard: io.shards[i]! });
        if (bad) throw new Error(bad);
        offsets.push(total);
        total += s.docs;
        fds.push(openSync(path, 'r'));
      });
      const uf = new UnionFind(total);
      let pairs = 0;
      for (let b = 0; b < bands; b++) {
        // k-way merge of the shards' band-b runs (a small heap over shards)
        const readers = states.map((s, i) => new RunReader(fds[i]!, (4 + s.docs + b * s.docs * 2) * 4, s.docs));
        const heap: number[] = [];
        const less = (x: number, y: number) => readers[x]!.key < readers[y]!.key || (readers[x]!.key === readers[y]!.key && (offsets[x]! + readers[x]!.doc) < (offsets[y]! + readers[y]!.doc));
        const up = (i: number) => {
          while (i > 0) {
            const p = (i - 1) >> 1;
            if (!less(heap[i]!, heap[p]!)) break;
            [heap[i], heap[p]] = [heap[p]!, heap[i]!];
            i = p;
          }
        };
        const down = (i: number) => {
          for (;;) {
            let c = 2 * i + 1;
            if (c >= heap.length) break;
            if (c + 1 < heap.length && less(heap[c + 1]!, heap[c]!)) c++;
            if (!less(heap[c]!, heap[i]!)) break;
            [heap[i], heap[c]] = [heap[c]!, heap[i]!];
            i = c;
          }
        };
        readers.forEach((r, i) => {
          if (!r.done) {
            heap.push(i);
            up(heap.length - 1);
          }
        });
        let prevKey = -1;
        let prevDoc = -1;
        while (heap.length) {
          const i = heap[0]!;
          const r = readers[i]!;
          const gdoc = offsets[i]! + r.doc;
          if (r.key === prevKey) {
            pairs++;
            uf.union(prevDoc, gdoc);
          }
          prevKey = r.key;
          prevDoc = gdoc;
          r.next();
          if (r.done) {
            heap[0] = heap[heap.length - 1]!;
            heap.pop();
          }
          if (heap.length) down(0);
        }
      }
      // drop lists, one file per shard; cluster sizes; a sample of clusters and of (kept, dropped) pairs
      // component sizes in a typed array (4 bytes a document, whatever the number of clusters)
      const members = new Uint32Array(total);
      for (let g = 0; g < total; g++) members[uf.find(g)]!++;
      const sizes: Record<string, number> = {};
      const shownRoots: number[] = [];
      let clusters = 0;
      for (let g = 0; g < total; g++) {
        const n = members[g]!;
        if (n < 2) continue;
        clusters++;
        sizes[n] = (sizes[n] ?? 0) + 1;
        if (shownRoots.length < 8) shownRoots.push(g);
      }
      const name = (g: number) => {
        let s = 0;
        while (s + 1 < offsets.length && offsets[s + 1]! <= g) s++;
        return { s, local: g - offsets[s]! };
      };
      const orderBuf = new Uint32Array(1);
      const orderOf = (s: number, local: number) => {
        readSync(fds[s]!, new Uint8Array(orderBuf.buffer), 0, 4, (4 + local) * 4);
        return orderBuf[0]!;
      };
      const label = (g: number) => {
        const { s, local } = name(g);
        return `${s}:${orderOf(s, local)}`;
      };
      const shown = new Map<number, number[]>(shownRoots.map((r) => [r, [r]]));
      const probe: { key: number; p: [number, number] }[] = [];
      let dropped = 0;
      for (let s = 0; s < states.length; s++) {
        const drops: number[] = [];
        for (let local = 0; local < states[s]!.docs; local++) {
          const g = offsets[s]! + local;
          const r = uf.find(g);
          if (r === g) continue;
          drops.push(orderOf(s, local));
          dropped++;
          const l = shown.get(r);
          if (l && l.length < 6) l.push(g);
          probe.push({ key: fnv1a(`${s}:${local}`), p: [r, g] });
          if (probe.length > 400) {
            probe.sort((x, y) => x.key - y.key);
            probe.length = 100;
          }
        }
        drops.sort((x, y) => x - y);
        writeChecked(join(io.dir, `${io.shards[s]}.drop.json`), drops);
      }
      probe.sort((x, y) => x.key - y.key);
      return {
        drop: {},
        clusters,
        sizes,
        sample: [...shown.values()].map((l) => l.map(label)),
        probe: probe.slice(0, 100).map((x) => [label(x.p[0]), label(x.p[1])] as [string, string]),
        candidatePairs: pairs,
        empty: states.reduce((a, s) => a + s.empty, 0),
        dir: io.dir,
        dropped,
      } as DropLists & { empty: number; dir: string };
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  private want = new WeakMap<object, Set<string>>();
  sample(doc: Document, g: DropLists, shard: number, order: number): unknown {
    return clusterSample(g, doc, shard, order, (d) => shingleHashes(d, this.cfg.shingle), this.want);
  }

  /** The LSH threshold (1/b)^(1/r): pairs above it are what the step means to find. */
  summarize(g: DropLists & { empty: number; dropped?: number }, samples: unknown[]): Record<string, unknown> {
    return { ...clusterSummary(g, samples, Math.pow(1 / this.cfg.bands, 1 / this.cfg.rows)), dropped: g.dropped };
  }

  decide(doc: Document, _ctx: StepContext, g: DropLists & { dir: string }, shard: number, order: number): Document | Drop {
    let m = this.dropSets.get(g);
    if (!m) this.dropSets.set(g, (m = new Map()));
    let set = m.get(shard);
    if (!set) {
      // only this shard's drop list is read
      set = new Set(readChecked(join(g.dir, `${shardName(shard)}.drop.json`)) as number[]);
      m.set(shard, set);
    }
    return set.has(order) ? drop('dedup.minhash_near_duplicate') : doc;
  }
}
