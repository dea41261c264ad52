/**
 * Out-of-core banding shared by the near-duplicate steps. During observation
 * each shard collects, per document, B band keys and a small payload; when the
 * shard ends it writes one run file: header, the documents' positions, then
 * per band the entries (key, document, payload…) sorted by key, and keeps the
 * file's length and sha256. The combine step checks every run, k-way merges
 * them band by band (one bucket task per band, in parallel), hands each group of
 * documents sharing a key to the step, which reports the pairs it accepts as
 * edges; the cluster stage streams the edges into a union-find over document
 * numbers and writes one drop list per shard: in every connected component the first
 * document (shard order, then position) is kept. Memory: 8 bytes per document
 * plus one group and the merge buffers.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fnv1a } from '../../core/hash.js';
import { writeChecked, writeFileAtomic, readChecked } from '../../io/writers.js';
import { shardName } from '../../core/shards.js';
import { UnionFind, type ClusterFacts } from './cluster.js';

const MAGIC = 0x4e555244; // "DRUN"

export interface RunSummary {
  docs: number;
  empty: number;
  bytes: number;
  sha256: string;
}

/** Per-shard state during observation. */
export class ShardRuns {
  private keys: Uint32Array;
  private payload: Uint32Array;
  private orders = new Uint32Array(256);
  docs = 0;
  empty = 0;
  constructor(private bands: number, private words: number) {
    this.keys = new Uint32Array(256 * bands);
    this.payload = new Uint32Array(256 * Math.max(1, words));
  }
  push(keys: Uint32Array, payload: Uint32Array | null, order: number): void {
    if (this.docs >= this.orders.length) {
      const grow = <T extends Uint32Array>(a: T, per: number): T => {
        const g = new Uint32Array(Math.max(1, this.orders.length * 2 * per)) as T;
        g.set(a);
        return g;
      };
      this.keys = grow(this.keys, this.bands);
      this.payload = grow(this.payload, Math.max(1, this.words));
      this.orders = grow(this.orders, 1);
    }
    this.keys.set(keys, this.docs * this.bands);
    if (payload && this.words) this.payload.set(payload, this.docs * this.words);
    this.orders[this.docs++] = order;
  }

  /** Writes the run file and returns the summary to keep. */
  write(dir: string, shard: string, ext: string): RunSummary {
    const { bands, words } = this;
    const n = this.docs;
    const entry = 2 + words;
    const out = new Uint32Array(4 + n + bands * n * entry);
    out[0] = MAGIC;
    out[1] = bands;
    out[2] = n;
    out[3] = words;
    out.set(this.orders.subarray(0, n), 4);
    const idx = new Uint32Array(n);
    const col = new Uint32Array(n);
    for (let b = 0; b < bands; b++) {
      for (let i = 0; i < n; i++) {
        idx[i] = i;
        col[i] = this.keys[i * bands + b]!;
      }
      idx.sort((x, y) => col[x]! - col[y]! || x - y);
      const base = 4 + n + b * n * entry;
      for (let i = 0; i < n; i++) {
        const d = idx[i]!;
        const o = base + i * entry;
        out[o] = col[d]!;
        out[o + 1] = d;
        for (let w = 0; w < words; w++) out[o + 2 + w] = this.payload[d * words + w]!;
      }
    }
    const bytes = new Uint8Array(out.buffer);
    writeFileAtomic(join(dir, `${shard}.${ext}`), bytes);
    return { docs: n, empty: this.empty, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
}

export function verifyRun(s: RunSummary, path: string, bands: number, words: number): string | null {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return `${path}: ${(e as Error).message}`;
  }
  if (buf.length !== s.bytes) return `${path}: truncated run file (${buf.length} of ${s.bytes} bytes)`;
  if (createHash('sha256').update(buf).digest('hex') !== s.sha256) return `${path}: run file checksum mismatch (corrupted)`;
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== bands || buf.readUInt32LE(8) !== s.docs || buf.readUInt32LE(12) !== words) return `${path}: run file header does not match the step`;
  return null;
}

