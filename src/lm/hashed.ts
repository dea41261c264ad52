/**
 * The compact form of an n-gram model: word ids, and per order an
 * open-addressing table of 64-bit n-gram hashes (two 32-bit halves) with
 * float32 log10 probability and back-off, as KenLM's probing structure keeps
 * it. Hashes extend right to left, so all suffixes of a context are found with
 * one step each. The binary file is these arrays behind a header and a
 * sha256; loading is a read and typed-array views (no parsing), and the
 * arrays can live in a SharedArrayBuffer shared by worker threads.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ArpaError, readArpa, type NgramModel, type SentenceScore } from './arpa.js';
import { native } from '../native/index.js';

const MAGIC = 0x424d4c5a; // "ZLMB"
const UNK_MISSING_PROB = -100;

function mixA(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
}
function mixB(h: number, x: number): number {
  h = Math.imul((h + x) | 0, 0x9e3779b1);
  h ^= h >>> 15;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

/** code units JavaScript's \\s matches (the split of scoreSentence), as a table for the native scanner */
const WHITESPACE = (() => {
  const t = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) if (/\s/.test(String.fromCharCode(c))) t[c] = 1;
  return t;
})();

/** The lines of a file, read in 4 MB chunks (a line may span chunks). */
function* readLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      const text = rest + decoder.write(buf.subarray(0, n));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        yield text.slice(start, nl);
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    yield rest;
  } finally {
    closeSync(fd);
  }
}

export class HashedModel {
  order = 0;
  vocab = new Map<string, number>();
  words: string[] = [];
  /** per order: capacity (power of two), keys (2 words each, 0/0 = empty), values (prob, backoff) */
  caps: number[] = [];
  keys: Uint32Array[] = [];
  vals: Float32Array[] = [];
  counts: number[] = [];
  unkMissing = false;

  static fromArpa(m: NgramModel): HashedModel {
    const h = new HashedModel();
    h.begin(m.counts);
    h.unkMissing = m.unkMissing;
    for (const w of m.grams[0]!.keys()) h.addWord(w);
    m.grams.forEach((g, i) => {
      for (const [k, [p, b]] of g) {
        const ids = k.split(' ').map((w) => h.vocab.get(w)!);
        const [a, bb] = h.hashOf(ids, 0, ids.length);
        h.insert(i, a, bb, p, b);
      }
    });
    return h;
  }

  /**
   * Builds the tables straight from an ARPA file, one line at a time: memory is the tables
   * alone, so models far larger than what parseArpa holds convert. The same checks as
   * parseArpa (errors name the line), and the same tables as fromArpa, byte for byte.
   */
  static fromArpaFile(path: string): HashedModel {
    const h = new HashedModel();
    const ids: number[] = [];
    const seen: number[] = [];
    const idsOf = (words: string[], upto: number): boolean => {
      ids.length = upto;
      for (let j = 0; j < upto; j++) {
        const id = h.vocab.get(words[j]!);
        if (id === undefined) return false;
        ids[j] = id;
      }
      return true;
    };
    readArpa(readLines(path), path, {
      begin: (counts) => {
        h.begin(counts);
        seen.push(...counts.map(() => 0));
      },
      hasContext: (n, words) => {
        if (!idsOf(words, n - 1)) return false;
        const [ca, cb] = h.hashOf(ids, 0, n - 1);
        return h.find(n - 2, ca, cb) >= 0;
      },
      add: (n, words, p, b) => {
        if (n === 1) h.addWord(words[0]!);
        if (!idsOf(words, n)) return `the word "${words[n - 1]}" is not among the 1-grams`;
        const [a, bb] = h.hashOf(ids, 0, n);
        if (h.find(n - 1, a, bb) >= 0) return `duplicate ${n}-gram "${words.join(' ')}"`;
        if (seen[n - 1]! >= h.counts[n - 1]!) return `\\data\\ declares ${h.counts[n - 1]} ${n}-grams but the section has more`;
        h.insert(n - 1, a, bb, p, b);
        seen[n - 1]!++;
        return null;
      },
      size: (n) => seen[n - 1]!,
    });
    h.unkMissing = !h.hasUnigramUnk;
    return h;
  }

