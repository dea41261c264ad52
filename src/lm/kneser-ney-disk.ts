/**
 * Interpolated modified Kneser-Ney with bounded memory: the same model as
 * kneser-ney.ts (the same counts, discounts and arithmetic, so the same ARPA
 * entries), computed in hash buckets on disk so that 100 MB of reference text and
 * more trains on a small machine. Every step needs only n-grams that share one
 * word, so the work splits by a hash of that word:
 *
 *  1. count   stream the text once: every highest-order n-gram, and the n-grams
 *             that begin with <s> at the lower orders (the only ones that cannot
 *             be derived, see 2); a bounded in-memory buffer of counts is spilled
 *             to P files by the n-gram's LAST word;
 *  2. adjust  per group of last-word buckets (as many as fit in the memory budget): raw counts summed; the n-grams of order
 *             n-1 are the suffixes of those of order n (every n-gram not at a
 *             sentence start is the suffix of the one starting a word earlier)
 *             plus the <s> ones, and the adjusted count of a suffix is its number
 *             of distinct left extensions, which all end with the same word, so
 *             lie in this bucket; counts of counts per order. Spilled by FIRST word;
 *  3. context per group of first-word buckets: for every context (all but the last word)
 *             the sum of adjusted counts and the continuations seen 1, 2, 3+ times,
 *             hence the discounted part (c - D(c)) / sum, the interpolation weight
 *             of the context and each n-gram's back-off as a context (its
 *             continuations begin with the same word). Spilled by LAST word;
 *  4. interpolate per last-word bucket, lowest order first (one order held at a time): p(w|ctx) =
 *             discounted + weight x p(w|shorter ctx), whose suffix is in this
 *             bucket; the ARPA lines go to one file per order, then one ARPA.
 *
 * Memory is bounded by the budget (the counting buffer, the groups of buckets),
 * with one floor: a single bucket is loaded whole, so the most frequent word's
 * n-grams must fit; disk use is about the size of the n-gram counts.
 */
