import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export type Compression = 'none' | 'gzip' | 'zstd';

export function compressionOf(path: string): Compression {
  if (path.endsWith('.gz')) return 'gzip';
  if (path.endsWith('.zst') || path.endsWith('.zstd')) return 'zstd';
  return 'none';
}

export class TruncatedInputError extends Error {}

/**
 * Yields raw (decompressed) chunks of a file. Compressed input whose stream
 * ends early raises TruncatedInputError after the good bytes were yielded.
 * `onRaw` reports compressed bytes consumed, for progress.
 */
export async function* byteChunks(path: string, opts: { start?: number; end?: number; onRaw?: (n: number) => void } = {}): AsyncGenerator<Uint8Array> {
  const comp = compressionOf(path);
  const src = createReadStream(path, { start: opts.start, end: opts.end === undefined ? undefined : opts.end - 1, highWaterMark: 1 << 20 });
  if (comp === 'none') {
    for await (const c of src) {
      opts.onRaw?.((c as Buffer).length);
      yield c as Buffer;
    }
    return;
  }
  if (comp === 'gzip') {
    const gz = createGunzip({ chunkSize: 1 << 18 });
    src.on('data', (c: string | Buffer) => opts.onRaw?.(c.length));
    src.on('error', (e) => gz.destroy(e));
    src.pipe(gz);
    try {
      for await (const c of gz) yield c as Buffer;
    } catch (e) {
      const msg = (e as Error).message;
      if (/unexpected end of file/i.test(msg)) throw new TruncatedInputError(`truncated gzip stream (${msg})`);
      throw new Error(`corrupt gzip stream: ${msg}`);
    }
    return;
  }
  // zstd: fzstd streaming decoder; it buffers whole blocks only (<= 128 KiB each).
  const out: Uint8Array[] = [];
  let finished = false;
  const dec = new Decompress((chunk, final) => {
    out.push(chunk);
    if (final) finished = true;
  });
  for await (const c of src) {
    const b = c as Buffer;
    opts.onRaw?.(b.length);
    try {
      dec.push(b, false);
    } catch (e) {
      throw new Error(`corrupt zstd stream: ${(e as Error).message}`);
    }
    while (out.length) yield out.shift()!;
  }
  try {
    dec.push(new Uint8Array(0), true);
  } catch (e) {
    while (out.length) yield out.shift()!;
    throw new TruncatedInputError(`truncated zstd stream (${(e as Error).message})`);
  }
  while (out.length) yield out.shift()!;
  if (!finished) throw new TruncatedInputError('truncated zstd stream (frame not complete)');
}

export interface Line {
  /** 1-based line number. */
  line: number;
  /** null when the line exceeded maxBytes (its bytes were skipped, never buffered). */
  bytes: Buffer | null;
  /** Full length of the line in bytes (without the newline). */
  length: number;
}

/**
 * Splits chunks into lines with bounded memory, synchronously: push() returns the lines a chunk
 * completes, end() the last one; lines over maxBytes are skipped (never buffered) and reported.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  private skipping = false;
  private lineNo: number;
  constructor(private maxBytes: number, firstLine = 1) {
    this.lineNo = firstLine;
  }
  push(raw: Uint8Array): Line[] {
    const out: Line[] = [];
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl < 0 ? chunk.length : nl;
      const seg = chunk.subarray(pos, end);
      this.partLen += seg.length;
      if (!this.skipping) {
        if (this.partLen > this.maxBytes) {
          this.skipping = true;
          this.parts = [];
        } else if (seg.length) this.parts.push(seg);
      }
      if (nl < 0) break;
      // end of line
      if (this.skipping) out.push({ line: this.lineNo, bytes: null, length: this.partLen });
      else {
        let b = this.parts.length === 1 ? this.parts[0]! : this.parts.length === 0 ? EMPTY : Buffer.concat(this.parts, this.partLen);
        if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
        out.push({ line: this.lineNo, bytes: b, length: this.partLen });
      }
      this.lineNo++;
      this.parts = [];
      this.partLen = 0;
      this.skipping = false;
      pos = nl + 1;
    }
    // keep copies of partial segments: the chunk buffer may be reused by the stream
    if (!this.skipping && this.parts.length) this.parts = [Buffer.concat(this.parts)];
    return out;
  }
  end(): Line[] {
    if (this.partLen === 0) return [];
    const line = this.lineNo++;
    const length = this.partLen;
    if (this.skipping) return [{ line, bytes: null, length }];
    let b = Buffer.concat(this.parts, length);
    if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
    return [{ line, bytes: b, length }];
  }
}

const EMPTY = Buffer.alloc(0);

/** Splits a chunk stream into lines with bounded memory: lines over maxBytes are skipped and reported. */
export async function* lines(chunks: AsyncIterable<Uint8Array>, maxBytes: number, firstLine = 1): AsyncGenerator<Line> {
  const sp = new LineSplitter(maxBytes, firstLine);
  for await (const raw of chunks) yield* sp.push(raw);
  yield* sp.end();
}