  /** set when the 1-grams of the ARPA file list <unk> (the vocabulary always holds it as id 0) */
  private hasUnigramUnk = false;

  private begin(counts: number[]): void {
    this.order = counts.length;
    this.counts = [...counts];
    this.words.push('<unk>');
    this.vocab.set('<unk>', 0);
    for (const size of counts) {
      let cap = 16;
      while (cap < size * 1.5 + 1) cap <<= 1;
      this.caps.push(cap);
      this.keys.push(new Uint32Array(cap * 2));
      this.vals.push(new Float32Array(cap * 2));
    }
  }

  private addWord(w: string): void {
    if (w === '<unk>') this.hasUnigramUnk = true;
    if (this.vocab.has(w)) return;
    this.vocab.set(w, this.words.length);
    this.words.push(w);
  }

  /** Hash of ids[from..to), built right to left. */
  hashOf(ids: ArrayLike<number>, from: number, to: number): [number, number] {
    let a = 0x2545f491;
    let b = 0x6c8e9cf5;
    for (let i = to - 1; i >= from; i--) {
      a = mixA(a, ids[i]! + 1);
      b = mixB(b, ids[i]! + 1);
    }
    return [(a | 1) >>> 0, b];
  }

  private insert(order: number, a: number, b: number, p: number, bo: number): void {
    const cap = this.caps[order]!;
    const k = this.keys[order]!;
    let i = (a ^ b) & (cap - 1);
    while (k[2 * i] !== 0) {
      if (k[2 * i] === a && k[2 * i + 1] === b) throw new ArpaError(`hash collision or duplicate ${order + 1}-gram while building the table`);
      i = (i + 1) & (cap - 1);
    }
    k[2 * i] = a;
    k[2 * i + 1] = b;
    this.vals[order]![2 * i] = p;
    this.vals[order]![2 * i + 1] = bo;
  }

  /** Slot of an n-gram of the given order, or -1. */
  find(order: number, a: number, b: number): number {
    const cap = this.caps[order]!;
    const k = this.keys[order]!;
    let i = (a ^ b) & (cap - 1);
    for (;;) {
      const x = k[2 * i]!;
      if (x === 0) return -1;
      if (x === a && k[2 * i + 1] === b) return i;
      i = (i + 1) & (cap - 1);
    }
  }

  /** log10 p(word | context) exactly as arpa.ts's wordScore (and KenLM). context: ids, oldest first. */
  wordScore(context: ArrayLike<number>, clen: number, word: number): number {
    const maxCtx = Math.min(clen, this.order - 1);
    // keys of (suffix of context + word), and of context suffixes, extended right to left
    let wa = mixA(0x2545f491, word + 1);
    let wb = mixB(0x6c8e9cf5, word + 1);
    let best = this.find(0, (wa | 1) >>> 0, wb);
    let bestLen = best >= 0 ? 0 : -1;
    let bestP = best >= 0 ? this.vals[0]![2 * best]! : 0;
    let ca = 0x2545f491;
    let cb = 0x6c8e9cf5;
    if (this.cb.length < maxCtx + 1) this.cb = new Float64Array(maxCtx + 1);
    const ctxBackoff = this.cb;
    for (let len = 1; len <= maxCtx; len++) {
      const c = context[clen - len]! + 1;
      wa = mixA(wa, c);
      wb = mixB(wb, c);
      ca = mixA(ca, c);
      cb = mixB(cb, c);
      const s = this.find(len, (wa | 1) >>> 0, wb);
      if (s >= 0) {
        bestLen = len;
        bestP = this.vals[len]![2 * s]!;
      }
      const cs = this.find(len - 1, (ca | 1) >>> 0, cb);
      ctxBackoff[len] = cs >= 0 ? this.vals[len - 1]![2 * cs + 1]! : 0;
    }
    let lp = bestLen >= 0 ? bestP : UNK_MISSING_PROB;
    for (let k = bestLen + 1; k <= maxCtx; k++) if (k >= 1) lp += ctxBackoff[k]!;
    return lp;
  }