import { closeSync, createWriteStream, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { arpaEntry } from './arpa.js';
import { disc, discounts, type Discount } from './kneser-ney.js';
import { Progress } from '../ui/progress.js';

export interface DiskTrainOptions {
  order: number;
  /** hash buckets by word that the spills are split into (default: from the input size and memoryMB, at least 64); steps 2 and 3 load as many at once as fit */
  buckets?: number;
  /** the memory the counting buffer and each group of buckets aim to stay under, MB (default 1024) */
  memoryMB?: number;
  /** input size in bytes, for the progress line */
  inputBytes?: number;
  /** where the bucket files go (a new folder inside it, removed at the end; default: the system's temporary folder) */
  tmpDir?: string;
  /** progress lines on stderr */
  progress?: boolean;
}

export interface DiskTrainResult {
  order: number;
  counts: number[];
  discounts: Discount[];
  /** distinct words, with </s> and <unk> */
  vocabSize: number;
  sentences: number;
  tokens: number;
  buckets: number;
  /** how many groups of buckets steps 2 (adjust) and 3 (context) loaded in turn */
  groups: { adjust: number; context: number };
  /** bytes written to the bucket files over the three spills */
  spilledBytes: number;
  /** largest bucket file of the count spill, bytes: the floor of the memory steps 2 and 3 need */
  largestBucketBytes: number;
  seconds: { count: number; adjust: number; context: number; interpolate: number; total: number };
}

export class KneserNeyDiskError extends Error {}

/** An n-gram as a string of 2 UTF-16 code units per word id: a cheap, exact Map key. */
const idOf = (key: string, i: number) => ((key.charCodeAt(2 * i) << 16) | key.charCodeAt(2 * i + 1)) >>> 0;
const orderOf = (key: string) => key.length >> 1;
const lastId = (key: string) => idOf(key, orderOf(key) - 1);
const part = (id: number, p: number) => (Math.imul(id, 0x9e3779b1) >>> 0) % p;

function keyOf(ids: Uint32Array, start: number, n: number, codes: number[]): string {
  codes.length = 2 * n;
  for (let i = 0; i < n; i++) {
    const id = ids[start + i]!;
    codes[2 * i] = id >>> 16;
    codes[2 * i + 1] = id & 0xffff;
  }
  return String.fromCharCode(...codes);
}

// keys go to disk as raw UTF-16 code units; lone surrogates (ids from 0xD800) must survive the round trip
const PROBE = String.fromCharCode(0xd800, 0xdfff, 0xdc00, 0xd800);
if (Buffer.from(PROBE, 'utf16le').toString('utf16le') !== PROBE) throw new Error('this Node.js does not keep lone surrogates in utf16le buffers; the n-gram trainer needs it');

/**
 * Bucket files of records: [order: u8][order x 2 code units: u16][k values: f64]. Buffered; each file
 * is read back whole, one bucket (or a group of them) at a time.
 */
class Spill {
  private fds: number[];
  private bufs: Buffer[];
  private pos: number[];
  bytes = 0;
  constructor(private dir: string, private name: string, readonly p: number, private k: number) {
    mkdirSync(dir, { recursive: true });
    this.fds = Array.from({ length: p }, (_, i) => openSync(this.file(i), 'w'));
    const size = Math.max(1 << 14, Math.min(1 << 18, Math.floor((32 << 20) / p)));
    this.bufs = Array.from({ length: p }, () => Buffer.allocUnsafe(size));
    this.pos = new Array<number>(p).fill(0);
  }
  file(i: number): string {
    return join(this.dir, `${this.name}-${i}.bin`);
  }
  put(i: number, key: string, values: number[]): void {
    const need = 1 + 2 * key.length + 8 * this.k;
    if (this.pos[i]! + need > this.bufs[i]!.length) this.flush(i);
    const b = this.bufs[i]!;
    let o = this.pos[i]!;
    b[o++] = key.length >> 1;
    o += b.write(key, o, 'utf16le');
    for (let j = 0; j < this.k; j++, o += 8) b.writeDoubleLE(values[j]!, o);
    this.pos[i] = o;
  }
  private flush(i: number): void {
    if (!this.pos[i]) return;
    writeSync(this.fds[i]!, this.bufs[i]!, 0, this.pos[i]!);
    this.bytes += this.pos[i]!;
    this.pos[i] = 0;
  }
  close(): void {
    for (let i = 0; i < this.p; i++) {
      this.flush(i);
      closeSync(this.fds[i]!);
    }
  }
  /** Reads bucket file i back: calls `each` with every record's key and values. */
  read(i: number, each: (key: string, values: number[]) => void): void {
    const f = this.file(i);
    const b = readFileSync(f);
    const values = new Array<number>(this.k);
    let o = 0;
    while (o < b.length) {
      const n = b[o++]!;
      if (n === 0 || o + 4 * n + 8 * this.k > b.length) throw new KneserNeyDiskError(`${f}: damaged record at byte ${o - 1}`);
      const key = b.toString('utf16le', o, o + 4 * n);
      o += 4 * n;
      for (let j = 0; j < this.k; j++, o += 8) values[j] = b.readDoubleLE(o);
      each(key, values);
    }
  }
  size(i: number): number {
    return statSync(this.file(i)).size;
  }
  remove(): void {
    for (let i = 0; i < this.p; i++) rmSync(this.file(i), { force: true });
  }
}

/**
 * Memory per byte of spilled records when a group of buckets is loaded (measured on 40 MB of
 * the shared text with order 5: Map entries for every order, and V8's garbage in between).
 */
const ADJUST_BYTES = 45;
const CONTEXT_BYTES = 45;

/**
 * Enough buckets that one bucket's share of step 3 fits the budget (its records come to about
 * 16 bytes per input byte at order 5, measured), at least 64, and few enough that the B x N
 * files of step 3's spill stay well under common open-file limits.
 */
export function defaultBuckets(inputBytes: number, order: number, memoryMB: number): number {
  const want = Math.ceil((inputBytes * 16 * (order / 5) * CONTEXT_BYTES) / (memoryMB * 1e6));
  return Math.max(64, Math.min(want, Math.floor(4000 / Math.max(1, order))));
}

/** Consecutive buckets grouped so that each group's files add up to at most `budget` bytes (a bucket larger than that is alone). */
export function groupBuckets(sizes: number[], budget: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  sizes.forEach((sz, i) => {
    if (cur.length && bytes + sz > budget) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += sz;
  });
  if (cur.length) out.push(cur);
  return out;
}

interface CtxStats {
  sum: number;
  n1: number;
  n2: number;
  n3: number;
}

const addStat = (st: CtxStats, c: number) => {
  st.sum += c;
  if (c === 1) st.n1++;
  else if (c === 2) st.n2++;
  else st.n3++;
};

/**
 * Trains an order-N model from sentences of space-separated units and writes it as ARPA to
 * `outArpa` (through a temporary file, renamed at the end).
 */
export async function trainKneserNeyOnDisk(sentences: AsyncIterable<string> | Iterable<string>, outArpa: string, opts: DiskTrainOptions): Promise<DiskTrainResult> {
  const N = opts.order;
  if (!Number.isInteger(N) || N < 1 || N > 255) throw new KneserNeyDiskError(`order must be an integer from 1 to 255, not ${N}`);
  const memoryMB = opts.memoryMB ?? 1024;
  const P = opts.buckets ?? defaultBuckets(opts.inputBytes ?? 0, N, memoryMB);
  if (!Number.isInteger(P) || P < 1 || P > 4096) throw new KneserNeyDiskError(`buckets must be an integer from 1 to 4096, not ${P}`);
  if (opts.tmpDir) mkdirSync(opts.tmpDir, { recursive: true });
  const dir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'ziya-kn-'));
  const t0 = performance.now();
  const secs = { count: 0, adjust: 0, context: 0, interpolate: 0, total: 0 };
  const spills: Spill[] = [];
  try {
    // 1. count ---------------------------------------------------------------------------
    const vocab = new Map<string, number>([['<s>', 0], ['</s>', 1]]);
    const words: string[] = ['<s>', '</s>'];
    const counts1 = new Spill(dir, 'count', P, 1);
    spills.push(counts1);
    const buffer = new Map<string, number>();
    // counts held before a spill: about 160 bytes each in a Map (measured)
    const maxBuffer = Math.max(1024, Math.floor((memoryMB * 1e6) / 160));
    const flushBuffer = () => {
      for (const [k, c] of buffer) counts1.put(part(lastId(k), P), k, [c]);
      buffer.clear();
    };
    const prog = new Progress('[lm train] counting', opts.inputBytes ?? 0, 2000, process.stderr, opts.progress ?? false, 'sentences');
    let bytes = 0;
    let nSentences = 0;
    let tokens = 0;
    let ids = new Uint32Array(1024);
    const codes: number[] = [];
    for await (const s of sentences) {
      bytes += Buffer.byteLength(s) + 1;
      nSentences++;
      const w = s.split(/\s+/).filter(Boolean);
      const L = w.length + 2;
      if (L > ids.length) ids = new Uint32Array(2 * L);
      ids[0] = 0;
      for (let i = 0; i < w.length; i++) {
        let id = vocab.get(w[i]!);
        if (id === undefined) {
          id = words.length;
          vocab.set(w[i]!, id);
          words.push(w[i]!);
        }
        ids[i + 1] = id;
      }
      ids[L - 1] = 1;
      tokens += w.length;
      for (let i = N === 1 ? 1 : 0; i + N <= L; i++) {
        const k = keyOf(ids, i, N, codes);
        buffer.set(k, (buffer.get(k) ?? 0) + 1);
      }
      // the n-grams that begin with <s> below the highest order (<s> itself is never predicted)
      for (let n = 2; n < N && n <= L; n++) {
        const k = keyOf(ids, 0, n, codes);
        buffer.set(k, (buffer.get(k) ?? 0) + 1);
      }
      if (buffer.size >= maxBuffer) flushBuffer();
      if ((nSentences & 1023) === 0) prog.update(bytes, nSentences, `${words.length.toLocaleString('en-US')} words`);
    }
    flushBuffer();
    counts1.close();
    prog.done(bytes, nSentences, `${words.length.toLocaleString('en-US')} words, ${(counts1.bytes / 1e6).toFixed(0)} MB in ${P} buckets, peak memory so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    const unkId = vocab.get('<unk>');
    const special = (vocab.has('<s>') ? 1 : 0) + (vocab.has('</s>') ? 1 : 0) + (unkId !== undefined ? 1 : 0);
    const vocabSize = words.length - special + 2; // as kneser-ney.ts: the words, </s> and <unk>
    let largest = 0;
    for (let i = 0; i < P; i++) largest = Math.max(largest, counts1.size(i));
    // as many buckets at once as fit: memory measured at about ADJUST_BYTES per byte of count records
    const groups2 = groupBuckets(Array.from({ length: P }, (_, i) => counts1.size(i)), (memoryMB * 1e6) / ADJUST_BYTES);
    secs.count = (performance.now() - t0) / 1000;

    // 2. adjust --------------------------------------------------------------------------
    let t = performance.now();
    const adjusted = new Spill(dir, 'adjusted', P, 1);
    spills.push(adjusted);
    const coc = Array.from({ length: N }, () => [0, 0, 0, 0]);
    const uni: CtxStats = { sum: 0, n1: 0, n2: 0, n3: 0 };
    let pr = new PartitionProgress('adjusting counts', groups2.length, opts.progress ?? false);
    for (const [gi, group] of groups2.entries()) {
      const raw: Map<string, number>[] = Array.from({ length: N }, () => new Map());
      for (const i of group) {
        counts1.read(i, (k, [c]) => {
          const m = raw[orderOf(k) - 1]!;
          m.set(k, (m.get(k) ?? 0) + c!);
        });
      }
      const adj: Map<string, number>[] = new Array(N);
      adj[N - 1] = raw[N - 1]!;
      for (let n = N; n >= 2; n--) {
        const lower = new Map<string, number>();
        for (const k of adj[n - 1]!.keys()) {
          const suffix = k.slice(2);
          lower.set(suffix, (lower.get(suffix) ?? 0) + 1);
        }
        for (const [k, c] of raw[n - 2]!) lower.set(k, c); // begins with <s>: its raw count
        adj[n - 2] = lower;
      }
      adj.forEach((m, o) => {
        const t4 = coc[o]!;
        for (const [k, c] of m) {
          if (c >= 1 && c <= 4) t4[c - 1]!++;
          if (o === 0) addStat(uni, c);
          adjusted.put(part(idOf(k, 0), P), k, [c]);
        }
      });
      pr.update(gi + 1);
    }
    adjusted.close();
    pr.done();
    counts1.remove();
    const ds = coc.map((t4, o) => discounts(t4, o + 1));
    secs.adjust = (performance.now() - t) / 1000;

    // 3. context -------------------------------------------------------------------------
    t = performance.now();
    // one file per (last-word bucket, order), so that step 4 streams an order while holding only the one below
    const weighted = new Spill(dir, 'weighted', P * N, 3);
    spills.push(weighted);
    const gammaOf = (d: Discount, st: CtxStats | undefined) => (st ? (d.d1 * st.n1 + d.d2 * st.n2 + d.d3 * st.n3) / st.sum : 1);
    const g0 = gammaOf(ds[0]!, uni);
    const uniform = 1 / vocabSize;
    let sBackoff = 0;
    let unkSeen = false;
    const groups3 = groupBuckets(Array.from({ length: P }, (_, i) => adjusted.size(i)), (memoryMB * 1e6) / CONTEXT_BYTES);
    pr = new PartitionProgress('context weights', groups3.length, opts.progress ?? false);
    for (const [gi, group] of groups3.entries()) {
      const adj: Map<string, number>[] = Array.from({ length: N }, () => new Map());
      for (const i of group) adjusted.read(i, (k, [c]) => adj[orderOf(k) - 1]!.set(k, c!));
      // per context: the sum of adjusted counts and the continuations seen 1, 2, 3+ times
      const stats: Map<string, CtxStats>[] = adj.map(() => new Map());
      const ctxOf: CtxStats[][] = adj.map(() => []);
      for (let o = 1; o < N; o++) {
        const m = stats[o]!;
        const refs = ctxOf[o]!;
        for (const [k, c] of adj[o]!) {
          const ctx = k.slice(0, -2);
          let st = m.get(ctx);
          if (!st) m.set(ctx, (st = { sum: 0, n1: 0, n2: 0, n3: 0 }));
          addStat(st, c);
          refs.push(st);
        }
      }
      const backoff = (k: string, o: number) => {
        if (o + 1 >= N) return 0;
        const st = stats[o + 1]!.get(k);
        return st ? Math.log10(gammaOf(ds[o + 1]!, st)) : 0;
      };
      for (const [k, c] of adj[0]!) {
        if (unkId !== undefined && lastId(k) === unkId) unkSeen = true;
        weighted.put(part(lastId(k), P) * N, k, [(c - disc(ds[0]!, c)) / uni.sum + g0 * uniform, 0, backoff(k, 0)]);
      }
      for (let o = 1; o < N; o++) {
        const refs = ctxOf[o]!;
        let j = 0;
        for (const [k, c] of adj[o]!) {
          const st = refs[j++]!;
          weighted.put(part(lastId(k), P) * N + o, k, [(c - disc(ds[o]!, c)) / st.sum, gammaOf(ds[o]!, st), backoff(k, o)]);
        }
      }
      if (group.includes(part(0, P)) && N > 1) sBackoff = Math.log10(gammaOf(ds[1]!, stats[1]!.get(String.fromCharCode(0, 0))));
      pr.update(gi + 1);
    }
    weighted.close();
    pr.done();
    adjusted.remove();
    secs.context = (performance.now() - t) / 1000;

    // 4. interpolate ---------------------------------------------------------------------
    t = performance.now();
    const orderFiles = Array.from({ length: N }, (_, o) => join(dir, `order-${o + 1}.txt`));
    const fds = orderFiles.map((f) => openSync(f, 'w'));
    const text = (k: string) => {
      const n = orderOf(k);
      let s = words[idOf(k, 0)]!;
      for (let j = 1; j < n; j++) s += ' ' + words[idOf(k, j)]!;
      return s;
    };
    const lines: string[][] = Array.from({ length: N }, () => []);
    const flushLines = (o: number) => {
      if (lines[o]!.length) writeSync(fds[o]!, lines[o]!.join('\n') + '\n');
      lines[o] = [];
    };
    const emitted = new Array<number>(N).fill(0);
    const emit = (o: number, line: string) => {
      lines[o]!.push(line);
      emitted[o]!++;
      if (lines[o]!.length >= 4096) flushLines(o);
    };
    if (N >= 1) {
      emit(0, arpaEntry('<s>', -99, N > 1 ? sBackoff : 0, N > 1));
      if (!unkSeen) emit(0, arpaEntry('<unk>', Math.log10(g0 * uniform), 0, N > 1));
    }
    // one bucket at a time: only one order's probabilities are held
    pr = new PartitionProgress('interpolating', P, opts.progress ?? false, 'bucket');
    for (let i = 0; i < P; i++) {
      let lowerProb = new Map<string, number>();
      for (let o = 0; o < N; o++) {
        const prob = new Map<string, number>();
        weighted.read(i * N + o, (k, [u, g, b]) => {
          const p = o === 0 ? u! : u! + g! * (lowerProb.get(k.slice(2)) ?? uniform);
          if (o + 1 < N) prob.set(k, p); // the highest order is nobody's lower order
          emit(o, arpaEntry(text(k), Math.log10(p), b!, o + 1 < N));
        });
        lowerProb = prob;
      }
      pr.update(i + 1);
    }
    for (let o = 0; o < N; o++) {
      flushLines(o);
      closeSync(fds[o]!);
    }
    pr.done();
    weighted.remove();
    const tmpOut = `${outArpa}.tmp-${process.pid}`;
    await new Promise<void>((resolveWrite, reject) => {
      const out = createWriteStream(tmpOut);
      out.on('error', reject);
      out.write(`\n\\data\\\n${emitted.map((c, o) => `ngram ${o + 1}=${c}\n`).join('')}`);
      let o = 0;
      const next = () => {
        if (o === N) {
          out.end('\n\\end\\\n', () => resolveWrite());
          return;
        }
        out.write(`\n\\${o + 1}-grams:\n`);
        const inp = readFileSyncChunks(orderFiles[o++]!);
        const pump = () => {
          for (;;) {
            const chunk = inp.next();
            if (chunk.done) return next();
            if (!out.write(chunk.value)) return out.once('drain', pump);
          }
        };
        pump();
      };
      next();
    });
    renameSync(tmpOut, outArpa);
    secs.interpolate = (performance.now() - t) / 1000;
    secs.total = (performance.now() - t0) / 1000;
    return { order: N, counts: emitted, discounts: ds, vocabSize, sentences: nSentences, tokens, buckets: P, groups: { adjust: groups2.length, context: groups3.length }, spilledBytes: spills.reduce((a, s) => a + s.bytes, 0), largestBucketBytes: largest, seconds: secs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "[lm train] adjusting counts: group 3/17 | ETA 0:42" every two seconds, and at the end. */
class PartitionProgress {
  private t0 = Date.now();
  private last = 0;
  constructor(private label: string, private total: number, private enabled: boolean, private unit = 'group') {}
  update(done: number): void {
    if (!this.enabled || Date.now() - this.last < 2000) return;
    this.last = Date.now();
    const el = (Date.now() - this.t0) / 1000;
    process.stderr.write(`[lm train] ${this.label}: ${this.unit} ${done}/${this.total} | ETA ${Progress.fmtTime((el / done) * (this.total - done))}\n`);
  }
  done(): void {
    if (this.enabled) process.stderr.write(`[lm train] ${this.label}: ${this.total} ${this.unit}(s) in ${((Date.now() - this.t0) / 1000).toFixed(1)} s, peak memory so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
  }
}

/** A file read in 4 MB chunks. */
function* readFileSyncChunks(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) return;
      yield Buffer.from(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}
