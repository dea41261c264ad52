/**
 * Per-document statistics shared by the document rules, computed in one pass
 * over the text (plus lazily for n-gram figures). Everything is
 * Chinese-aware: a Han character is one word unit, lines are measured in
 * display width (CJK counts 2), and terminal punctuation includes 。！？….
 */
import { IntCounter } from './ngrams.js';
import { textKernels, arg, argSlot, releaseSlot, type ArgSlot } from '../../native/index.js';

export { textKernels } from '../../native/index.js';

export const TERMINAL = /[.!?。！？…"'”’」』)）]$/;
const TERMINAL_UNITS = new Set([...'.!?。！？…"\'”’」』)）'].map((c) => c.charCodeAt(0)));

/** JavaScript's \s (what trim() removes): ECMA-262 whitespace and line terminators */
function isJsSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** TERMINAL.test(s.trimEnd()) without the copy and the regular expression */
export function endsTerminal(s: string): boolean {
  let i = s.length - 1;
  while (i >= 0 && isJsSpace(s.charCodeAt(i))) i--;
  return i >= 0 && TERMINAL_UNITS.has(s.charCodeAt(i));
}

export function isHanCode(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff);
}

/** The UTF-16 code units of a string as a typed array (one native copy; typed-array loops beat charCodeAt). */
export function toU16(s: string): Uint16Array {
  const b = Buffer.from(s, 'utf16le');
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, b.length >> 1);
  const u = new Uint16Array(b.length >> 1);
  for (let i = 0; i < u.length; i++) u[i] = b[2 * i]! | (b[2 * i + 1]! << 8);
  return u;
}

/**
 * The number of units c of s with table[c] != 0, their first out.length positions written to
 * out (the reference of the native unitPositions).
 */
export function unitPositionsRef(s: string, table: Uint8Array, out: Int32Array): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    if (table[s.charCodeAt(i)]) {
      if (count < out.length) out[count] = i;
      count++;
    }
  }
  return count;
}

/** out[k] = the number of units c of s with table[c] === k, for k < out.length (the reference of the native classCounts). */
export function classCountsRef(s: string, table: Uint8Array, out: Int32Array): void {
  out.fill(0);
  for (let i = 0; i < s.length; i++) {
    const k = table[s.charCodeAt(i)]!;
    if (k < out.length) out[k]!++;
  }
}

/** classCounts with whichever implementation is switched on (slots: where the native kernel's numbers for table and out are kept). */
export function classCounts(s: string, table: Uint8Array, out: Int32Array, slots?: { table: ArgSlot; out: ArgSlot }): void {
  const nk = textKernels.native;
  if (nk) nk.classCounts(s, slots ? arg(nk, table, slots.table) : table, slots ? arg(nk, out, slots.out) : out);
  else classCountsRef(s, table, out);
}

let positions = new Int32Array(1024);
const positionsSlot = argSlot();
/** Positions of the units of s marked in table (a view valid until the next call; tableSlot: where the native kernel's number for table is kept). */
export function unitPositions(s: string, table: Uint8Array, tableSlot?: ArgSlot): Int32Array {
  const nk = textKernels.native;
  if (!nk) {
    let n = unitPositionsRef(s, table, positions);
    if (n > positions.length) {
      positions = new Int32Array(n * 2);
      n = unitPositionsRef(s, table, positions);
    }
    return positions.subarray(0, n);
  }
  const t = tableSlot ? arg(nk, table, tableSlot) : table;
  let n = nk.unitPositions(s, t, arg(nk, positions, positionsSlot));
  if (n > positions.length) {
    releaseSlot(positionsSlot);
    positions = new Int32Array(n * 2);
    n = nk.unitPositions(s, t, arg(nk, positions, positionsSlot));
  }
  return positions.subarray(0, n);
}

export function displayWidth(s: string): number {
  let w = 0;
  for (let i = 0; i < s.length; i++) w += s.charCodeAt(i) >= 0x2e80 ? 2 : 1;
  return w;
}

const BULLET = /^\s*[•\-‣◦⁃∙*·●▪■□◆◇○]/;
const ELLIPSIS_END = /(\.\.\.|…)\s*$/;