  private ctx = new Int32Array(16);
  private cb = new Float64Array(16);

  /** As arpa.ts's scoreSentence, on word ids. */
  scoreSentence(line: string): SentenceScore {
    return this.scoreWords(line);
  }

  private capsArr: Uint32Array | null = null;
  private charIds: Int32Array | null = null;

  /** Scores a line by characters (Chinese), spaces skipped, without building a string per character. */
  scoreChars(line: string): SentenceScore {
    if (!this.charIds) {
      this.charIds = new Int32Array(65536);
      for (const [w, id] of this.vocab) if (w.length === 1) this.charIds[w.charCodeAt(0)] = id;
    }
    const t = this.charIds;
    const ids = new Int32Array(line.length + 1);
    let n = 0;
    let oov = 0;
    const units: string[] | null = native ? null : [];
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c <= 32 || c === 0x3000) continue;
      let id: number;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < line.length) {
        const ch = line.slice(i, i + 2);
        id = this.vocab.get(ch) ?? 0;
        units?.push(ch);
        i++;
      } else {
        id = t[c]!;
        units?.push(line[i]!);
      }
      if (id === 0) oov++;
      ids[n++] = id;
    }
    if (!native) return this.scoreUnitsReference(units!);
    ids[n] = this.eos;
    this.capsArr ??= Uint32Array.from(this.caps);
    const total = native.ngramScore(ids.subarray(0, n + 1), this.bos, this.order, this.capsArr, this.keys, this.vals);
    return { total, words: n, oov, perWord: [] };
  }

  /**
   * Scores a line of whitespace-separated words (what scoreSentence does), scanning the string once
   * instead of splitting it with a regular expression.
   */
  scoreWords(line: string): SentenceScore {
    if (!native) return this.scoreUnitsReference(line.split(/\s+/).filter(Boolean));
    const t = this.wordTable();
    this.capsArr ??= Uint32Array.from(this.caps);
    native.ngramScoreText(line, WHITESPACE, t.table, t.chars, t.offsets, this.bos, this.eos, this.order, this.capsArr, this.keys, this.vals, this.out3);
    return { total: this.out3[0]!, words: this.out3[1]!, oov: this.out3[2]!, perWord: [] };
  }

  /**
   * A document of word lines, scored line by line (lines without words skipped): the sum of the
   * lines' log10 probabilities and their token count (words + </s>), as the bucket step combines them.
   */
  scoreDocumentWords(text: string): { total: number; tokens: number; oov: number } {
    if (!native) {
      let total = 0, tokens = 0, oov = 0;
      for (const line of text.split('\n')) {
        const s = this.scoreWords(line);
        if (!s.words) continue;
        total += s.total;
        tokens += s.words + 1;
        oov += s.oov;
      }
      return { total, tokens, oov };
    }
    const t = this.wordTable();
    this.capsArr ??= Uint32Array.from(this.caps);
    native.ngramScoreText(text, WHITESPACE, t.table, t.chars, t.offsets, this.bos, this.eos, this.order, this.capsArr, this.keys, this.vals, this.out3, true);
    return { total: this.out3[0]!, tokens: this.out3[1]!, oov: this.out3[2]! };
  }

  private out3 = new Float64Array(3);
  private words16: { table: Int32Array; chars: Uint16Array; offsets: Uint32Array } | null = null;

  /** the vocabulary as one UTF-16 buffer with offsets and an open-addressing table of FNV-1a hashes (word index + 1) */
  private wordTable(): { table: Int32Array; chars: Uint16Array; offsets: Uint32Array } {
    if (this.words16) return this.words16;
    const offsets = new Uint32Array(this.words.length + 1);
    let total = 0;
    this.words.forEach((w, i) => { offsets[i] = total; total += w.length; });
    offsets[this.words.length] = total;
    const chars = new Uint16Array(total);
    this.words.forEach((w, i) => { for (let k = 0; k < w.length; k++) chars[offsets[i]! + k] = w.charCodeAt(k); });
    let cap = 16;
    while (cap < this.words.length * 2) cap <<= 1;
    const table = new Int32Array(cap);
    this.words.forEach((w, i) => {
      let h = 0x811c9dc5;
      for (let k = 0; k < w.length; k++) h = Math.imul(h ^ w.charCodeAt(k), 0x01000193) >>> 0;
      let s = h & (cap - 1);
      while (table[s] !== 0) s = (s + 1) & (cap - 1);
      table[s] = i + 1;
    });
    this.words16 = { table, chars, offsets };
    return this.words16;
  }

  private get bos(): number {
    return this.vocab.get('<s>') ?? 0;
  }
  private get eos(): number {
    return this.vocab.get('</s>') ?? 0;
  }

  /** Scores a sentence given as units (words, or characters for Chinese): the native kernel when built, else the reference. */
  scoreUnits(words: string[]): SentenceScore {
    if (!native) return this.scoreUnitsReference(words);
    const ids = new Int32Array(words.length + 1);
    let oov = 0;
    for (let i = 0; i < words.length; i++) {
      const v = this.vocab.get(words[i]!);
      const id = v === undefined ? 0 : v;
      if (id === 0) oov++;
      ids[i] = id;
    }
    ids[words.length] = this.eos;
    this.capsArr ??= Uint32Array.from(this.caps);
    const total = native.ngramScore(ids, this.bos, this.order, this.capsArr, this.keys, this.vals);
    return { total, words: words.length, oov, perWord: [] };
  }

  /** TypeScript reference of the scoring kernel. */
  scoreUnitsReference(words: string[]): SentenceScore {
    const n = this.order - 1;
    if (this.ctx.length < n + 1) this.ctx = new Int32Array(n + 1);
    const ctx = this.ctx;
    let clen = 0;
    const push = (id: number) => {
      if (clen < n) ctx[clen++] = id;
      else {
        ctx.copyWithin(0, 1, n);
        ctx[n - 1] = id;
      }
    };
    if (n > 0) push(this.vocab.get('<s>') ?? 0);
    let total = 0;
    let oov = 0;
    const eos = this.vocab.get('</s>') ?? 0;
    for (let i = 0; i <= words.length; i++) {
      let id: number;
      if (i === words.length) id = eos;
      else {
        const v = this.vocab.get(words[i]!);
        id = v === undefined || v === 0 ? 0 : v;
        if (id === 0) oov++;
      }
      total += this.wordScore(ctx, clen, id);
      if (n > 0) push(id);
    }
    return { total, words: words.length, oov, perWord: [] };
  }

  /** The binary form's body, in pieces (header, vocabulary, padding, then per order keys and values). */
  private bodyParts(): Uint8Array[] {
    const vocabBytes = Buffer.from(this.words.join('\n'), 'utf8');
    const head = new Uint32Array(4 + this.order * 2);
    head[0] = MAGIC;
    head[1] = 1;
    head[2] = this.order;
    head[3] = vocabBytes.length;
    this.caps.forEach((c, i) => {
      head[4 + 2 * i] = c;
      head[5 + 2 * i] = this.counts[i]!;
    });
    const pad = (4 - (vocabBytes.length % 4)) % 4;
    const parts: Uint8Array[] = [new Uint8Array(head.buffer), vocabBytes, new Uint8Array(pad)];
    for (let i = 0; i < this.order; i++) parts.push(new Uint8Array(this.keys[i]!.buffer, this.keys[i]!.byteOffset, this.keys[i]!.byteLength), new Uint8Array(this.vals[i]!.buffer, this.vals[i]!.byteOffset, this.vals[i]!.byteLength));
    return parts;
  }

  /** The whole file in memory: body, its sha256, and the <unk>-missing flag. */
  serialize(): Uint8Array {
    const body = Buffer.concat(this.bodyParts());
    const sum = createHash('sha256').update(body).digest();
    return Buffer.concat([body, sum, Buffer.from([this.unkMissing ? 1 : 0])]);
  }

  /**
   * Reads a binary model straight into a SharedArrayBuffer (worker threads given it use it without
   * a copy of their own), in chunks, checking the sha256 on the way: no size limit but memory.
   */
  static load(path: string): HashedModel {
    const fail = (msg: string, off: number): never => {
      throw new ArpaError(`${path}: ${msg} (at byte offset ${off})`);
    };
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size < 16 + 33) fail('truncated binary model', size);
      const bodyLen = size - 33;
      const buf = new SharedArrayBuffer(bodyLen);
      const view = new Uint8Array(buf);
      const hash = createHash('sha256');
      for (let off = 0; off < bodyLen; ) {
        const n = readSync(fd, view, off, Math.min(64 << 20, bodyLen - off), off);
        if (n <= 0) fail('truncated binary model', off);
        hash.update(view.subarray(off, off + n));
        off += n;
      }
      const tail = Buffer.alloc(33);
      if (readSync(fd, tail, 0, 33, bodyLen) !== 33) fail('truncated binary model', bodyLen);
      if (!hash.digest().equals(tail.subarray(0, 32))) fail('checksum mismatch: truncated or corrupted binary model', bodyLen);
      const h = HashedModel.fromShared(buf, path);
      h.unkMissing = tail[32] === 1;
      return h;
    } finally {
      closeSync(fd);
    }
  }

  static fromShared(buf: SharedArrayBuffer | ArrayBuffer, path = 'shared model'): HashedModel {
    const fail = (msg: string, off: number): never => {
      throw new ArpaError(`${path}: ${msg} (at byte offset ${off})`);
    };
    const h = new HashedModel();
    h.buffer = buf;
    const u = new Uint32Array(buf, 0, 4);
    if (u[0] !== MAGIC) fail('not a ziya binary n-gram model', 0);
    h.order = u[2]!;
    const vlen = u[3]!;
    const meta = new Uint32Array(buf, 16, h.order * 2);
    let off = 16 + h.order * 8;
    h.words = Buffer.from(buf, off, vlen).toString('utf8').split('\n');
    h.words.forEach((w, i) => h.vocab.set(w, i));
    off += vlen + ((4 - (vlen % 4)) % 4);
    for (let i = 0; i < h.order; i++) {
      const cap = meta[2 * i]!;
      h.caps.push(cap);
      h.counts.push(meta[2 * i + 1]!);
      if (off + cap * 16 > buf.byteLength) fail(`truncated table of order ${i + 1}`, off);
      h.keys.push(new Uint32Array(buf, off, cap * 2));
      off += cap * 8;
      h.vals.push(new Float32Array(buf, off, cap * 2));
      off += cap * 8;
    }
    return h;
  }

  /** The buffer the tables live in when loaded from a file or shared. */
  buffer: SharedArrayBuffer | ArrayBuffer | null = null;

  /** A SharedArrayBuffer holding this model (its own when loaded from a binary file; a serialised copy otherwise). */
  toShared(): { buf: SharedArrayBuffer; unkMissing: boolean } {
    if (this.buffer instanceof SharedArrayBuffer) return { buf: this.buffer, unkMissing: this.unkMissing };
    const parts = this.bodyParts();
    const buf = new SharedArrayBuffer(parts.reduce((a, p) => a + p.length, 0));
    const view = new Uint8Array(buf);
    let off = 0;
    for (const p of parts) {
      view.set(p, off);
      off += p.length;
    }
    return { buf, unkMissing: this.unkMissing };
  }

  /** Writes the binary form piece by piece (temporary file, then rename), hashing on the way. */
  save(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      const hash = createHash('sha256');
      for (const p of this.bodyParts()) {
        hash.update(p);
        for (let off = 0; off < p.length; ) off += writeSync(fd, p, off, Math.min(64 << 20, p.length - off));
      }
      writeSync(fd, Buffer.concat([hash.digest(), Buffer.from([this.unkMissing ? 1 : 0])]));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
}