/** Buffered reader of one band section of a run file. */
class RunReader {
  private buf: Uint32Array;
  private pos = 0;
  private len = 0;
  private left: number;
  private off: number;
  key = 0;
  doc = 0;
  payload: Uint32Array;
  done = false;
  constructor(private fd: number, offset: number, entries: number, private entry: number, chunk = 1 << 13) {
    this.off = offset;
    this.left = entries;
    this.buf = new Uint32Array(chunk * entry);
    this.payload = new Uint32Array(entry - 2);
    this.next();
  }
  next(): void {
    if (this.pos >= this.len) {
      if (this.left === 0) {
        this.done = true;
        return;
      }
      const n = Math.min(this.left, this.buf.length / this.entry);
      readSync(this.fd, new Uint8Array(this.buf.buffer, 0, n * this.entry * 4), 0, n * this.entry * 4, this.off);
      this.off += n * this.entry * 4;
      this.left -= n;
      this.len = n * this.entry;
      this.pos = 0;
    }
    this.key = this.buf[this.pos]!;
    this.doc = this.buf[this.pos + 1]!;
    for (let w = 0; w < this.payload.length; w++) this.payload[w] = this.buf[this.pos + 2 + w]!;
    this.pos += this.entry;
  }
}

export interface Group {
  /** global document numbers */
  docs: number[];
  /** their payloads (words per document, concatenated) */
  payload: Uint32Array;
}

export type RunGlobal = ClusterFacts & { dir: string };