/** Indices of the line and paragraph figures (lineStats). */
export const enum LS {
  /** text.split('\n').length */
  Lines = 0,
  /** lines with something other than whitespace; the figures below count these lines */
  NonEmpty,
  /** starting with a bullet after leading whitespace */
  Bullet,
  /** ending with '...' or '…' before trailing whitespace */
  EllipsisEnd,
  /** ending with terminal punctuation (endsTerminal) */
  Terminal,
  /** display width of the trimmed line at most `width` */
  Short,
  /** their length in code units */
  NonEmptyChars,
  /** equal to an earlier non-empty line, and their length */
  DupLines,
  DupLineChars,
  /** paragraphs: split at blank lines (\n[ \t]*\n), trimmed, empty ones left out */
  Paras,
  DupParas,
  DupParaChars,
  ParaChars,
  Count,
}

function dupFigures(items: string[], out: Float64Array, at: number): void {
  const seen = new Set<string>();
  let dup = 0;
  let dupChars = 0;
  for (const it of items) {
    if (seen.has(it)) {
      dup++;
      dupChars += it.length;
    } else seen.add(it);
  }
  out[at] = dup;
  out[at + 1] = dupChars;
}

/**
 * The line and paragraph figures of the document rules (the reference of the native
 * lineStats): written to out (LS.Count entries), from the expressions the rules were written with.
 */
export function lineStatsRef(text: string, width: number, out: Float64Array): void {
  const lines = text.split('\n');
  const l = lines.filter((x) => x.trim().length > 0);
  const paras = text.split(/\n[ \t]*\n/).map((x) => x.trim()).filter(Boolean);
  out[LS.Lines] = lines.length;
  out[LS.NonEmpty] = l.length;
  out[LS.Bullet] = l.filter((x) => BULLET.test(x)).length;
  out[LS.EllipsisEnd] = l.filter((x) => ELLIPSIS_END.test(x)).length;
  out[LS.Terminal] = l.filter(endsTerminal).length;
  out[LS.Short] = l.filter((x) => displayWidth(x.trim()) <= width).length;
  out[LS.NonEmptyChars] = l.reduce((a, x) => a + x.length, 0);
  dupFigures(l, out, LS.DupLines);
  out[LS.Paras] = paras.length;
  dupFigures(paras, out, LS.DupParas);
  out[LS.ParaChars] = paras.reduce((a, x) => a + x.length, 0);
}

export const enum K {
  Other = 0,
  Letter = 1,
  Digit = 2,
  Mark = 3,
  Punct = 4,
  Symbol = 5,
  Space = 6,
  Han = 7,
}

let kinds: Uint8Array | null = null;
/** Unicode general category (coarse) of every BMP code unit, built once. */
export function kindTable(): Uint8Array {
  if (kinds) return kinds;
  const t = new Uint8Array(65536);
  const L = /\p{L}/u, N = /\p{N}/u, M = /\p{M}/u, P = /\p{P}/u, S = /\p{S}/u, Z = /[\s\p{Z}]/u;
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) { t[c] = K.Symbol; continue; }
    const ch = String.fromCharCode(c);
    if (isHanCode(c)) t[c] = K.Han;
    else if (L.test(ch)) t[c] = K.Letter;
    else if (N.test(ch)) t[c] = K.Digit;
    else if (M.test(ch)) t[c] = K.Mark;
    else if (Z.test(ch)) t[c] = K.Space;
    else if (P.test(ch)) t[c] = K.Punct;
    else if (S.test(ch)) t[c] = K.Symbol;
  }
  kinds = t;
  return t;
}

/** Hash of a word, lowercased (ASCII), as used for unit ids and stop-word look-ups. Always >= 2^30, above any Han code. */
export function wordHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return (h & 0x3fffffff) | 0x40000000;
}

const counter = new IntCounter();
/** Scratch buffers reused across documents (one document is analysed at a time per thread). */
let scratchU16 = new Uint16Array(1 << 16);
let scratchIds = new Int32Array(1 << 16);
let scratchLens = new Uint16Array(1 << 16);
let scratchKeys = new Int32Array(1 << 16);
let scratchCodes = new Int32Array(1 << 16);
const scanStats = new Float64Array(17);
/** the native kernels' numbers for the long-lived arrays here (arg in native/index.ts) */
const slots = { u16: argSlot(), ids: argSlot(), lens: argSlot(), kinds: argSlot(), stats: argSlot(), lineOut: argSlot(), pairOut: argSlot(), tripleOut: argSlot() };
/** the native lineStats' output (long-lived: a fresh small typed array handed to native code costs as much as the call) */
const lineOut = new Float64Array(13);
const pairOut = new Int32Array(2);
const tripleOut = new Int32Array(3);

