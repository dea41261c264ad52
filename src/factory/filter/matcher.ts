/**
 * Counts occurrences of several word lists in text in one pass, without regular
 * expressions: Latin entries match whole words (letters/digits runs, ASCII
 * case-folded; multi-word phrases match consecutive words), CJK entries match
 * as substrings (a first-character table gates the comparisons).
 */
import { K, kindTable, textKernels, toU16 } from './features.js';
import { arg, argSlot } from '../../native/index.js';

const RING = 8;

export class PhraseMatcher {
  /** last-word hash -> phrases (arrays of word hashes) ending with it, with their list */
  private byLast = new Map<number, { words: Int32Array; list: number }[]>();
  private first = new Uint8Array(65536);
  /** bit set over hashed (first, second) character pairs of the CJK entries */
  private pair = new Uint8Array(8192);
  private cjk = new Map<number, { text: string; list: number }[]>();
  readonly lists: number;

  private static built = new Map<string, PhraseMatcher>();
  /**
   * The matcher of these lists, built once per process (a matcher does not change once built;
   * each shard's pipeline would otherwise rebuild and re-flatten its 65,536-entry tables).
   */
  static of(lists: string[][]): PhraseMatcher {
    const key = JSON.stringify(lists);
    let m = PhraseMatcher.built.get(key);
    if (!m) PhraseMatcher.built.set(key, (m = new PhraseMatcher(lists)));
    return m;
  }

  /** One entry list per counter, e.g. [toxic, ads]. */
  constructor(lists: string[][]) {
    const kt = kindTable();
    this.lists = lists.length;
    lists.forEach((entries, list) => { for (const raw of entries) {
      const e = raw.toLowerCase().trim();
      if (!e) continue;
      const isLatin = [...e].every((ch) => ch.charCodeAt(0) < 0x2e80);
      if (isLatin) {
        const words = PhraseMatcher.words(e, kt);
        if (!words.length || words.length > RING) continue;
        const last = words[words.length - 1]!;
        let l = this.byLast.get(last);
        if (!l) this.byLast.set(last, (l = []));
        l.push({ words: Int32Array.from(words), list });
      } else {
        const c = e.charCodeAt(0);
        this.first[c] = 1;
        if (c >= 97 && c <= 122) this.first[c - 32] = 1; // mixed entries such as "av女优" match any case
        let l = this.cjk.get(c);
        if (!l) this.cjk.set(c, (l = []));
        l.push({ text: e, list });
        for (const c0 of c >= 97 && c <= 122 ? [c, c - 32] : [c]) {
          const c1 = e.length > 1 ? e.charCodeAt(1) : -1;
          for (const c1v of c1 >= 97 && c1 <= 122 ? [c1, c1 - 32] : [c1]) {
            const hsh = PhraseMatcher.pairHash(c0, c1v);
            this.pair[hsh >>> 3]! |= 1 << (hsh & 7);
          }
        }
      }
    } });
    for (const l of this.cjk.values()) l.sort((a, b) => b.text.length - a.text.length);
  }