function openRuns(states: RunSummary[], io: { dir: string; shards: string[] }, ext: string, bands: number, words: number): { fds: number[]; offsets: number[]; total: number } {
  const offsets: number[] = [];
  const fds: number[] = [];
  let total = 0;
  try {
    states.forEach((s, i) => {
      const path = join(io.dir, `${io.shards[i]}.${ext}`);
      const bad = verifyRun(s, path, bands, words);
      if (bad) throw new Error(bad);
      offsets.push(total);
      total += s.docs;
      fds.push(openSync(path, 'r'));
    });
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
  return { fds, offsets, total };
}

function edgesName(band: number, ext: string): string {
  return `band-${String(band).padStart(3, '0')}.${ext}.edges`;
}

/**
 * The bucket stage for one band (one task; bands run in parallel): merges the shards' runs of
 * that band, hands each group of documents sharing a key to `onGroup`, which reports the pairs
 * it accepts, and writes them as an edge file (u32 pairs of document numbers) with a checked marker.
 */
export function bucketBand(states: RunSummary[], io: { dir: string; shards: string[] }, ext: string, bands: number, words: number, band: number, onGroup: (g: Group, edge: (a: number, b: number) => void) => void): void {
  const entry = 2 + words;
  const { fds, offsets } = openRuns(states, io, ext, bands, words);
  let edges = new Uint32Array(1 << 16);
  let ne = 0;
  const edge = (x: number, y: number) => {
    if (ne * 2 + 2 > edges.length) {
      const g = new Uint32Array(edges.length * 2);
      g.set(edges);
      edges = g;
    }
    edges[ne * 2] = x;
    edges[ne * 2 + 1] = y;
    ne++;
  };
  try {
    const readers = states.map((s, i) => new RunReader(fds[i]!, (4 + s.docs + band * s.docs * entry) * 4, s.docs, entry));
    const heap: number[] = [];
    const gid = (i: number) => offsets[i]! + readers[i]!.doc;
    const less = (x: number, y: number) => readers[x]!.key < readers[y]!.key || (readers[x]!.key === readers[y]!.key && gid(x) < gid(y));
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
    let groupKey = -1;
    let docs: number[] = [];
    let pay: number[] = [];
    const flush = () => {
      if (docs.length > 1) onGroup({ docs, payload: Uint32Array.from(pay) }, edge);
      docs = [];
      pay = [];
    };
    while (heap.length) {
      const i = heap[0]!;
      const r = readers[i]!;
      if (r.key !== groupKey) {
        flush();
        groupKey = r.key;
      }
      docs.push(gid(i));
      for (const w of r.payload) pay.push(w);
      r.next();
      if (r.done) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      if (heap.length) down(0);
    }
    flush();
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const bytes = new Uint8Array(edges.buffer, 0, ne * 8);
  const path = join(io.dir, edgesName(band, ext));
  writeFileAtomic(path, bytes);
  writeChecked(`${path}.json`, { pairs: ne, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
}

/** Whether the bucket task of a band finished and its edge file is intact. */
export function bandDone(io: { dir: string }, ext: string, band: number): boolean {
  const path = join(io.dir, edgesName(band, ext));
  try {
    const m = readChecked(`${path}.json`) as { bytes: number; sha256: string };
    const b = readFileSync(path);
    return b.length === m.bytes && createHash('sha256').update(b).digest('hex') === m.sha256;
  } catch {
    return false;
  }
}

/**
 * The cluster stage: a union-find over the edges of every band (streamed from the edge files),
 * then one drop list per shard, component sizes and samples for the report.
 */
export function clusterEdges(states: RunSummary[], io: { dir: string; shards: string[] }, ext: string, bands: number, words: number): RunGlobal {
  const { fds, offsets, total } = openRuns(states, io, ext, bands, words);
  try {
    const uf = new UnionFind(total);
    let pairs = 0;
    for (let b = 0; b < bands; b++) {
      const path = join(io.dir, edgesName(b, ext));
      const m = readChecked(`${path}.json`) as { pairs: number; bytes: number; sha256: string };
      const buf = readFileSync(path);
      if (buf.length !== m.bytes || createHash('sha256').update(buf).digest('hex') !== m.sha256) throw new Error(`${path}: edge file truncated or corrupted`);
      const e = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
      for (let i = 0; i < m.pairs; i++) uf.union(e[2 * i]!, e[2 * i + 1]!);
      pairs += m.pairs;
    }
    // component sizes (4 bytes a document), drop lists per shard, samples for the report
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
    const shardOf = (g: number) => {
      let s = 0;
      while (s + 1 < offsets.length && offsets[s + 1]! <= g) s++;
      return s;
    };
    const ob = new Uint32Array(1);
    const orderOf = (s: number, local: number) => {
      readSync(fds[s]!, new Uint8Array(ob.buffer), 0, 4, (4 + local) * 4);
      return ob[0]!;
    };
    const label = (g: number) => {
      const s = shardOf(g);
      return `${s}:${orderOf(s, g - offsets[s]!)}`;
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
      clusters,
      sizes,
      sample: [...shown.values()].map((l) => l.map(label)),
      probe: probe.slice(0, 100).map((x) => [label(x.p[0]), label(x.p[1])] as [string, string]),
      candidatePairs: pairs,
      empty: states.reduce((a, s) => a + s.empty, 0),
      dir: io.dir,
      dropped,
    };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}


/** Both stages in this thread (the executor runs the bucket tasks in parallel when it can). */
export function combineRuns(states: RunSummary[], io: { dir: string; shards: string[] }, ext: string, bands: number, words: number, onGroup: (g: Group, edge: (a: number, b: number) => void) => void): RunGlobal {
  for (let b = 0; b < bands; b++) if (!bandDone(io, ext, b)) bucketBand(states, io, ext, bands, words, b, onGroup);
  return clusterEdges(states, io, ext, bands, words);
}

/** The decision: is this document on its shard's drop list? Each shard's list is read once. */
export class DropListReader {
  private sets = new WeakMap<object, Map<number, Set<number>>>();
  has(g: { dir: string }, shard: number, order: number): boolean {
    let m = this.sets.get(g);
    if (!m) this.sets.set(g, (m = new Map()));
    let set = m.get(shard);
    if (!set) {
      set = new Set(readChecked(join(g.dir, `${shardName(shard)}.drop.json`)) as number[]);
      m.set(shard, set);
    }
    return set.has(order);
  }
}