/**
 * The one pass of DocFeatures (the reference of the native docScan): word units (Han characters;
 * letter/digit/mark runs joined by ' ’ . - before a letter or digit) with their ids and lengths
 * written to ids/lens, stats = [unitChars, longest, tokens, alpha tokens, Han, non-space, digits,
 * '#', ellipses, symbols, spaces, braces, then the pattern marks of patternMarks]; returns the unit count.
 */
export function docScanRef(s: Uint16Array, t: Uint8Array, ids: Int32Array, lens: Uint16Array, stats: Float64Array): number {
  const n = s.length;
  let u = 0;
  let unitChars = 0;
  let longest = 0;
  let tokIn = false, tokAlpha = false, tokReal = false;
  let tokTotal = 0, tokAlphaN = 0;
  let han = 0, nonSpace = 0, digits = 0, hashes = 0, ell = 0, sym = 0, spaces = 0, braces = 0;
  let dots = 0;
  let i = 0;
  while (i < n) {
    const c = s[i]!;
    const k = t[c]!;
    if (c === 46) {
      if (++dots === 3) ell++;
    } else dots = 0;
    if (k === K.Space || c === 10 || c === 9 || c === 13) {
      if (c === 32 || c === 9) spaces++;
      if (tokIn) {
        if (tokReal) { tokTotal++; if (tokAlpha) tokAlphaN++; }
        tokIn = tokAlpha = tokReal = false;
      }
      i++;
      continue;
    }
    nonSpace++;
    if (k === K.Han) {
      if (tokIn) {
        if (tokReal) { tokTotal++; if (tokAlpha) tokAlphaN++; }
        tokIn = tokAlpha = tokReal = false;
      }
      tokTotal++;
      tokAlphaN++;
      han++;
      ids[u] = c;
      lens[u++] = 1;
      unitChars++;
      if (longest < 1) longest = 1;
      i++;
      continue;
    }
    tokIn = true;
    if (k === K.Letter || k === K.Digit || k === K.Mark) {
      // a word: letters/digits/marks, joined by ' ’ . - when a letter or digit follows
      const start = i;
      let h = 0x811c9dc5;
      let j = i;
      while (j < n) {
        const d = s[j]!;
        const dk = t[d]!;
        if (dk === K.Letter || dk === K.Digit || dk === K.Mark) {
          if (dk === K.Letter) tokAlpha = true;
          else if (dk === K.Digit) digits++;
          h = Math.imul(h ^ (d >= 65 && d <= 90 ? d + 32 : d), 0x01000193);
          j++;
          continue;
        }
        if ((d === 39 || d === 0x2019 || d === 46 || d === 45) && j + 1 < n) {
          const nk = t[s[j + 1]!]!;
          if (nk === K.Letter || nk === K.Digit) {
            h = Math.imul(h ^ d, 0x01000193);
            j++;
            continue;
          }
        }
        break;
      }
      const len = j - start;
      nonSpace += len - 1;
      tokReal = true;
      ids[u] = (h & 0x3fffffff) | 0x40000000;
      lens[u++] = len > 65535 ? 65535 : len;
      unitChars += len;
      if (len > longest) longest = len;
      i = j;
      continue;
    }
    if (k === K.Punct) {
      if (c === 35) hashes++;
      else if (c === 0x2026) ell++;
      else if (c === 123 || c === 125) braces++;
    } else {
      tokReal = true;
      if (k === K.Symbol) {
        sym++;
        if (c >= 0xd800 && c <= 0xdbff) i++;
      }
    }
    i++;
  }
  if (tokIn && tokReal) { tokTotal++; if (tokAlpha) tokAlphaN++; }
  const figures = [unitChars, longest, tokTotal, tokAlphaN, han, nonSpace, digits, hashes, ell, sym, spaces, braces, ...patternMarks(s)];
  for (let f = 0; f < 17; f++) stats[f] = figures[f]!;
  return u;
}

const lowerIs = (c: number | undefined, ch: string) => c !== undefined && (c | 32) === ch.charCodeAt(0);

