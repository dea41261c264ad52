/**
 * Megatron-LM's indexed dataset (.bin + .idx, "MMIDIDX"), as megatron/core/datasets/indexed_dataset.py
 * reads and writes it: the .bin is the token arrays back to back; the .idx holds the magic, version 1,
 * the dtype code, the sequence count S, the document-index length, int32 sequence lengths, int64 byte
 * pointers and the int64 document boundaries. Files written here feed Megatron-LM unchanged.
 * Reads are positional (pread), so a dataset of any size is read without loading it.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/writers.js';

export class IndexedDatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexedDatasetError';
  }
}

export type TokenDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'float64' | 'float32' | 'uint16';
export const DTYPE_CODE: Record<TokenDtype, number> = { uint8: 1, int8: 2, int16: 3, int32: 4, int64: 5, float64: 6, float32: 7, uint16: 8 };
const CODE_DTYPE = new Map(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as TokenDtype]));
const ITEM: Record<TokenDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, int64: 8, float64: 8, float32: 4, uint16: 2 };
const MAGIC = Buffer.from('MMIDIDX\x00\x00', 'latin1');

/** Megatron's DType.optimal_dtype: uint16 below 65,500 tokens, else int32 */
export function optimalDtype(vocabSize: number): 'uint16' | 'int32' {
  return vocabSize < 65500 ? 'uint16' : 'int32';
}

/** Megatron's IndexedDatasetBuilder: add_item / end_document / add_document, then finalize */
export class IndexedDatasetWriter {
  private fd: number;
  private binTmp: string;
  private lengths: number[] = [];
  private docIndices: number[] = [0];
  private buf: Buffer;
  private used = 0;
  private tokens = 0;
  readonly itemSize: number;

  constructor(readonly prefix: string, readonly dtype: 'uint16' | 'int32' = 'uint16') {
    this.itemSize = ITEM[dtype];
    mkdirSync(dirname(prefix), { recursive: true });
    this.binTmp = `${prefix}.bin.tmp-${process.pid}`;
    this.fd = openSync(this.binTmp, 'w');
    this.buf = Buffer.alloc(1 << 20);
  }

  /** one sequence (Megatron: add_item) */
  addItem(tokens: ArrayLike<number>): void {
    const max = this.dtype === 'uint16' ? 65535 : 2147483647;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t > max) throw new IndexedDatasetError(`${this.prefix}: token ${t} at position ${i} of sequence ${this.lengths.length} does not fit ${this.dtype}`);
      if (this.used + this.itemSize > this.buf.length) this.flush();
      if (this.dtype === 'uint16') this.buf.writeUInt16LE(t, this.used);
      else this.buf.writeInt32LE(t, this.used);
      this.used += this.itemSize;
    }
    this.lengths.push(tokens.length);
    this.tokens += tokens.length;
  }

  /** closes the current document (Megatron: end_document) */
  endDocument(): void {
    this.docIndices.push(this.lengths.length);
  }

  /** a whole document of one or more sequences (Megatron: add_document) */
  addDocument(tokens: ArrayLike<number>, lengths: number[] = [tokens.length]): void {
    let at = 0;
    const arr = Array.from(tokens);
    for (const n of lengths) {
      this.addItem(arr.slice(at, at + n));
      at += n;
    }
    if (at !== tokens.length) throw new IndexedDatasetError(`${this.prefix}: document lengths sum to ${at}, the document has ${tokens.length} tokens`);
    this.endDocument();
  }

  get sequenceCount(): number {
    return this.lengths.length;
  }
  get tokenCount(): number {
    return this.tokens;
  }
  get documentCount(): number {
    return this.docIndices.length - 1;
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  /** writes the .idx and moves the .bin into place (both atomically) */
  finalize(): { bin: string; idx: string } {
    this.flush();
    closeSync(this.fd);
    const S = this.lengths.length, D = this.docIndices.length;
    const idx = Buffer.alloc(34 + 12 * S + 8 * D);
    MAGIC.copy(idx, 0);
    idx.writeBigUInt64LE(1n, 9);
    idx.writeUInt8(DTYPE_CODE[this.dtype], 17);
    idx.writeBigUInt64LE(BigInt(S), 18);
    idx.writeBigUInt64LE(BigInt(D), 26);
    let p = 34;
    for (const n of this.lengths) p = idx.writeInt32LE(n, p);
    let ptr = 0;
    for (const n of this.lengths) {
      p = idx.writeBigInt64LE(BigInt(ptr), p);
      ptr += n * this.itemSize;
    }
    for (const d of this.docIndices) p = idx.writeBigInt64LE(BigInt(d), p);
    renameSync(this.binTmp, `${this.prefix}.bin`);
    writeFileAtomic(`${this.prefix}.idx`, idx);
    return { bin: `${this.prefix}.bin`, idx: `${this.prefix}.idx` };
  }

  /** drops the partial .bin (after an error) */
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.binTmp, { force: true });
  }
}

/** A Megatron indexed dataset opened for positional reads; the index is checked on open. */
export class IndexedDataset {
  readonly dtype: TokenDtype;
  readonly itemSize: number;
  /** tokens of each sequence */
  readonly lengths: Int32Array;
  /** byte offset of each sequence in the .bin */
  readonly pointers: Float64Array;
  /** document boundaries: document k is sequences [docIndices[k], docIndices[k+1]) */
  readonly docIndices: Float64Array;
  private fd: number;

