/**
 * Size-sharded document writers. Every file is written under a temporary name
 * and renamed into place once complete, so a reader never sees half a file.
 */
import { closeSync, fsync, openSync, readFileSync, renameSync, write as fsWrite, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Document } from '../core/document.js';
import { textKernels } from '../native/index.js';

export type OutputFormat = 'jsonl' | 'jsonl.gz' | 'jsonl.zst' | 'parquet';

/** Write a whole file atomically. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export class CorruptFileError extends Error {}

/** Writes JSON atomically behind a header line "ziya-checked <bytes> <sha256>", so truncation and corruption are detected on reading. */
export function writeChecked(path: string, value: unknown): void {
  const body = JSON.stringify(value);
  const sum = createHash('sha256').update(body).digest('hex');
  writeFileAtomic(path, `ziya-checked ${Buffer.byteLength(body)} ${sum}\n${body}`);
}

export function readChecked(path: string): unknown {
  const raw = readFileSync(path, 'utf8');
  const nl = raw.indexOf('\n');
  const m = /^ziya-checked (\d+) ([0-9a-f]{64})$/.exec(nl > 0 ? raw.slice(0, nl) : '');
  if (!m) throw new CorruptFileError(`${path}: not a checked intermediate file (header missing)`);
  const body = raw.slice(nl + 1);
  if (Buffer.byteLength(body) !== Number(m[1])) throw new CorruptFileError(`${path}: truncated (${Buffer.byteLength(body)} of ${m[1]} bytes)`);
  if (createHash('sha256').update(body).digest('hex') !== m[2]) throw new CorruptFileError(`${path}: checksum mismatch (corrupted)`);
  return JSON.parse(body);
}

interface PartWriter {
  write(doc: Document): void | Promise<void>;
  /** Writes doc when that takes no asynchronous step; false (nothing written): call write. */
  writeNow?(doc: Document): boolean;
  size(): number;
  close(): Promise<void>;
}

const FLUSH_BYTES = 4 << 20;
const BUFFER_BYTES = FLUSH_BYTES + (1 << 20);

/**
 * Line buffers kept for the next part once a part is closed (per thread, a few): a fresh 5 MiB
 * buffer costs its page faults on first use, at every part of every shard.
 */
const freeBuffers: Buffer[] = [];
function takeBuffer(): Buffer {
  return freeBuffers.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES);
}
function giveBack(b: Buffer | null): void {
  if (b && b.length === BUFFER_BYTES && freeBuffers.length < 4) freeBuffers.push(b);
}

/**
 * JSON lines, optionally compressed as independent gzip members / zstd frames of ~4 MiB
 * (deterministic, streamable). Lines are written as UTF-8 into one buffer: by the native writer
 * where it is built (the bytes JSON.stringify + Buffer.from give), else by those two.
 *
 * Two buffers take turns: a full one goes to the file by an asynchronous positioned write (the
 * kernel's copy into the page cache runs on libuv's thread pool) while lines go into the other;
 * a writer waits only when the other buffer is full before the write of the first has ended.
 * At most one write is in flight, each at the offset after the last, so the file's bytes are
 * those of a sequential writer; a failed write is thrown by the next write() or by close().
 */