/**
 * What some document rules' patterns need at least one of to match (a count of 0 settles the rule
 * without running the pattern): '<' and '&' units (HTML residue); URL marks, each "://" and each
 * '.' after 'w' or 'W' (a URL starts with http://, https:// or www., case-insensitive); each "orem "
 * (ASCII case-insensitive: lorem ipsum); the units . ! ? 。！？ (every sentence end holds one); the
 * navigation separators | » › > · / ｜ → (para.navigation, read through navMarksOf).
 * All five are -1 (unknown) when a high surrogate is not followed by its low one: the unit scan
 * (docScanRef and the native docScan) takes the unit after a high surrogate along without looking
 * at it, and the rules then run their patterns.
 */
export function patternMarks(s: Uint16Array): [number, number, number, number, number] {
  let markup = 0, url = 0, lorem = 0, terminal = 0, nav = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === 60 || c === 38) markup++;
    if (c === 58 && s[i + 1] === 47 && s[i + 2] === 47) url++;
    if (c === 46 && lowerIs(s[i - 1], 'w')) url++;
    if (lowerIs(c, 'o') && lowerIs(s[i + 1], 'r') && lowerIs(s[i + 2], 'e') && lowerIs(s[i + 3], 'm') && s[i + 4] === 32) lorem++;
    if (c === 46 || c === 33 || c === 63 || c === 0x3002 || c === 0xff01 || c === 0xff1f) terminal++;
    if (c === 0x7c || c === 0xbb || c === 0x203a || c === 0x3e || c === 0xb7 || c === 0x2f || c === 0xff5c || c === 0x2192) nav++;
    if (c >= 0xd800 && c <= 0xdbff) {
      // the scan's step over a surrogate pair: the next unit goes with it, whatever it is
      const next = s[i + 1];
      if (next === undefined || next < 0xdc00 || next > 0xdfff) return [-1, -1, -1, -1, -1];
      i++;
    }
  }
  return [markup, url, lorem, terminal, nav];
}

/** the text the last DocFeatures was built on, and its navigation separators (navMarksOf) */
let lastScanText: string | null = null;
let lastNavMarks = -1;
let lastDigits = -1;

/**
 * The navigation separators in text when the last DocFeatures was built on it (the document filter
 * built it on the same text just before the paragraph filter sees it), else -1 (unknown).
 */
export function navMarksOf(text: string): number {
  return text === lastScanText ? lastNavMarks : -1;
}

/**
 * The digit units (of every script: at least the ASCII digits) in text when the last DocFeatures
 * was built on it, else -1 (unknown): PII masking after the filters, on a text they left as it was.
 */
export function digitsOf(text: string): number {
  return text === lastScanText ? lastDigits : -1;
}

/** the last document token given out (DocFeatures.token) */
let lastToken = 0;

const idTables = new WeakMap<Set<number>, { keys: Int32Array; mask: number }>();

/**
 * The ids of a set of unit ids in an open-addressing table (linear probing, at most a quarter full;
 * 0 marks a free slot: no unit id is 0, Han ids being code points and word ids at least 2^30).
 * Built on first use for each set; a set must not change after that.
 */
/** The first slot idTableOf tries for the id x (its table's size - 1 is mask). */
function idSlot(x: number, mask: number): number {
  const h = Math.imul(x, 0x9e3779b1);
  return (h ^ (h >>> 15)) & mask;
}

export function idTableOf(set: Set<number>): { keys: Int32Array; mask: number } {
  let t = idTables.get(set);
  if (t) return t;
  let cap = 16;
  while (cap < set.size * 4) cap *= 2;
  const keys = new Int32Array(cap);
  const mask = cap - 1;
  for (const v of set) {
    const x = v | 0;
    if (x !== v || x === 0) throw new Error(`idTableOf: ${v} is not a unit id (a non-zero 32-bit integer)`);
    let k = idSlot(x, mask);
    while (keys[k] !== 0 && keys[k] !== x) k = (k + 1) & mask;
    keys[k] = x;
  }
  t = { keys, mask };
  idTables.set(set, t);
  return t;
}

