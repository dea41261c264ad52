/** Byte-to-text decoding with encoding detection: UTF-8 first, then GB18030, then lossy UTF-8. */
import { textKernels } from '../native/index.js';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');
let gbFatal: TextDecoder | null = null;

export interface Decoded {
  text: string;
  /** 'utf-8', 'gb18030', or 'utf-8-lossy' when invalid bytes were replaced by U+FFFD. */
  encoding: string;
  invalidBytes: number;
}

function countReplacement(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\ufffd'); i >= 0; i = s.indexOf('\ufffd', i + 1)) n++;
  return n;
}

export function decodeBytes(b: Uint8Array, declared?: string): Decoded {
  if (declared) {
    const d = declared.toLowerCase();
    if (d !== 'utf-8' && d !== 'utf8') {
      try {
        return { text: new TextDecoder(d, { fatal: true }).decode(b), encoding: d, invalidBytes: 0 };
      } catch {
        /* fall through to detection */
      }
    }
  }
  // fast path: the native decoder gives text only for valid UTF-8 (a literal U+FFFD in it is
  // text, as the fatal decoder below would say); else Buffer's UTF-8 decoder, where a
  // replacement character means invalid bytes (or a literal U+FFFD)
  const nk = textKernels.native;
  const valid = nk ? nk.decodeUtf8(b) : null;
  if (valid !== null) return { text: valid, encoding: 'utf-8', invalidBytes: 0 };
  const fast = Buffer.isBuffer(b) ? b.toString('utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  if (!fast.includes('\ufffd')) return { text: fast, encoding: 'utf-8', invalidBytes: 0 };
  try {
    return { text: utf8Fatal.decode(b), encoding: 'utf-8', invalidBytes: 0 };
  } catch {
    /* not UTF-8 */
  }
  try {
    gbFatal ??= new TextDecoder('gb18030', { fatal: true });
    const text = gbFatal.decode(b);
    // GB18030 decodes almost any byte string; accept only if it yields mostly CJK text.
    let cjk = 0;
    let high = 0;
    for (const ch of text) {
      const c = ch.codePointAt(0)!;
      if (c >= 0x80) high++;
      if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xffef)) cjk++;
    }
    if (high > 0 && cjk / high > 0.9) return { text, encoding: 'gb18030', invalidBytes: 0 };
  } catch {
    /* not GB18030 either */
  }
  const text = utf8Lossy.decode(b);
  return { text, encoding: 'utf-8-lossy', invalidBytes: countReplacement(text) };
}

/** Heuristic for binary content: NUL bytes or many C0 controls in the first 8 KiB. */
export function looksBinary(b: Uint8Array): boolean {
  const n = Math.min(b.length, 8192);
  if (n === 0) return false;
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return true;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 27) ctl++;
  }
  return ctl / n > 0.1;
}