class JsonlPart implements PartWriter {
  private fd: number;
  private buf: Buffer = takeBuffer();
  /** the buffer of the write in flight (or the next one to fill once it has ended) */
  private spare: Buffer | null = null;
  private used = 0;
  /** bytes handed to the file so far (in-flight ones included): the next write's offset */
  private written = 0;
  private inflight: Promise<void> | null = null;
  private failed: Error | null = null;
  constructor(path: string, private comp: 'none' | 'gzip' | 'zstd') {
    this.fd = openSync(path, 'w');
  }
  async write(doc: Document): Promise<void> {
    if (this.failed) throw this.failed;
    const nk = textKernels.native;
    const meta = doc.meta === undefined ? undefined : JSON.stringify(doc.meta);
    if (nk && meta !== undefined && typeof doc.id === 'string' && typeof doc.text === 'string') {
      let end = nk.jsonDocLine(this.buf, this.used, doc.id, doc.text, meta);
      if (end < 0) {
        await this.flush();
        const need = 6 * (doc.id.length + doc.text.length) + 3 * meta.length + 32;
        if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
        end = nk.jsonDocLine(this.buf, this.used, doc.id, doc.text, meta);
        if (end < 0) throw new Error(`jsonDocLine: no room for document ${doc.id} in an empty buffer of ${this.buf.length} bytes`);
      }
      this.used = end;
    } else {
      const line = JSON.stringify({ id: doc.id, text: doc.text, meta: doc.meta }) + '\n';
      const bytes = Buffer.byteLength(line);
      if (this.used + bytes > this.buf.length) {
        await this.flush();
        if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes);
      }
      this.used += this.buf.write(line, this.used, 'utf8');
    }
    if (this.used >= FLUSH_BYTES) await this.flush();
  }
  writeNow(doc: Document): boolean {
    // the native line into the buffer, when it fits; a full buffer then goes out without a wait
    // when no write is in flight (no zstd: its compression is asynchronous)
    const nk = textKernels.native;
    if (!nk || this.failed || this.comp === 'zstd' || doc.meta === undefined || typeof doc.id !== 'string' || typeof doc.text !== 'string') return false;
    const end = nk.jsonDocLine(this.buf, this.used, doc.id, doc.text, JSON.stringify(doc.meta));
    if (end < 0) return false;
    this.used = end;
    if (this.used >= FLUSH_BYTES && !this.inflight) this.send();
    return true;
  }
  size(): number {
    return this.written + (this.comp === 'none' ? this.used : this.used / 3);
  }
  /** Sends the buffer's bytes to the file (compressed first for gzip), once the write in flight has ended. */
  private async flush(): Promise<void> {
    if (this.inflight) await this.inflight;
    if (this.failed) throw this.failed;
    if (!this.used) return;
    if (this.comp !== 'zstd') return this.send();
    const { compress } = await import('@mongodb-js/zstd');
    const out = await compress(Buffer.from(this.buf.subarray(0, this.used)), 3);
    this.used = 0;
    this.start(out, null);
  }
  /** for plain and gzip parts, with no write in flight: the buffer goes out and the spare one takes its place */
  private send(): void {
    const raw = this.buf.subarray(0, this.used);
    const full = this.buf;
    this.buf = this.spare && this.spare.length >= BUFFER_BYTES ? this.spare : takeBuffer();
    this.spare = null;
    this.used = 0;
    if (this.comp === 'gzip') this.start(gzipSync(raw, { level: 6 }), full);
    else this.start(raw, full);
  }
  /** one positioned write of bytes; `reuse` becomes the spare buffer once it has ended */
  private start(bytes: Uint8Array, reuse: Buffer | null): void {
    const at = this.written;
    this.written += bytes.length;
    this.inflight = writeAll(this.fd, bytes, at).then(
      () => {
        this.inflight = null;
        if (reuse && (!this.spare || this.spare.length < reuse.length)) this.spare = reuse;
      },
      (e: Error) => {
        this.inflight = null;
        this.failed = e;
      },
    );
  }
  async close(): Promise<void> {
    try {
      await this.flush();
      if (this.inflight) await this.inflight;
      if (this.failed) throw this.failed;
      await fsyncAsync(this.fd);
    } finally {
      closeSync(this.fd);
      // (no write is in flight here: both buffers can serve the next part)
      if (!this.inflight) {
        giveBack(this.buf);
        giveBack(this.spare);
        this.buf = Buffer.alloc(0);
        this.spare = null;
      }
    }
  }
}

const fsyncAsync = promisify(fsync);
const writeAsync = promisify(fsWrite);

