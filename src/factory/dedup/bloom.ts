/**
 * Bloom-filter de-duplication (Ziya2's first two passes): on the normalised
 * URL, or on a hash of the normalised text. The filter is sized from the
 * expected number of keys and a target false-positive rate (both reported),
 * can be loaded from and saved to disk, so next month's crawl is checked
 * against everything seen before; the file carries a checksum.
 * Keys are tested in shard order, then document order: the first occurrence
 * wins, whatever the number of workers.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';
import { readChecked, writeChecked, writeFileAtomic } from '../../io/writers.js';
import { join } from 'node:path';
import { shardName } from '../../core/shards.js';
import { contentHash } from './exact.js';

export class BloomFilter {
  readonly bits: Uint8Array;
  inserted = 0;
  constructor(readonly m: number, readonly k: number, bits?: Uint8Array) {
    this.bits = bits ?? new Uint8Array(Math.ceil(m / 8));
  }
  static forCapacity(n: number, p: number): BloomFilter {
    const m = Math.max(64, Math.ceil((-n * Math.log(p)) / (Math.LN2 * Math.LN2)));
    const k = Math.max(1, Math.round((m / n) * Math.LN2));
    return new BloomFilter(m, k);
  }
  /** Expected false-positive rate at the current fill. */
  falsePositiveRate(): number {
    return Math.pow(1 - Math.exp((-this.k * this.inserted) / this.m), this.k);
  }
  /** The two 32-bit halves of a key's hash that place it in the filter (first 8 bytes of its sha256). */
  static keyHash(key: string): [number, number] {
    const h = createHash('sha256').update(key).digest();
    return [h.readUInt32LE(0), h.readUInt32LE(4)];
  }
  private positions(h1: number, h2raw: number): number[] {
    // double hashing (Kirsch-Mitzenmacher) with 32-bit halves: exact in doubles for any m < 2^32
    const h2 = (h2raw | 1) >>> 0;
    const out: number[] = [];
    for (let i = 0; i < this.k; i++) out.push((h1 + i * h2) % this.m);
    return out;
  }
  has(key: string): boolean {
    return this.hasHash(...BloomFilter.keyHash(key));
  }
  hasHash(h1: number, h2: number): boolean {
    return this.positions(h1, h2).every((p) => (this.bits[p >>> 3]! & (1 << (p & 7))) !== 0);
  }
  /** Adds the key; returns whether it was (probably) there before. */
  add(key: string): boolean {
    return this.addHash(...BloomFilter.keyHash(key));
  }
  addHash(h1: number, h2: number): boolean {
    let seen = true;
    for (const p of this.positions(h1, h2)) {
      const b = 1 << (p & 7);
      if (!(this.bits[p >>> 3]! & b)) {
        seen = false;
        this.bits[p >>> 3]! |= b;
      }
    }
    if (!seen) this.inserted++;
    return seen;
  }
  /** File: "ZBLM" u32 version, f64 m, u32 k, f64 inserted, 32-byte sha256 of the bits, then the bits. */
  serialize(): Buffer {
    const head = Buffer.alloc(4 + 4 + 8 + 4 + 8);
    head.write('ZBLM', 0, 'latin1');
    head.writeUInt32LE(1, 4);
    head.writeDoubleLE(this.m, 8);
    head.writeUInt32LE(this.k, 16);
    head.writeDoubleLE(this.inserted, 20);
    const sum = createHash('sha256').update(this.bits).digest();
    return Buffer.concat([head, sum, Buffer.from(this.bits)]);
  }
  static load(path: string): BloomFilter {
    const b = readFileSync(path);
    if (b.length < 60 || b.toString('latin1', 0, 4) !== 'ZBLM') throw new Error(`${path}: not a Bloom filter file (bad magic or too short)`);
    const m = b.readDoubleLE(8);
    const k = b.readUInt32LE(16);
    const inserted = b.readDoubleLE(20);
    const bits = b.subarray(60);
    if (bits.length !== Math.ceil(m / 8)) throw new Error(`${path}: truncated Bloom filter (${bits.length} of ${Math.ceil(m / 8)} bytes)`);
    if (!createHash('sha256').update(bits).digest().equals(b.subarray(28, 60))) throw new Error(`${path}: Bloom filter checksum mismatch (corrupted file)`);
    const f = new BloomFilter(m, k, new Uint8Array(bits));
    f.inserted = inserted;
    return f;
  }
}

