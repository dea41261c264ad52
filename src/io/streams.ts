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

/** Splits a chunk stream into lines with bounded memory: lines over maxBytes are skipped and reported. */
export async function* lines(chunks: AsyncIterable<Uint8Array>, maxBytes: number, firstLine = 1): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let partLen = 0;
  let skipping = false;
  let lineNo = firstLine;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl < 0 ? chunk.length : nl;
      const seg = chunk.subarray(pos, end);
      partLen += seg.length;
      if (!skipping) {
        if (partLen > maxBytes) {
          skipping = true;
          parts = [];
        } else if (seg.length) parts.push(seg);
      }
      if (nl < 0) break;
      // end of line
      if (skipping) yield { line: lineNo, bytes: null, length: partLen };
      else {
        let b = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partLen);
        if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
        yield { line: lineNo, bytes: b, length: partLen };
      }
      lineNo++;
      parts = [];
      partLen = 0;
      skipping = false;
      pos = nl + 1;
    }
    // keep copies of partial segments: the chunk buffer may be reused by the stream
    if (!skipping && parts.length) parts = [Buffer.concat(parts)];
  }
  if (partLen > 0) {
    if (skipping) yield { line: lineNo, bytes: null, length: partLen };
    else {
      let b = Buffer.concat(parts, partLen);
      if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
      yield { line: lineNo, bytes: b, length: partLen };
    }
  }
}
