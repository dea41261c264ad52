/**
 * The optional native addon (build/Release/ziya_native.node, built by `npm install`
 * when a C++ toolchain is there). Every kernel has a TypeScript reference; callers
 * fall back to it when the addon is absent or ZIYA_NO_NATIVE=1.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A typed-array argument of the text kernels: the array, or the number registerArray gave it
 * (N-API reads a number in one call; a typed array takes ~50 ns of questions to V8 per call and
 * per array, which on short documents weighed as much as the scans).
 */
export type Arg<T> = T | number;

export interface NativeKernels {
  /** out[i] = min over x in shingles of (a[i] * x + b[i]) mod 2^32 */
  minhash(shingles: Uint32Array, a: Uint32Array, b: Uint32Array, out: Uint32Array): void;
  /** CJK character shingles of a text (as src/factory/dedup/shingles.ts) and their signature; returns the shingle count */
  minhashCjk(text: Uint16Array, n: number, a: Uint32Array, b: Uint32Array, out: Uint32Array): number;
  /** word shingles of a text (as src/factory/dedup/shingles.ts, with its tables) and their signature */
  minhashWords(text: Uint16Array, n: number, isWord: Uint8Array, lower: Uint16Array, a: Uint32Array, b: Uint32Array, out: Uint32Array): number;
  /** total log10 probability of ids (then </s> included by the caller) on the hashed model's tables (src/lm/hashed.ts) */
  ngramScore(ids: Int32Array, bos: number, order: number, caps: Uint32Array, keys: Uint32Array[], vals: Float32Array[]): number;
  /** a whitespace-separated line scored on the hashed model, words looked up exactly in a vocabulary table; out = [total, words, oov] */
  ngramScoreText(line: string, isSpace: Uint8Array, table: Int32Array, chars: Uint16Array, offsets: Uint32Array, bos: number, eos: number, order: number, caps: Uint32Array, keys: Uint32Array[], vals: Float32Array[], out: Float64Array, byLine?: boolean): void;
  /** the DocFeatures scan (src/factory/filter/features.ts): ids and lens of the word units, stats (17) = [unitChars, longest, tokens, alpha tokens, Han, non-space, digits, '#', ellipses, symbols, spaces, braces, then patternMarks: '<' and '&', URL marks, "orem ", . ! ? 。！？, navigation separators]; returns the unit count */
  docScan(text: Arg<Uint16Array>, kinds: Arg<Uint8Array>, ids: Arg<Int32Array>, lens: Arg<Uint16Array>, stats: Arg<Float64Array>): number;
  /** out = [count of the most frequent n-gram of ids, its first position]; with a token (the document's, see DocFeatures), the positions that may repeat are kept for a larger n of the same ids, or taken from a smaller n's */
  ngramTop(ids: Arg<Int32Array>, n: number, out: Arg<Int32Array>, token?: number): void;
  /** characters (lens) in repeated n-gram occurrences, Gopher's scan; with a token, only the positions a smaller n's ngramTop kept for the document */
  ngramDupChars(ids: Arg<Int32Array>, lens: Arg<Uint16Array>, n: number, token?: number): number;
  /** out = [repeated character n-grams, n-grams] over the units above 32 of the first maxChars; with max, the scan stops once repeated / n-grams > max is settled and out[2] = 1 (it is) or 2 (it is not), else 0 */
  charRepetition(text: Arg<Uint16Array>, n: number, maxChars: number, out: Arg<Int32Array>, max?: number): void;
  /** the PhraseMatcher's scan over its flattened tables (src/factory/filter/matcher.ts); out[list] = matches */
  phraseCount(text: string | Uint16Array, classes: Arg<Uint8Array>, tables: Arg<Int32Array>, out: Arg<Int32Array>): void;
  /** the line and paragraph figures of the document rules (indices LS in src/factory/filter/features.ts), short lines by display width <= width */
  lineStats(text: Arg<Uint16Array>, width: number, out: Arg<Float64Array>): void;
  /** whether two paragraphs of display width >= minWidth are equal up to runs of whitespace (para.duplicate can fire only then) */
  paraDupPossible(text: string, minWidth: number): boolean;
  /** the sentence filter's line facts (src/factory/filter/cut-rules.ts): params = [metaMaxLen, uiMaxLen, minWords, minHan, run]; out = [nonEmpty, uiLine, metaLine, shortOpenLine, longestRun, charRun, brackets]; shortLines[i] = 1 for each short open line i (up to shortLines.length); returns the number of lines */
  lineFacts(text: string, uiBits: Arg<Int32Array>, metaBits: Arg<Int32Array>, metaPairs: Arg<Int32Array>, params: Arg<Float64Array>, out: Arg<Int32Array>, shortLines: Arg<Uint8Array>): number;
  /** whether some unit above U+0020 repeats run times in a row (the sentence filter's character runs) */
  charRun(text: string, run: number): boolean;
  /** the number of units c of text with table[c] != 0; their first out.length positions are written to out */
  unitPositions(text: string, table: Arg<Uint8Array>, out: Arg<Int32Array>): number;
  /** out[k] = the number of units c of text with table[c] === k, for k < out.length */
  classCounts(text: string, table: Arg<Uint8Array>, out: Arg<Int32Array>): void;
  /** whether some paragraph of text (split as the paragraph filter splits, trimmed) no wider than maxWidth holds minNav navigation-separator characters */
  navPossible(text: string, maxWidth: number, minNav: number): boolean;
  /** text's UTF-16 code units written to out when they fit (out.length > text.length); returns text.length */
  copyUnits(text: string, out: Arg<Uint16Array>): number;
  /** the text of valid UTF-8 bytes (as Buffer.toString gives it), null when they are not valid UTF-8 */
  decodeUtf8(bytes: Uint8Array): string | null;
  /** {"id":…,"text":…,"meta":<metaJson>}\n as JSON.stringify writes it, in UTF-8 at out[at..]; returns the new end, or -1 when it might not fit */
  jsonDocLine(out: Uint8Array, at: number, id: string, text: string, metaJson: string): number;
  /** one OpenCC dictionary group over text (src/factory/preprocess/opencc.ts); null when nothing changed */
  openccConvert(text: string, gate: Arg<Uint8Array>, direct: Arg<Uint16Array>, tables: Arg<Int32Array>): string | null;
  /** language ID's function-word vote over the first maxChars units (src/factory/preprocess/langid.ts); returns the words seen */
  latinVotes(text: string, maxChars: number, kinds: Arg<Uint8Array>, keys: Arg<Int32Array>, bits: Arg<Int32Array>, maxWords: number, out: Arg<Int32Array>): number;
  /** out[k] = units of script k (scripts table) among the first maxChars units of text; Han extension surrogate pairs count once as script 1 */
  scriptCensus(text: string, maxChars: number, scripts: Arg<Uint8Array>, out: Arg<Int32Array>): void;
  /** the number the text kernels take for a from now on in this thread, in place of a (which stays alive) */
  registerArray(a: ArrayBufferView): number;
  /** releases a number registerArray gave */
  unregisterArray(id: number): void;
  /** the SIMD level the CPU dispatch chose: avx512f, avx2 or generic */
  simd: string;
}

