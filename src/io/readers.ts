/**
 * Streaming readers. Each turns one input shard into documents and
 * quarantined records, with bounded memory, and reports progress in bytes.
 */
import { promises as fsp } from 'node:fs';
import { basename, extname } from 'node:path';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type Document, type Quarantined, copyOwn, excerpt } from '../core/document.js';
import { decodeBytes, looksBinary } from './decode.js';
import { byteChunks, LineSplitter, TruncatedInputError, type Line } from './streams.js';
import { warcRecords, splitHttp } from './warc.js';
import { sniffHtmlCharset } from './charset.js';

/** 'lines': plain text with one document per line (set explicitly; never guessed from the extension) */
export type InputFormat = 'jsonl' | 'lines' | 'parquet' | 'text' | 'html' | 'warc';

export interface ReaderOptions {
  textKey: string;
  idKey: string;
  /** Records longer than this are quarantined without being held in memory. */
  maxRecordBytes: number;
  /** Source name written into meta.source (defaults to the file path). */
  source?: string;
}

/** A unit of input work: one file, a byte range of a plain JSONL file, or a group of small files. */
export interface ShardSpec {
  index: number;
  format: InputFormat;
  files: string[];
  /** Byte range for split plain JSONL files, and the line number the range starts at. */
  start?: number;
  end?: number;
  firstLine?: number;
  /** Key used to build document ids (relative path of the file). */
  keys: string[];
  bytes: number;
}

export type ReadEvent = { doc: Document } | { quarantine: Quarantined } | { warning: string };

export interface ReadProgress {
  bytes: number;
}

function q(file: string, record: number, reason: string, detail: string, raw: string): { quarantine: Quarantined } {
  return { quarantine: { file, record, reason, detail, excerpt: excerpt(raw, 200) } };
}

export function formatOf(path: string): InputFormat | null {
  const p = path.toLowerCase().replace(/\.(gz|zst|zstd)$/, '');
  if (p.endsWith('.jsonl') || p.endsWith('.json') || p.endsWith('.ndjson')) return 'jsonl';
  if (p.endsWith('.parquet')) return 'parquet';
  if (p.endsWith('.warc') || p.endsWith('.wet') || p.endsWith('.warc.wet')) return 'warc';
  if (p.endsWith('.html') || p.endsWith('.htm')) return 'html';
  if (p.endsWith('.txt') || p.endsWith('.md') || extname(p) === '') return 'text';
  return null;
}

export async function* readShard(spec: ShardSpec, opts: ReaderOptions, progress: ReadProgress): AsyncGenerator<ReadEvent> {
  for await (const batch of readShardBatches(spec, opts, progress)) for (const ev of batch) yield ev;
}

/**
 * readShard's events in batches: up to RECORDS_PER_BATCH records of a JSONL file in one array (an
 * asynchronous step per batch, not per record: the executor's loop), one event per array for the
 * other formats.
 */
export async function* readShardBatches(spec: ShardSpec, opts: ReaderOptions, progress: ReadProgress): AsyncGenerator<ReadEvent[]> {
  for (let i = 0; i < spec.files.length; i++) {
    const file = spec.files[i]!;
    const key = spec.keys[i]!;
    try {
      await fsp.access(file);
    } catch (e) {
      yield [q(file, 0, 'unreadable-file', (e as Error).message, '')];
      continue;
    }
    switch (spec.format) {
      case 'jsonl':
      case 'lines':
        yield* readJsonl(file, key, spec, opts, progress);
        break;
      case 'parquet': {
        const { readParquet } = await import('./parquet.js');
        for await (const ev of readParquet(file, key, opts, progress)) yield [ev];
        break;
      }
      case 'warc':
        for await (const ev of readWarc(file, key, opts, progress)) yield [ev];
        break;
      case 'text':
      case 'html':
        for await (const ev of readWholeFile(file, key, spec.format, opts, progress)) yield [ev];
        break;
    }
  }
}

/** The lines of a chunk stream, one array per chunk (and one for the last line). */
async function* lineBatches(chunks: AsyncIterable<Uint8Array>, maxBytes: number, firstLine: number): AsyncGenerator<Line[]> {
  const sp = new LineSplitter(maxBytes, firstLine);
  for await (const raw of chunks) yield sp.push(raw);
  yield sp.end();
}

/** records handed on at a time (by readShardBatches) */
const RECORDS_PER_BATCH = 32;