export class DocFeatures {
  /** Word units: Han characters and words (letters/digits joined by ' ’ . -). */
  unitCount = 0;
  unitChars = 0;
  longestUnit = 0;
  /** Unit ids (Han: code point; words: wordHash) and lengths. */
  ids: Int32Array;
  lens: Uint16Array;
  /** Whitespace tokens (Han characters split out), punctuation-only tokens excluded, and those with a letter. */
  tokenTotal = 0;
  tokenAlpha = 0;
  hanChars = 0;
  nonSpaceChars = 0;
  digits = 0;
  hashes = 0;
  ellipses = 0;
  symbols = 0;
  spaces = 0;
  braces = 0;
  /** the marks of patternMarks: '<' and '&'; "://" and '.' after 'w'/'W'; "orem "; . ! ? 。！？; navigation separators (-1: unknown) */
  markupMarks = 0;
  urlMarks = 0;
  loremMarks = 0;
  terminalUnits = 0;
  /** the navigation separators | » › > · / ｜ → (para.navigation's; -1: unknown) */
  navMarks = 0;
  /** The text's UTF-16 code units. */
  readonly u16: Uint16Array;
  /**
   * This document's number for the native n-gram kernels, which keep the positions that may
   * repeat from the shortest n-gram counted for a longer one of the same document
   */
  private readonly token: number;
  private _lines?: string[];
  private _nonEmpty?: string[];

  /**
   * transient: u16, ids and lens are views of per-thread scratch buffers, valid until the next
   * DocFeatures is built (for a caller that is done with these features before then, as the
   * document filter is); otherwise they are copies.
   */
  constructor(readonly text: string, readonly language: string, opts: { transient?: boolean } = {}) {
    const t = kindTable();
    const nk = textKernels.native;
    this.token = lastToken = (lastToken + 1) & 0x3fffffff;
    let s: Uint16Array;
    if (nk) {
      // one native copy into a scratch array (Buffer.from(text, 'utf16le') costs several times more)
      if (scratchU16.length <= text.length) {
        releaseSlot(slots.u16);
        scratchU16 = new Uint16Array(text.length * 2 + 1);
      }
      nk.copyUnits(text, arg(nk, scratchU16, slots.u16));
      s = opts.transient ? scratchU16.subarray(0, text.length) : scratchU16.slice(0, text.length);
    } else s = toU16(text);
    this.u16 = s;
    const n = s.length;
    if (scratchIds.length < n) {
      releaseSlot(slots.ids);
      releaseSlot(slots.lens);
      scratchIds = new Int32Array(n * 2);
      scratchLens = new Uint16Array(n * 2);
    }
    // (the tables and scratch arrays by their registered numbers; the text's units exactly)
    const u = nk ? nk.docScan(s, arg(nk, t, slots.kinds), arg(nk, scratchIds, slots.ids), arg(nk, scratchLens, slots.lens), arg(nk, scanStats, slots.stats)) : docScanRef(s, t, scratchIds, scratchLens, scanStats);
    this.ids = opts.transient ? scratchIds.subarray(0, u) : scratchIds.slice(0, u);
    this.lens = opts.transient ? scratchLens.subarray(0, u) : scratchLens.slice(0, u);
    this.unitCount = u;
    const st = scanStats;
    this.unitChars = st[0]!;
    this.longestUnit = st[1]!;
    this.tokenTotal = st[2]!;
    this.tokenAlpha = st[3]!;
    this.hanChars = st[4]!;
    this.nonSpaceChars = st[5]!;
    this.digits = st[6]!;
    this.hashes = st[7]!;
    this.ellipses = st[8]!;
    this.symbols = st[9]!;
    this.spaces = st[10]!;
    this.braces = st[11]!;
    this.markupMarks = st[12]!;
    this.urlMarks = st[13]!;
    this.loremMarks = st[14]!;
    this.terminalUnits = st[15]!;
    this.navMarks = st[16]!;
    lastScanText = text;
    lastNavMarks = this.navMarks;
    // (digits hidden behind a lone high surrogate go uncounted: then unknown, as the marks)
    lastDigits = this.navMarks < 0 ? -1 : this.digits;
  }

  get isZh(): boolean {
    return this.language === 'zh' || this.language === 'ja';
  }

  /**
   * Word n-gram rules count Chinese in characters; a Chinese word averages 1.5-2
   * characters, so n is doubled for Chinese to keep the Gopher thresholds meaningful.
   */
  get ngramScale(): number {
    return this.isZh ? 2 : 1;
  }

  get lines(): string[] {
    return (this._lines ??= this.text.split('\n'));
  }

  get nonEmptyLines(): string[] {
    return (this._nonEmpty ??= this.lines.filter((l) => l.trim().length > 0));
  }