  private static pairHash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 1, 0x85ebca6b)) >>> 16;
  }

  private static words(s: string, kt: Uint8Array): number[] {
    const out: number[] = [];
    let h = 0x811c9dc5;
    let inWord = false;
    for (let i = 0; i <= s.length; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 32;
      const k = kt[c]!;
      if (k === K.Letter || k === K.Digit || k === K.Mark) {
        h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
        inWord = true;
      } else if (inWord) {
        out.push((h & 0x3fffffff) | 0x40000000);
        h = 0x811c9dc5;
        inWord = false;
      }
    }
    return out;
  }

  private flat?: Int32Array;
  /** the native scan's output (registered once, one entry per list) */
  private nativeOut?: Int32Array;
  /** the native kernel's numbers for the class table, the flattened tables and nativeOut */
  private slots = { classes: argSlot(), tables: argSlot(), out: argSlot() };
  private classes?: Uint8Array;
  /** Per code unit: bit 0 when a CJK entry may start with it, bit 1 when it is a word unit (letter, digit, mark below U+2E80). */
  private classTable(): Uint8Array {
    if (this.classes) return this.classes;
    const kt = kindTable();
    const t = new Uint8Array(65536);
    for (let c = 0; c < 65536; c++) {
      const k = kt[c]!;
      t[c] = this.first[c]! | (c < 0x2e80 && (k === K.Letter || k === K.Digit || k === K.Mark) ? 2 : 0);
    }
    return (this.classes = t);
  }
  /** The tables flattened into one array for the native scan (layout documented at phraseCount in native/text.cc). */
  private flatten(): Int32Array {
    if (this.flat) return this.flat;
    const pair = new Int32Array(2048);
    for (let h = 0; h < 65536; h++) if (this.pair[h >>> 3]! & (1 << (h & 7))) pair[h >>> 5]! |= 1 << (h & 31);
    const cjkStart = new Int32Array(65537);
    const off: number[] = [0], units: number[] = [], list: number[] = [];
    for (let c = 0; c < 65536; c++) {
      cjkStart[c] = list.length;
      for (const e of this.cjk.get(c) ?? []) {
        for (let k = 0; k < e.text.length; k++) units.push(e.text.charCodeAt(k));
        off.push(units.length);
        list.push(e.list);
      }
    }
    cjkStart[65536] = list.length;
    const lasts = [...this.byLast.keys()].sort((a, b) => a - b);
    const latStart: number[] = [0], phOff: number[] = [0], phWords: number[] = [], phList: number[] = [];
    for (const last of lasts) {
      for (const p of this.byLast.get(last)!) {
        phWords.push(...p.words);
        phOff.push(phWords.length);
        phList.push(p.list);
      }
      latStart.push(phList.length);
    }
    const latBits = new Int32Array(128);
    for (const last of lasts) latBits[(last >>> 5) & 127]! |= 1 << (last & 31);
    const firstBits = new Int32Array(2048);
    for (let c = 0; c < 65536; c++) if (this.first[c]) firstBits[c >>> 5]! |= 1 << (c & 31);
    const sections: ArrayLike<number>[] = [pair, cjkStart, off, units, list, lasts, latStart, phOff, phWords, phList, latBits, firstBits];
    const flat = new Int32Array(sections.length + sections.reduce((a, x) => a + x.length, 0));
    let at = sections.length;
    sections.forEach((x, k) => {
      flat[k] = at;
      flat.set(x, at);
      at += x.length;
    });
    return (this.flat = flat);
  }

  /** the last string counted with countOf and its counts (see countOf) */
  private lastText: string | null = null;
  private lastHits: Int32Array | null = null;

  /**
   * count(text), remembered for the last text counted this way: the document filter and the
   * paragraph filter both count the whole document with the same lists (when both use the default
   * word lists they share this matcher, PhraseMatcher.of), and the second count is the first one's.
   * `units`, when given, are the units of text (the native scan reads them without a copy).
   */
  countOf(text: string, units?: Uint16Array): Int32Array {
    if (this.lastHits !== null && text === this.lastText) return this.lastHits.slice();
    const hits = this.count(units ?? text);
    this.lastText = text;
    this.lastHits = hits.slice();
    return hits;
  }

  /** Matches of each list in s (CJK matches do not overlap; Latin phrases are counted where they end). */
  count(text: string | Uint16Array): Int32Array {
    const kt = kindTable();
    const nk = textKernels.native;
    if (nk && this.lists <= 32) {
      // the kernel writes into one long-lived array: a fresh small typed array handed to native
      // code has to be given a backing store first, which costs as much as the call itself
      const out = (this.nativeOut ??= new Int32Array(this.lists));
      const sl = this.slots;
      nk.phraseCount(text, arg(nk, this.classTable(), sl.classes), arg(nk, this.flatten(), sl.tables), arg(nk, out, sl.out));
      return out.slice();
    }
    const out = new Int32Array(this.lists);
    const s = typeof text === 'string' ? toU16(text) : text;
    const ring = this.ring;
    let nw = 0;
    let h = 0x811c9dc5;
    let inWord = false;
    const hasLatin = this.byLast.size > 0;
    const hasCjk = this.cjk.size > 0;
    const first = this.first;
    const len = s.length;
    for (let i = 0; i <= len; i++) {
      const c = i < len ? s[i]! : 32;
      if (c >= 97 && c <= 122 && !first[c]) {
        if (hasLatin) {
          h = Math.imul(h ^ c, 0x01000193);
          inWord = true;
        }
        continue;
      }
      if (hasCjk && first[c] && this.pairMaybe(c, i + 1 < len ? s[i + 1]! : -1)) {
        const cands = this.cjk.get(c >= 65 && c <= 90 ? c + 32 : c)!;
        let hit = false;
        for (const e of cands) {
          if (PhraseMatcher.at(s, i, e.text)) {
            out[e.list]!++;
            i += e.text.length - 1;
            hit = true;
            break;
          }
        }
        if (hit || c >= 0x2e80) {
          if (inWord) { ring[nw++ % RING] = (h & 0x3fffffff) | 0x40000000; this.check(ring, nw, out); h = 0x811c9dc5; inWord = false; }
          continue;
        }
      }
      if (!hasLatin) continue;
      const k = kt[c]!;
      if (c < 0x2e80 && (k === K.Letter || k === K.Digit || k === K.Mark)) {
        h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
        inWord = true;
      } else if (inWord) {
        ring[nw++ % RING] = (h & 0x3fffffff) | 0x40000000;
        this.check(ring, nw, out);
        h = 0x811c9dc5;
        inWord = false;
      }
    }
    return out;
  }

  private ring = new Int32Array(RING);

  /** Whether entry e (lower case) occurs at position i of s, ASCII letters compared case-insensitively. */
  private static at(s: Uint16Array, i: number, e: string): boolean {
    if (i + e.length > s.length) return false;
    for (let k = 0; k < e.length; k++) {
      let c = s[i + k]!;
      if (c >= 65 && c <= 90) c += 32;
      if (c !== e.charCodeAt(k)) return false;
    }
    return true;
  }

  /** False when no entry starts with the pair (c, next); single-character entries are registered with next = -1. */
  private pairMaybe(c: number, next: number): boolean {
    let h = PhraseMatcher.pairHash(c, next);
    if (this.pair[h >>> 3]! & (1 << (h & 7))) return true;
    h = PhraseMatcher.pairHash(c, -1);
    return (this.pair[h >>> 3]! & (1 << (h & 7))) !== 0;
  }

  private check(ring: Int32Array, nw: number, out: Int32Array): void {
    const last = ring[(nw - 1) % RING]!;
    const phrases = this.byLast.get(last);
    if (!phrases) return;
    const seen = new Set<number>();
    outer: for (const p of phrases) {
      if (p.words.length > nw || seen.has(p.list)) continue;
      for (let j = 0; j < p.words.length - 1; j++) if (ring[(nw - p.words.length + j) % RING] !== p.words[j]) continue outer;
      out[p.list]!++;
      seen.add(p.list);
    }
  }
}