async function* readJsonl(file: string, key: string, spec: ShardSpec, opts: ReaderOptions, progress: ReadProgress): AsyncGenerator<ReadEvent[]> {
  const ranged = spec.start !== undefined;
  let chunks = byteChunks(file, { start: spec.start, end: undefined, onRaw: (n) => (progress.bytes += n) });
  // A ranged shard owns the lines that start inside [start, end): it skips nothing at its
  // start (the planner aligned it to a line start) and reads past `end` to finish its last line.
  let pos = spec.start ?? 0;
  const end = spec.end ?? Infinity;
  let any = false;
  // lines come a chunk at a time; their events go out RECORDS_PER_BATCH at a time
  let out: ReadEvent[] = [];
  try {
    outer: for await (const batch of lineBatches(chunks, opts.maxRecordBytes, spec.firstLine ?? 1)) {
      for (const ln of batch) {
        // a few records at a time: records parsed long before they are processed would outlive
        // the young generation and be promoted (a chunk's worth at once raised the peak RSS by ~20%)
        if (out.length >= RECORDS_PER_BATCH) {
          const full = out;
          out = [];
          yield full;
        }
        if (ranged && pos >= end) break outer;
        pos += ln.length + 1;
        any = true;
        if (ln.bytes === null) {
          out.push(q(file, ln.line, 'record-too-large', `line of ${ln.length} bytes exceeds maxRecordBytes=${opts.maxRecordBytes}`, ''));
          continue;
        }
        if (ln.bytes.length === 0 || (ln.bytes.length < 4 && ln.bytes.toString().trim() === '')) continue;
        const dec = decodeBytes(ln.bytes);
        if (spec.format === 'lines') {
          if (!dec.text.trim()) continue;
          const meta: Record<string, unknown> = { source: opts.source ?? key, record: `${key}:${ln.line}` };
          if (dec.encoding !== 'utf-8') meta.encoding = dec.encoding;
          if (dec.invalidBytes) meta.invalidBytes = dec.invalidBytes;
          out.push({ doc: { id: `${key}:${ln.line}`, text: dec.text.replace(/\r$/, ''), meta: meta as Document['meta'] } });
          continue;
        }
        let obj: unknown;
        try {
          obj = JSON.parse(dec.text);
        } catch (e) {
          const reason = looksBinary(ln.bytes) ? 'binary-garbage' : 'malformed-json';
          out.push(q(file, ln.line, reason, (e as Error).message, dec.text));
          continue;
        }
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
          out.push(q(file, ln.line, 'not-an-object', `JSON value is ${Array.isArray(obj) ? 'an array' : typeof obj}`, dec.text));
          continue;
        }
        const rec = obj as Record<string, unknown>;
        const text = rec[opts.textKey];
        if (typeof text !== 'string') {
          out.push(q(file, ln.line, 'missing-text-field', text === undefined ? `no "${opts.textKey}" field` : `"${opts.textKey}" is ${typeof text}, not a string`, dec.text));
          continue;
        }
        const idv = rec[opts.idKey];
        const id = typeof idv === 'string' || typeof idv === 'number' ? String(idv) : `${key}:${ln.line}`;
        // (a copy made with Object.assign: keys added after a spread take V8's slow path)
        const meta: Record<string, unknown> = typeof rec.meta === 'object' && rec.meta !== null ? copyOwn(rec.meta as Record<string, unknown>) : {};
        // own keys of a parsed object, in order (for-in: no entries array per record)
        for (const k in rec) {
          if (k !== opts.textKey && k !== opts.idKey && k !== 'meta' && meta[k] === undefined) meta[k] = rec[k];
        }
        meta.source = opts.source ?? (typeof meta.source === 'string' ? meta.source : key);
        meta.record = `${key}:${ln.line}`;
        if (dec.encoding !== 'utf-8') meta.encoding = dec.encoding;
        if (dec.invalidBytes) meta.invalidBytes = dec.invalidBytes;
        out.push({ doc: { id, text, meta: meta as Document['meta'] } });
      }
      if (out.length) {
        const full = out;
        out = [];
        yield full;
      }
    }
    // (a ranged shard that stopped inside a batch)
    if (out.length) {
      const full = out;
      out = [];
      yield full;
    }
  } catch (e) {
    // (the records read before the error come first)
    if (out.length) yield out;
    if (e instanceof TruncatedInputError) yield [q(file, -1, 'truncated-file', e.message, '')];
    else yield [q(file, -1, 'unreadable-file', (e as Error).message, '')];
    return;
  }
  if (!any && !ranged) yield [{ warning: `${file}: empty file (0 records)` }];
}

async function* readWholeFile(file: string, key: string, format: 'text' | 'html', opts: ReaderOptions, progress: ReadProgress): AsyncGenerator<ReadEvent> {
  const st = await fsp.stat(file);
  if (st.size > opts.maxRecordBytes) {
    progress.bytes += st.size;
    yield q(file, 1, 'record-too-large', `file of ${st.size} bytes exceeds maxRecordBytes=${opts.maxRecordBytes}`, '');
    return;
  }
  const parts: Uint8Array[] = [];
  try {
    for await (const c of byteChunks(file, { onRaw: (n) => (progress.bytes += n) })) parts.push(c);
  } catch (e) {
    yield q(file, 1, e instanceof TruncatedInputError ? 'truncated-file' : 'unreadable-file', (e as Error).message, '');
    return;
  }
  const buf = Buffer.concat(parts);
  if (buf.length === 0) {
    yield { warning: `${file}: empty file (0 records)` };
    return;
  }
  if (looksBinary(buf)) {
    yield q(file, 1, 'binary-garbage', 'NUL bytes or control characters in the first 8 KiB', buf.subarray(0, 200).toString('latin1'));
    return;
  }
  const isHtml = format === 'html' || /^\s*(<!doctype html|<html)/i.test(buf.subarray(0, 512).toString('latin1'));
  const dec = decodeBytes(buf, isHtml ? sniffHtmlCharset(buf.subarray(0, 4096).toString('latin1')) : undefined);
  const meta: Record<string, unknown> = { source: opts.source ?? key, record: `${key}:1` };
  if (isHtml) meta.contentType = 'text/html';
  if (dec.encoding !== 'utf-8') meta.encoding = dec.encoding;
  if (dec.invalidBytes) meta.invalidBytes = dec.invalidBytes;
  yield { doc: { id: key, text: dec.text, meta: meta as Document['meta'] } };
}