/** URL normalisation: lower-case scheme and host, no default port, no fragment, no trailing slash, sorted query. */
export function normalizeUrl(u: string): string {
  try {
    const url = new URL(u.trim());
    url.hash = '';
    if (url.pathname.length > 1) url.pathname = url.pathname.replace(/\/+$/, '');
    const params = [...url.searchParams.entries()].filter(([k]) => !/^utm_/i.test(k)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    url.search = params.length ? '?' + new URLSearchParams(params).toString() : '';
    let s = url.toString();
    if (s.endsWith('/')) s = s.slice(0, -1);
    return s.replace(/^https:/, 'http:').replace(/^(http:\/\/)www\./, '$1');
  } catch {
    return u.trim().toLowerCase();
  }
}

export interface BloomDedupConfig {
  key: 'url' | 'text';
  /** where the URL is in the document's meta (dotted path), default "url" */
  urlField?: string;
  /** text key folding: 'exact', 'whitespace' (default) or 'loose' (case and punctuation too) */
  normalize: 'exact' | 'whitespace' | 'loose';
  expected: number;
  falsePositiveRate: number;
  /** filter from earlier runs to check against */
  load?: string;
  /** where to save the filter after this run */
  save?: string;
}

/** What a shard keeps after observation: counts and the checksum of its key file. */
interface Summary {
  docs: number;
  noKey: number;
  bytes: number;
  sha256: string;
}

class ShardKeys {
  buf = new Uint32Array(3 * 256);
  docs = 0;
  noKey = 0;
  push(h1: number, h2: number, order: number): void {
    if ((this.docs + 1) * 3 > this.buf.length) {
      const g = new Uint32Array(this.buf.length * 2);
      g.set(this.buf);
      this.buf = g;
    }
    this.buf[this.docs * 3] = h1;
    this.buf[this.docs * 3 + 1] = h2;
    this.buf[this.docs * 3 + 2] = order;
    this.docs++;
  }
}

const KEYS_MAGIC = 0x4b4d4c42; // "BLMK"

interface Global {
  dir: string;
  m: number;
  k: number;
  inserted: number;
  falsePositiveRate: number;
  targetFalsePositiveRate: number;
  seenBefore: number;
  duplicates: number;
  noKey: number;
}

export class BloomDedup implements CorpusStep<Summary, Global> {
  readonly corpus = true as const;
  readonly rules: readonly string[];
  private dropSets = new WeakMap<object, Map<number, Set<number>>>();
  constructor(readonly name: string, private cfg: BloomDedupConfig) {
    this.rules = [cfg.key === 'url' ? 'dedup.url_duplicate' : 'dedup.text_duplicate'];
  }

  private keyOf(doc: Document): string | null {
    if (this.cfg.key === 'url') {
      let u: unknown = doc.meta;
      for (const part of (this.cfg.urlField ?? 'url').split('.')) u = u && typeof u === 'object' ? (u as Record<string, unknown>)[part] : undefined;
      return typeof u === 'string' && u.trim() ? normalizeUrl(u) : null;
    }
    let t = doc.text;
    if (this.cfg.normalize !== 'exact') t = t.replace(/\s+/g, ' ').trim();
    if (this.cfg.normalize === 'loose') t = t.toLowerCase().replace(/[\p{P}\p{S}]/gu, '');
    return t ? contentHash(t) : null;
  }

  begin(): Summary {
    return new ShardKeys() as unknown as Summary;
  }

  observe(doc: Document, s: Summary, order: number): void {
    const st = s as unknown as ShardKeys;
    const k = this.keyOf(doc);
    if (k === null) {
      st.noKey++; // no URL (or empty text): kept, counted
      return;
    }
    const [h1, h2] = BloomFilter.keyHash(k);
    st.push(h1, h2, order);
  }

  /** Writes the shard's key file (hash halves and positions, in document order) and keeps its checksum. */
  end(s: Summary, io: { dir: string; shard: string }): Summary {
    const st = s as unknown as ShardKeys;
    const out = new Uint32Array(2 + st.docs * 3);
    out[0] = KEYS_MAGIC;
    out[1] = st.docs;
    out.set(st.buf.subarray(0, st.docs * 3), 2);
    const bytes = new Uint8Array(out.buffer);
    writeFileAtomic(join(io.dir, `${io.shard}.bk`), bytes);
    return { docs: st.docs, noKey: st.noKey, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  verify(s: Summary, io: { dir: string; shard: string }): string | null {
    const path = join(io.dir, `${io.shard}.bk`);
    let b: Buffer;
    try {
      b = readFileSync(path);
    } catch (e) {
      return `${path}: ${(e as Error).message}`;
    }
    if (b.length !== s.bytes) return `${path}: truncated key file (${b.length} of ${s.bytes} bytes)`;
    if (createHash('sha256').update(b).digest('hex') !== s.sha256) return `${path}: key file checksum mismatch (corrupted)`;
    if (b.readUInt32LE(0) !== KEYS_MAGIC || b.readUInt32LE(4) !== s.docs) return `${path}: key file header does not match`;
    return null;
  }

  /** Streams the shards' key files in shard order through the filter: memory is the filter plus one shard. */
  combine(states: Summary[], io: { dir: string; shards: string[] }): Global {
    const f = this.cfg.load && existsSync(this.cfg.load) ? BloomFilter.load(this.cfg.load) : BloomFilter.forCapacity(this.cfg.expected, this.cfg.falsePositiveRate);
    const prior = f.inserted;
    let dups = 0;
    states.forEach((s, i) => {
      const bad = this.verify(s, { dir: io.dir, shard: io.shards[i]! });
      if (bad) throw new Error(bad);
      const b = readFileSync(join(io.dir, `${io.shards[i]}.bk`));
      const u = new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
      const drops: number[] = [];
      for (let d = 0; d < s.docs; d++) {
        if (f.addHash(u[2 + d * 3]!, u[2 + d * 3 + 1]!)) {
          drops.push(u[2 + d * 3 + 2]!);
          dups++;
        }
      }
      writeChecked(join(io.dir, `${io.shards[i]}.drop.json`), drops);
    });
    if (this.cfg.save) writeFileAtomic(this.cfg.save, f.serialize());
    return { dir: io.dir, m: f.m, k: f.k, inserted: f.inserted, falsePositiveRate: f.falsePositiveRate(), targetFalsePositiveRate: this.cfg.falsePositiveRate, seenBefore: prior, duplicates: dups, noKey: states.reduce((a, s) => a + s.noKey, 0) };
  }

  summarize(g: Global): Record<string, unknown> {
    const { dir: _d, ...rest } = g;
    return rest;
  }

  decide(doc: Document, _ctx: StepContext, g: Global, shard: number, order: number): Document | Drop {
    let m = this.dropSets.get(g);
    if (!m) this.dropSets.set(g, (m = new Map()));
    let set = m.get(shard);
    if (!set) {
      set = new Set(readChecked(join(g.dir, `${shardName(shard)}.drop.json`)) as number[]);
      m.set(shard, set);
    }
    return set.has(order) ? drop(this.rules[0]!) : doc;
  }
}