  private _hits?: Int32Array;
  /** Word-list matches in the text (one pass for all lists of the matcher, cached; see PhraseMatcher.countOf). */
  listHits(m: { countOf(text: string, units?: Uint16Array): Int32Array }): Int32Array {
    return (this._hits ??= m.countOf(this.text, this.u16));
  }

  private _lineStats?: number[];
  private _lineWidth = -1;
  /**
   * The line and paragraph figures (indexed by LS), lines of display width <= width counted as
   * short (without a width: the figures already computed, whatever their width, or width 30).
   */
  lineStats(width?: number): readonly number[] {
    if (this._lineStats && (width === undefined || this._lineWidth === width)) return this._lineStats;
    width ??= 30;
    this._lineWidth = width;
    const nk = textKernels.native;
    if (nk) nk.lineStats(this.u16, width, arg(nk, lineOut, slots.lineOut));
    else lineStatsRef(this.text, width, lineOut);
    // a plain array (a small typed array per document would need its own backing store), filled by
    // a loop: Array.from over a typed array costs ~1.5 us in Node 20
    const out = new Array<number>(LS.Count);
    for (let k = 0; k < LS.Count; k++) out[k] = lineOut[k]!;
    return (this._lineStats = out);
  }

  /** Number of distinct ids of `set` among the units (stops counting at `enough`). */
  distinctIn(set: Set<number>, enough: number): number {
    // looked up in an open-addressing table of the set's ids (built once per set): a word id is
    // above V8's small-integer range, and each Set.has of one boxed it as a heap number
    const { keys, mask } = idTableOf(set);
    const found: number[] = [];
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) {
      const x = ids[i]!;
      let k = idSlot(x, mask);
      let hit = false;
      for (let y = keys[k]!; y !== 0; y = keys[(k = (k + 1) & mask)]!) {
        if (y === x) {
          hit = true;
          break;
        }
      }
      if (hit && !found.includes(x)) {
        found.push(x);
        if (found.length >= enough) break;
      }
    }
    return found.length;
  }

  /** Rolling polynomial hashes (mod 2^32) of all n-grams of `ids`. */
  static ngramKeys(ids: Int32Array, n: number): Int32Array {
    const m = ids.length - n + 1;
    if (scratchKeys.length < m) scratchKeys = new Int32Array(m * 2);
    const out = scratchKeys.subarray(0, Math.max(0, m));
    if (m <= 0) return out;
    const B = 0x01000193;
    let p = 1;
    for (let j = 1; j < n; j++) p = Math.imul(p, B);
    let h = 0;
    for (let j = 0; j < n; j++) h = (Math.imul(h, B) + ids[j]!) | 0;
    out[0] = h;
    for (let i = 1; i < m; i++) {
      h = (Math.imul((h - Math.imul(ids[i - 1]!, p)) | 0, B) + ids[i + n - 1]!) | 0;
      out[i] = h;
    }
    return out;
  }

  /** topCounts[n]: the count of the most frequent n-gram, once counted (made on first use: most documents never need it) */
  private topCounts: number[] | null = null;

  /** maxWindow(w), remembered by w (the top 3- and 4-gram bounds may ask for the same w twice) */
  private windows: number[] | null = null;
  private maxWindowOf(w: number): number {
    const ws = (this.windows ??= []);
    return (ws[w] ??= this.maxWindow(w));
  }

  /** Largest number of characters in n consecutive units. */
  private maxWindow(n: number): number {
    const l = this.lens;
    let s = 0;
    for (let i = 0; i < n && i < l.length; i++) s += l[i]!;
    let best = s;
    for (let i = n; i < l.length; i++) {
      s += l[i]! - l[i - n]!;
      if (s > best) best = s;
    }
    return best;
  }

  /**
   * Whether the top n-gram fraction exceeds max. An n-gram occurs at most as often as the
   * most frequent shorter n-gram already counted, which bounds the fraction without counting
   * when that bound is under max.
   */
  topNgramExceeds(n: number, max: number): boolean {
    const w = n * this.ngramScale;
    const chars = Math.max(1, this.unitChars);
    const tc = this.topCounts;
    if (tc) for (let m = 0; m < n && m < tc.length; m++) {
      const count = tc[m];
      if (count === undefined) continue;
      // no shorter n-gram repeats: no n-gram does (each starts with one), and the fraction is 0
      if (count < 2) return 0 > max;
      // w units span at most w times the longest unit, and at most w characters plus all the
      // characters the document's units have beyond their first: those bounds first, the exact
      // window (once per w) if needed
      if ((count * Math.min(w * this.longestUnit, w + this.unitChars - this.unitCount)) / chars <= max) return false;
      if ((count * this.maxWindowOf(w)) / chars <= max) return false;
    }
    return this.topNgramFraction(n) > max;
  }

  /** Gopher: fraction of unit characters covered by the most frequent n-gram (when it occurs twice or more). */
  topNgramFraction(n: number): number {
    const n0 = n;
    n *= this.ngramScale;
    const tc = (this.topCounts ??= []);
    if (this.ids.length < n) {
      tc[n0] = 0;
      return 0;
    }
    let best = 0;
    let bestAt = 0;
    const nk = textKernels.native;
    if (nk) {
      nk.ngramTop(this.ids, n, arg(nk, pairOut, slots.pairOut), this.token);
      best = pairOut[0]!;
      bestAt = pairOut[1]!;
    } else {
      const keys = DocFeatures.ngramKeys(this.ids, n);
      counter.reset(keys.length);
      for (let i = 0; i < keys.length; i++) {
        const c = counter.add(keys[i]!);
        if (c > best) {
          best = c;
          bestAt = i;
        }
      }
    }
    tc[n0] = best;
    if (best < 2) return 0;
    let len = 0;
    for (let j = bestAt; j < bestAt + n; j++) len += this.lens[j]!;
    return (len * best) / Math.max(1, this.unitChars);
  }

  /**
   * Gopher: characters in repeated occurrences of n-grams over all unit characters. As in
   * Gopher (and datatrove), a position whose n-gram was seen before counts its characters
   * and the scan jumps past it; first occurrences do not count.
   */
  dupNgramFraction(n: number): number {
    // no repeated m-gram counted for an m <= n: no n-gram repeats either (each starts with one)
    const tc = this.topCounts;
    if (tc) for (let m = 1; m <= n && m < tc.length; m++) if (tc[m] !== undefined && tc[m]! < 2) return 0;
    n *= this.ngramScale;
    if (this.ids.length < n) return 0;
    const nk = textKernels.native;
    if (nk) return nk.ngramDupChars(this.ids, this.lens, n, this.token) / Math.max(1, this.unitChars);
    const keys = DocFeatures.ngramKeys(this.ids, n);
    counter.reset(keys.length);
    let repeated = 0;
    let i = 0;
    while (i < keys.length) {
      if (counter.get(keys[i]!) > 0) {
        for (let j = i; j < i + n; j++) repeated += this.lens[j]!;
        i += n;
      } else {
        counter.add(keys[i]!);
        i++;
      }
    }
    return repeated / Math.max(1, this.unitChars);
  }

  /** charRepetition(n, maxChars) > max, settled without scanning the rest of the text where the native kernel can. */
  charRepetitionExceeds(n: number, max: number, maxChars = 20000): boolean {
    const nk = textKernels.native;
    if (!nk) return this.charRepetition(n, maxChars) > max;
    nk.charRepetition(this.u16, n, maxChars, arg(nk, tripleOut, slots.tripleOut), max);
    if (tripleOut[2] === 1) return true;
    if (tripleOut[2] === 2) return false;
    return (tripleOut[1] ? tripleOut[0]! / tripleOut[1]! : 0) > max;
  }

  /** Fraction of character n-grams (non-space) that repeat an earlier one (ChineseWebText / Data-Juicer style). */
  charRepetition(n: number, maxChars = 20000): number {
    const s = this.u16;
    const nk = textKernels.native;
    if (nk) {
      nk.charRepetition(s, n, maxChars, arg(nk, pairOut, slots.pairOut));
      return pairOut[1] ? pairOut[0]! / pairOut[1]! : 0;
    }
    const lim = Math.min(s.length, maxChars);
    if (scratchCodes.length < lim) scratchCodes = new Int32Array(lim * 2);
    const codes = scratchCodes;
    let m = 0;
    for (let i = 0; i < lim; i++) {
      const c = s[i]!;
      if (c > 32) codes[m++] = c;
    }
    if (m < n * 2) return 0;
    const keys = DocFeatures.ngramKeys(codes.subarray(0, m), n);
    counter.reset(keys.length);
    let dup = 0;
    for (let i = 0; i < keys.length; i++) if (counter.add(keys[i]!) > 1) dup++;
    return dup / keys.length;
  }
}