function dechunk(body: Buffer): Buffer | null {
  const out: Buffer[] = [];
  let p = 0;
  for (;;) {
    const nl = body.indexOf('\r\n', p);
    if (nl < 0) return null;
    const size = parseInt(body.subarray(p, nl).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) return Buffer.concat(out);
    out.push(body.subarray(nl + 2, nl + 2 + size));
    p = nl + 2 + size + 2;
    if (p > body.length) return null;
  }
}

async function* readWarc(file: string, key: string, opts: ReaderOptions, progress: ReadProgress): AsyncGenerator<ReadEvent> {
  const base = basename(file);
  let docs = 0;
  try {
    for await (const r of warcRecords(byteChunks(file, { onRaw: (n) => (progress.bytes += n) }), opts.maxRecordBytes)) {
      if ('reason' in r) {
        yield q(file, r.number, 'malformed-warc', r.reason, r.excerpt);
        continue;
      }
      const type = (r.headers['warc-type'] ?? '').toLowerCase();
      if (type !== 'response' && type !== 'resource' && type !== 'conversion') continue; // warcinfo, request, metadata: not documents
      const url = r.headers['warc-target-uri']?.replace(/^<|>$/g, '');
      const id = r.headers['warc-record-id']?.replace(/^<|>$/g, '') ?? `${key}#${r.number}`;
      if (r.oversized) {
        yield q(file, r.number, 'record-too-large', `WARC block exceeds maxRecordBytes=${opts.maxRecordBytes}`, url ?? '');
        continue;
      }
      let body = r.block;
      let ctype = (r.headers['content-type'] ?? '').toLowerCase();
      if (type === 'response') {
        const http = splitHttp(r.block);
        if (!http) {
          if (ctype.includes('application/http')) {
            yield q(file, r.number, 'malformed-http', 'response record without a parsable HTTP status line', r.block.subarray(0, 200).toString('latin1'));
            continue;
          }
        } else {
          body = http.body;
          ctype = (http.headers['content-type'] ?? '').toLowerCase();
          if ((http.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) body = dechunk(body) ?? body;
          const enc = (http.headers['content-encoding'] ?? '').toLowerCase().trim();
          if (enc && enc !== 'identity') {
            try {
              body = enc.includes('gzip') ? gunzipSync(body) : enc.includes('br') ? brotliDecompressSync(body) : enc.includes('deflate') ? inflateSync(body) : body;
            } catch (e) {
              yield q(file, r.number, 'undecodable-content-encoding', `${enc}: ${(e as Error).message}`, '');
              continue;
            }
          }
          if (http.status >= 300) continue; // redirects and errors carry no document
        }
      }
      if (type !== 'conversion' && ctype && !/text\/|html|xml/.test(ctype)) continue; // images, PDFs…
      if (looksBinary(body)) {
        yield q(file, r.number, 'binary-garbage', `binary body (${ctype || 'no content type'})`, '');
        continue;
      }
      const isHtml = type !== 'conversion' && (ctype.includes('html') || /^\s*(<!doctype html|<html)/i.test(body.subarray(0, 512).toString('latin1')));
      const charset = /charset=([\w-]+)/.exec(ctype)?.[1] ?? (isHtml ? sniffHtmlCharset(body.subarray(0, 4096).toString('latin1')) : undefined);
      const dec = decodeBytes(body, charset);
      const meta: Record<string, unknown> = { source: opts.source ?? key, record: `${base}#${r.number}`, warcType: type };
      if (url) meta.url = url;
      if (r.headers['warc-date']) meta.date = r.headers['warc-date'];
      const lang = r.headers['warc-identified-content-language'];
      if (lang) meta.declaredLanguage = lang;
      if (isHtml) meta.contentType = 'text/html';
      if (dec.encoding !== 'utf-8') meta.encoding = dec.encoding;
      if (dec.invalidBytes) meta.invalidBytes = dec.invalidBytes;
      docs++;
      yield { doc: { id, text: dec.text, meta: meta as Document['meta'] } };
    }
  } catch (e) {
    yield q(file, -1, e instanceof TruncatedInputError ? 'truncated-file' : 'unreadable-file', (e as Error).message, '');
    return;
  }
  if (docs === 0) yield { warning: `${file}: no document records` };
}