  private constructor(readonly prefix: string, idx: Buffer, binSize: number, fd: number) {
    const where = `${prefix}.idx`;
    const need = (n: number, what: string) => {
      if (idx.length < n) throw new IndexedDatasetError(`${where}: truncated index (${what} needs ${n} bytes, the file has ${idx.length})`);
    };
    need(34, 'the header');
    if (!idx.subarray(0, 9).equals(MAGIC)) throw new IndexedDatasetError(`${where}: not a Megatron MMIDIDX index (bad magic)`);
    const version = idx.readBigUInt64LE(9);
    if (version !== 1n) throw new IndexedDatasetError(`${where}: index version ${version} is not supported (expected 1)`);
    const dt = CODE_DTYPE.get(idx.readUInt8(17));
    if (!dt) throw new IndexedDatasetError(`${where}: unknown dtype code ${idx.readUInt8(17)}`);
    this.dtype = dt;
    this.itemSize = ITEM[dt];
    const S = Number(idx.readBigUInt64LE(18)), D = Number(idx.readBigUInt64LE(26));
    need(34 + 12 * S + 8 * D, `${S} sequences and ${D} document boundaries`);
    if (idx.length !== 34 + 12 * S + 8 * D && idx.length !== 34 + 13 * S + 8 * D) throw new IndexedDatasetError(`${where}: ${idx.length} bytes, expected ${34 + 12 * S + 8 * D} for ${S} sequences and ${D} boundaries`);
    this.lengths = new Int32Array(S);
    this.pointers = new Float64Array(S);
    this.docIndices = new Float64Array(D);
    let expected = 0;
    for (let i = 0; i < S; i++) {
      const n = idx.readInt32LE(34 + 4 * i);
      const ptr = Number(idx.readBigInt64LE(34 + 4 * S + 8 * i));
      if (n < 0) throw new IndexedDatasetError(`${where}: sequence ${i} has negative length ${n}`);
      if (ptr !== expected) throw new IndexedDatasetError(`${where}: sequence ${i} starts at byte ${ptr}, expected ${expected} (pointers disagree with lengths)`);
      this.lengths[i] = n;
      this.pointers[i] = ptr;
      expected += n * this.itemSize;
    }
    for (let k = 0; k < D; k++) {
      const d = Number(idx.readBigInt64LE(34 + 12 * S + 8 * k));
      if ((k === 0 && d !== 0) || (k > 0 && d < this.docIndices[k - 1]!) || d > S) throw new IndexedDatasetError(`${where}: document boundary ${k} (${d}) is out of order`);
      this.docIndices[k] = d;
    }
    if (D === 0 || this.docIndices[D - 1] !== S) throw new IndexedDatasetError(`${where}: the last document boundary is ${D ? this.docIndices[D - 1] : 'missing'}, expected the sequence count ${S}`);
    if (binSize !== expected) throw new IndexedDatasetError(`${prefix}.bin: ${binSize} bytes, the index describes ${expected}`);
    this.fd = fd;
  }

  static open(prefix: string): IndexedDataset {
    for (const ext of ['.idx', '.bin']) if (!existsSync(prefix + ext)) throw new IndexedDatasetError(`${prefix}${ext}: no such file`);
    const ifd = openSync(`${prefix}.idx`, 'r');
    const size = fstatSync(ifd).size;
    const idx = Buffer.alloc(size);
    readSync(ifd, idx, 0, size, 0);
    closeSync(ifd);
    const fd = openSync(`${prefix}.bin`, 'r');
    try {
      return new IndexedDataset(prefix, idx, fstatSync(fd).size, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get sequenceCount(): number {
    return this.lengths.length;
  }
  get documentCount(): number {
    return this.docIndices.length - 1;
  }
  get tokenCount(): number {
    let n = 0;
    for (const l of this.lengths) n += l;
    return n;
  }

  /** tokens [offset, offset + length) of sequence i, as Int32Array */
  get(i: number, offset = 0, length?: number): Int32Array {
    if (i < 0 || i >= this.lengths.length) throw new RangeError(`${this.prefix}: sequence ${i} of ${this.lengths.length}`);
    const n = length ?? this.lengths[i]! - offset;
    if (offset < 0 || n < 0 || offset + n > this.lengths[i]!) throw new RangeError(`${this.prefix}: tokens [${offset}, ${offset + n}) of a ${this.lengths[i]}-token sequence`);
    const bytes = Buffer.alloc(n * this.itemSize);
    let got = 0;
    while (got < bytes.length) {
      const r = readSync(this.fd, bytes, got, bytes.length - got, this.pointers[i]! + offset * this.itemSize + got);
      if (r === 0) throw new IndexedDatasetError(`${this.prefix}.bin: unexpected end of file`);
      got += r;
    }
    const out = new Int32Array(n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < n; k++) {
      switch (this.dtype) {
        case 'uint16': out[k] = dv.getUint16(2 * k, true); break;
        case 'int32': out[k] = dv.getInt32(4 * k, true); break;
        case 'uint8': out[k] = dv.getUint8(k); break;
        case 'int8': out[k] = dv.getInt8(k); break;
        case 'int16': out[k] = dv.getInt16(2 * k, true); break;
        case 'int64': out[k] = Number(dv.getBigInt64(8 * k, true)); break;
        default: throw new IndexedDatasetError(`${this.prefix}: ${this.dtype} tokens are not supported`);
      }
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