/** Writes all of bytes at the file offset `at` (a short write continues where it stopped). */
async function writeAll(fd: number, bytes: Uint8Array, at: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    const { bytesWritten } = await writeAsync(fd, bytes, off, bytes.length - off, at + off);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} at offset ${at + off}`);
    off += bytesWritten;
  }
}

class ParquetPart implements PartWriter {
  constructor(private w: import('./parquet.js').ParquetDocWriter) {}
  write(doc: Document): void {
    this.w.write(doc);
  }
  size(): number {
    return this.w.size();
  }
  async close(): Promise<void> {
    this.w.close();
  }
}

/**
 * Writes documents to `<prefix>.part-0000.<ext>`, `<prefix>.part-0001.<ext>`, …
 * starting a new part when the current one reaches maxBytes.
 */
export class ShardedWriter {
  private part: PartWriter | null = null;
  private partIndex = 0;
  private tmpPath = '';
  private finalPath = '';
  readonly files: string[] = [];
  docs = 0;

  constructor(private prefix: string, private format: OutputFormat, private maxBytes: number) {
    mkdirSync(dirname(prefix), { recursive: true });
  }

  private ext(): string {
    return this.format;
  }

  private async open(): Promise<PartWriter> {
    this.finalPath = `${this.prefix}.part-${String(this.partIndex).padStart(4, '0')}.${this.ext()}`;
    this.tmpPath = `${this.finalPath}.tmp`;
    this.partIndex++;
    if (this.format === 'parquet') {
      const { ParquetDocWriter } = await import('./parquet.js');
      return new ParquetPart(new ParquetDocWriter(this.tmpPath, Math.min(32 << 20, this.maxBytes)));
    }
    return new JsonlPart(this.tmpPath, this.format === 'jsonl.gz' ? 'gzip' : this.format === 'jsonl.zst' ? 'zstd' : 'none');
  }

  /** A promise only when the write took an asynchronous step (a new part, a zstd frame, a rotation). */
  write(doc: Document): void | Promise<void> {
    const part = this.part;
    if (part?.writeNow?.(doc)) {
      this.docs++;
      if (part.size() >= this.maxBytes) return this.rotate();
      return;
    }
    return this.writeAsync(doc);
  }

  private async writeAsync(doc: Document): Promise<void> {
    if (!this.part) this.part = await this.open();
    await this.part.write(doc);
    this.docs++;
    if (this.part.size() >= this.maxBytes) await this.rotate();
  }

  private async rotate(): Promise<void> {
    if (!this.part) return;
    await this.part.close();
    renameSync(this.tmpPath, this.finalPath);
    this.files.push(this.finalPath);
    this.part = null;
  }

  async close(): Promise<string[]> {
    await this.rotate();
    return this.files;
  }
}

/** Append-only JSONL log, written atomically as a whole at close (used for quarantine and dropped records). */
export class JsonlLog {
  private lines: string[] = [];
  private bytes = 0;
  private spilled: string | null = null;
  count = 0;
  constructor(private path: string, private maxBuffered = 8 << 20) {}
  add(obj: unknown): void {
    const l = JSON.stringify(obj) + '\n';
    this.lines.push(l);
    this.bytes += l.length;
    this.count++;
    if (this.bytes > this.maxBuffered) this.spill();
  }
  private spill(): void {
    const first = this.spilled === null;
    this.spilled ??= `${this.path}.tmp`;
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(this.spilled, this.lines.join(''), { flag: first ? 'w' : 'a' });
    this.lines = [];
    this.bytes = 0;
  }
  close(): string | null {
    if (!this.count) return null;
    if (this.spilled) {
      writeFileSync(this.spilled, this.lines.join(''), { flag: 'a' });
      renameSync(this.spilled, this.path);
    } else writeFileAtomic(this.path, this.lines.join(''));
    return this.path;
  }
}
