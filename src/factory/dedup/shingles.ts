/**
 * Shingles for near-duplicate detection, as 32-bit hashes: character n-grams
 * (non-space characters) for Chinese and Japanese, word n-grams (lower-case
 * letters/digits) for everything else. A document shorter than one shingle
 * yields a single shingle of its whole text, so no non-empty document ends
 * with an empty set.
 */
import type { Document } from '../../core/document.js';

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

export function isCjkDoc(doc: Document): boolean {
  const l = doc.meta.language;
  if (l) return l === 'zh' || l === 'ja';
  const s = doc.text.slice(0, 500);
  let han = 0;
  for (const ch of s) if (HAN.test(ch)) han++;
  return han > s.length * 0.2;
}

let tables: { isWord: Uint8Array; lower: Uint16Array } | null = null;
/** Per UTF-16 code unit: is it part of a word (a letter or digit), and its lower case (when that is one code unit). */
export function wordTables(): { isWord: Uint8Array; lower: Uint16Array } {
  if (tables) return tables;
  const isWord = new Uint8Array(65536);
  const lower = new Uint16Array(65536);
  const LN = /[\p{L}\p{N}]/u;
  for (let c = 0; c < 65536; c++) {
    const ch = String.fromCharCode(c);
    if (c < 0xd800 || c > 0xdfff) isWord[c] = LN.test(ch) ? 1 : 0;
    const l = ch.toLowerCase();
    lower[c] = l.length === 1 ? l.charCodeAt(0) : c;
  }
  tables = { isWord, lower };
  return tables;
}

/** FNV-1a hashes of the words of a text: runs of letter/digit code units, lower-cased unit by unit. */
export function wordHashes(text: string): Uint32Array {
  const { isWord, lower } = wordTables();
  const out: number[] = [];
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (isWord[c]) {
      h = Math.imul(h ^ lower[c]!, 0x01000193);
      inWord = true;
    } else if (inWord) {
      out.push(h >>> 0);
      h = 0x811c9dc5;
      inWord = false;
    }
  }
  return Uint32Array.from(out);
}

function fnv(codes: ArrayLike<number>, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ codes[i]!, 0x01000193);
  return h >>> 0;
}

/** Distinct shingle hashes of a document (empty only for documents without letters, digits or CJK). */
export function shingleHashes(doc: Document, n: number): Uint32Array {
  const out = new Set<number>();
  if (isCjkDoc(doc)) {
    const codes: number[] = [];
    const s = doc.text;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 32 && c !== 0x3000) codes.push(c);
    }
    if (codes.length === 0) return new Uint32Array(0);
    if (codes.length < n) out.add(fnv(codes, 0, codes.length));
    else for (let i = 0; i + n <= codes.length; i++) out.add(fnv(codes, i, i + n));
  } else {
    const ids = wordHashes(doc.text);
    if (!ids.length) return new Uint32Array(0);
    if (ids.length < n) out.add(fnv(ids, 0, ids.length));
    else for (let i = 0; i + n <= ids.length; i++) out.add(fnv(ids, i, i + n));
  }
  return Uint32Array.from(out);
}

/** Exact Jaccard similarity of two shingle sets. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (!a.length && !b.length) return 1;
  const sa = new Set(a);
  let inter = 0;
  for (const x of b) if (sa.has(x)) inter++;
  return inter / (a.length + b.length - inter);
}
