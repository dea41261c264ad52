/** Streaming WARC / WET record parser (WARC/1.0 and 1.1, plain or gzip, multi-member). */
export interface WarcRecord {
  headers: Record<string, string>;
  /** The record block (for 'response': HTTP headers + body). */
  block: Buffer;
  /** 1-based record number within the file. */
  number: number;
  /** The block was longer than the cap and was skipped. */
  oversized?: boolean;
}

export interface WarcError {
  number: number;
  reason: string;
  excerpt: string;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
const MAGIC = Buffer.from('WARC/');
const NL_MAGIC = Buffer.from('\nWARC/');

/** Parses records out of a byte stream; resynchronises on the next "WARC/" line after a malformed record. */
export async function* warcRecords(chunks: AsyncIterable<Uint8Array>, maxBlock: number): AsyncGenerator<WarcRecord | WarcError> {
  let buf: Buffer = Buffer.alloc(0);
  let number = 0;
  let need: { headers: Record<string, string>; length: number; got: number; parts: Buffer[]; skip: boolean } | null = null;
  const it = chunks[Symbol.asyncIterator]();
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done) {
      done = true;
      return false;
    }
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    buf = buf.length ? Buffer.concat([buf, c]) : c;
    return true;
  };
  for (;;) {
    if (need) {
      // reading a block
      while (need.got < need.length) {
        if (!buf.length && !(await more())) {
          yield { number, reason: 'truncated WARC record', excerpt: `expected ${need.length} block bytes, got ${need.got}` };
          return;
        }
        const take = Math.min(buf.length, need.length - need.got);
        if (!need.skip) need.parts.push(buf.subarray(0, take));
        need.got += take;
        buf = buf.subarray(take);
      }
      if (need.skip) yield { headers: need.headers, block: Buffer.alloc(0), number, oversized: true };
      else {
        let block = Buffer.concat(need.parts);
        // A Content-Length counted with CRLF line ends over a file saved with LF swallows the
        // next record's version line: give the bytes from that line back to the parser.
        const tail = Math.max(0, block.length - 512);
        const at = block.indexOf(NL_MAGIC, tail);
        if (at >= 0 && /^WARC\/1\.\d(\r?\n|$)/.test(block.subarray(at + 1, at + 12).toString("latin1"))) {
          buf = Buffer.concat([block.subarray(at + 1), buf]);
          block = block.subarray(0, at);
        }
        yield { headers: need.headers, block, number };
      }
      need = null;
      continue;
    }
    // skip blank lines between records
    let start = 0;
    for (;;) {
      while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
      if (start < buf.length) break;
      buf = Buffer.alloc(0);
      start = 0;
      if (!(await more())) return;
    }
    buf = buf.subarray(start);
    let end = buf.indexOf(CRLFCRLF);
    let sepLen = 4;
    while (end < 0) {
      const lf = buf.indexOf(LFLF);
      if (lf >= 0) {
        end = lf;
        sepLen = 2;
        break;
      }
      if (buf.length > 1 << 20) break;
      if (!(await more())) break;
      end = buf.indexOf(CRLFCRLF);
    }
    number++;
    if (end < 0 || buf.subarray(0, MAGIC.length).compare(MAGIC) !== 0) {
      const ex = buf.subarray(0, 200).toString('latin1');
      // resynchronise: find the next WARC/ at a line start
      let next = -1;
      for (;;) {
        let p = buf.indexOf(MAGIC, 1);
        while (p > 0 && buf[p - 1] !== 10) p = buf.indexOf(MAGIC, p + 1);
        next = p;
        if (next > 0 || !(await more())) break;
      }
      yield { number, reason: end < 0 && buf.subarray(0, 5).compare(MAGIC) === 0 ? 'truncated WARC header' : 'malformed WARC record (no WARC/ version line)', excerpt: ex };
      if (next <= 0) return;
      buf = buf.subarray(next);
      continue;
    }
    const headText = buf.subarray(0, end).toString('utf8');
    buf = buf.subarray(end + sepLen);
    const lines = headText.split(/\r?\n/);
    const headers: Record<string, string> = { 'warc-version': lines[0]!.trim() };
    let last = '';
    for (const l of lines.slice(1)) {
      if (/^[ \t]/.test(l) && last) {
        headers[last] += ' ' + l.trim();
        continue;
      }
      const i = l.indexOf(':');
      if (i <= 0) continue;
      last = l.slice(0, i).trim().toLowerCase();
      headers[last] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length']);
    if (!Number.isFinite(len) || len < 0) {
      yield { number, reason: 'WARC record without a valid Content-Length', excerpt: headText.slice(0, 200) };
      continue;
    }
    need = { headers, length: len, got: 0, parts: [], skip: len > maxBlock };
  }
}

/** Splits an HTTP response block into headers and body. */
export function splitHttp(block: Buffer): { status: number; headers: Record<string, string>; body: Buffer } | null {
  let end = block.indexOf(CRLFCRLF);
  let sep = 4;
  if (end < 0) {
    end = block.indexOf(LFLF);
    sep = 2;
  }
  if (end < 0) return null;
  const head = block.subarray(0, end).toString('latin1').split(/\r?\n/);
  const m = /^HTTP\/\S+\s+(\d{3})/.exec(head[0] ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers, body: block.subarray(end + sep) };
}
