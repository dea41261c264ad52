/** Parquet reading (row group by row group) and writing, through hyparquet / hyparquet-writer (pure JS). */
import { promises as fsp, openSync, writeSync, closeSync } from 'node:fs';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { ParquetWriter, ByteWriter } from 'hyparquet-writer';
import type { Document, Quarantined } from '../core/document.js';
import type { ReaderOptions, ReadEvent, ReadProgress } from './readers.js';

async function fileBuffer(path: string): Promise<AsyncBuffer & { close(): Promise<void> }> {
  const fh = await fsp.open(path, 'r');
  const { size } = await fh.stat();
  return {
    byteLength: size,
    async slice(start: number, end?: number) {
      const e = end ?? size;
      const b = Buffer.alloc(e - start);
      await fh.read(b, 0, b.length, start);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    },
    close: () => fh.close(),
  };
}

export async function* readParquet(file: string, key: string, opts: ReaderOptions, progress: ReadProgress): AsyncGenerator<ReadEvent> {
  let buf: Awaited<ReturnType<typeof fileBuffer>>;
  try {
    buf = await fileBuffer(file);
  } catch (e) {
    yield { quarantine: { file, record: 0, reason: 'unreadable-file', detail: (e as Error).message, excerpt: '' } };
    return;
  }
  try {
    if (buf.byteLength === 0) {
      yield { warning: `${file}: empty file (0 records)` };
      return;
    }
    let meta;
    try {
      meta = await parquetMetadataAsync(buf);
    } catch (e) {
      const qr: Quarantined = { file, record: 0, reason: 'corrupt-parquet', detail: (e as Error).message, excerpt: '' };
      yield { quarantine: qr };
      progress.bytes += buf.byteLength;
      return;
    }
    let row = 0;
    const perByte = buf.byteLength / Math.max(1, Number(meta.num_rows));
    for (const rg of meta.row_groups) {
      const n = Number(rg.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = (await parquetReadObjects({ file: buf, metadata: meta, rowStart: row, rowEnd: row + n })) as Record<string, unknown>[];
      } catch (e) {
        yield { quarantine: { file, record: row + 1, reason: 'corrupt-parquet', detail: `row group at row ${row + 1}: ${(e as Error).message}`, excerpt: '' } };
        row += n;
        continue;
      }
      for (const rec of rows) {
        row++;
        progress.bytes += perByte;
        const text = rec[opts.textKey];
        if (typeof text !== 'string') {
          yield { quarantine: { file, record: row, reason: 'missing-text-field', detail: `no string "${opts.textKey}" column value`, excerpt: '' } };
          continue;
        }
        const idv = rec[opts.idKey];
        let m: Record<string, unknown> = {};
        if (typeof rec.meta === 'string') {
          try {
            m = JSON.parse(rec.meta) as Record<string, unknown>;
          } catch {
            m = { meta: rec.meta };
          }
        }
        for (const [k, v] of Object.entries(rec)) if (k !== opts.textKey && k !== opts.idKey && k !== 'meta' && m[k] === undefined) m[k] = typeof v === 'bigint' ? Number(v) : v;
        m.source = opts.source ?? (typeof m.source === 'string' ? m.source : key);
        m.record = `${key}:${row}`;
        const doc: Document = { id: typeof idv === 'string' || typeof idv === 'number' || typeof idv === 'bigint' ? String(idv) : `${key}:${row}`, text, meta: m as Document['meta'] };
        yield { doc };
      }
    }
  } finally {
    await buf.close();
  }
}

/** Incremental Parquet writer for documents: columns id, text, meta (JSON). */
export class ParquetDocWriter {
  private fd: number;
  private writer: ParquetWriter;
  private bw: ByteWriter;
  private ids: string[] = [];
  private texts: string[] = [];
  private metas: string[] = [];
  private pendingBytes = 0;
  bytesWritten = 0;

  constructor(path: string, private rowGroupBytes = 32 << 20) {
    this.fd = openSync(path, 'w');
    const bw = new ByteWriter();
    const flush = () => {
      if (bw.index > 0) {
        writeSync(this.fd, new Uint8Array(bw.buffer, 0, bw.index));
        this.bytesWritten += bw.index;
        bw.index = 0;
      }
    };
    (bw as unknown as { flush: () => void }).flush = flush;
    (bw as unknown as { finish: () => void }).finish = flush;
    this.bw = bw;
    this.writer = new ParquetWriter({
      writer: bw as never,
      schema: [
        { name: 'root', num_children: 3 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'meta', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      ],
      codec: 'SNAPPY',
      createdBy: 'ziya-ts',
    });
  }

  write(doc: Document): void {
    const meta = JSON.stringify(doc.meta);
    this.ids.push(doc.id);
    this.texts.push(doc.text);
    this.metas.push(meta);
    this.pendingBytes += doc.text.length * 2 + meta.length + doc.id.length;
    if (this.pendingBytes >= this.rowGroupBytes) this.flushGroup();
  }

  /** Approximate bytes of the file once closed. */
  size(): number {
    return this.bytesWritten + this.bw.index + this.pendingBytes / 3;
  }

  private flushGroup(): void {
    if (!this.ids.length) return;
    const n = this.ids.length;
    this.writer.write({
      columnData: [
        { name: 'id', data: this.ids },
        { name: 'text', data: this.texts },
        { name: 'meta', data: this.metas },
      ],
      rowGroupSize: n,
    });
    (this.bw as unknown as { flush: () => void }).flush();
    this.ids = [];
    this.texts = [];
    this.metas = [];
    this.pendingBytes = 0;
  }

  close(): void {
    this.flushGroup();
    this.writer.finish();
    closeSync(this.fd);
  }
}