function load(): NativeKernels | null {
  if (process.env.ZIYA_NO_NATIVE === '1') return null;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../build/Release/ziya_native.node'), resolve(here, '../../../build/Release/ziya_native.node')];
  const path = candidates.find((p) => existsSync(p));
  if (!path) return null;
  try {
    return createRequire(import.meta.url)(path) as NativeKernels;
  } catch {
    return null;
  }
}

export const native: NativeKernels | null = load();

/**
 * The native text kernels when the addon has them; null runs the TypeScript references. Tests
 * switch between the two and compare them document by document.
 */
// (an addon built from older sources, without the registry or with other argument layouts, is not
// taken: the references run instead)
export const textKernels: { native: NativeKernels | null } = { native: native && typeof native.docScan === 'function' && typeof native.registerArray === 'function' ? native : null };
export const nativePath = join('build', 'Release', 'ziya_native.node');

/**
 * Where the number registerArray gave a long-lived typed array (a table, an output array kept for
 * the thread's life) is kept, beside the array: every slot has the same shape, so reading it costs
 * next to nothing (a property keyed on the arrays themselves cost as much as it saved).
 */
export interface ArgSlot {
  id: number;
}

export function argSlot(): ArgSlot {
  return { id: -1 };
}

/** The number the kernels take for a, registered on first use in this thread and kept in slot. */
export function arg(nk: NativeKernels, a: ArrayBufferView, slot: ArgSlot): number {
  return slot.id >= 0 ? slot.id : (slot.id = nk.registerArray(a));
}

/** Releases the array registered in slot (one about to be replaced by a larger one). */
export function releaseSlot(slot: ArgSlot): void {
  if (slot.id < 0) return;
  (textKernels.native ?? native)?.unregisterArray(slot.id);
  slot.id = -1;
}
