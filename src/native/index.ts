/**
 * The optional native addon (build/Release/ziya_native.node, built by `npm install`
 * when a C++ toolchain is there). Every kernel has a TypeScript reference; callers
 * fall back to it when the addon is absent or ZIYA_NO_NATIVE=1.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** the DocFeatures scan (src/factory/filter/features.ts): ids and lens of the word units, stats (16) = [unitChars, longest, tokens, alpha tokens, Han, non-space, digits, '#', ellipses, symbols, spaces, braces, then patternMarks: '<' and '&', URL marks, "orem ", . ! ? 。！？]; returns the unit count */
  docScan(text: Uint16Array, kinds: Uint8Array, ids: Int32Array, lens: Uint16Array, stats: Float64Array): number;
  /** out = [count of the most frequent n-gram of ids, its first position]; with a token (the document's, see DocFeatures), the positions that may repeat are kept for a larger n of the same ids, or taken from a smaller n's */
  ngramTop(ids: Int32Array, n: number, out: Int32Array, token?: number): void;
  /** characters (lens) in repeated n-gram occurrences, Gopher's scan; with a token, only the positions a smaller n's ngramTop kept for the document */
  ngramDupChars(ids: Int32Array, lens: Uint16Array, n: number, token?: number): number;
  /** out = [repeated character n-grams, n-grams] over the units above 32 of the first maxChars; with max, the scan stops once repeated / n-grams > max is settled and out[2] = 1 (it is) or 2 (it is not), else 0 */
  charRepetition(text: Uint16Array, n: number, maxChars: number, out: Int32Array, max?: number): void;
  /** the PhraseMatcher's scan over its flattened tables (src/factory/filter/matcher.ts); out[list] = matches */
  phraseCount(text: string | Uint16Array, classes: Uint8Array, tables: Int32Array, out: Int32Array): void;
  /** the line and paragraph figures of the document rules (indices LS in src/factory/filter/features.ts), short lines by display width <= width */
  lineStats(text: Uint16Array, width: number, out: Float64Array): void;
  /** whether two paragraphs of display width >= minWidth are equal up to runs of whitespace (para.duplicate can fire only then) */
  paraDupPossible(text: string, minWidth: number): boolean;
  /** the sentence filter's line facts (src/factory/filter/cut-rules.ts): params = [metaMaxLen, uiMaxLen, minWords, minHan]; out = [nonEmpty, uiLine, metaLine, shortOpenLine, longestRun]; shortLines[i] = 1 for each short open line i (up to shortLines.length); returns the number of lines */
  lineFacts(text: string, uiBits: Int32Array, metaBits: Int32Array, metaPairs: Int32Array, params: Float64Array, out: Int32Array, shortLines: Uint8Array): number;
  /** whether some unit above U+0020 repeats run times in a row (the sentence filter's character runs) */
  charRun(text: string, run: number): boolean;
  /** the number of units c of text with table[c] != 0; their first out.length positions are written to out */
  unitPositions(text: string, table: Uint8Array, out: Int32Array): number;
  /** out[k] = the number of units c of text with table[c] === k, for k < out.length */
  classCounts(text: string, table: Uint8Array, out: Int32Array): void;
  /** whether some paragraph of text (split as the paragraph filter splits, trimmed) no wider than maxWidth holds minNav navigation-separator characters */
  navPossible(text: string, maxWidth: number, minNav: number): boolean;
  /** text's UTF-16 code units written to out when they fit (out.length > text.length); returns text.length */
  copyUnits(text: string, out: Uint16Array): number;
  /** the text of valid UTF-8 bytes (as Buffer.toString gives it), null when they are not valid UTF-8 */
  decodeUtf8(bytes: Uint8Array): string | null;
  /** {"id":…,"text":…,"meta":<metaJson>}\n as JSON.stringify writes it, in UTF-8 at out[at..]; returns the new end, or -1 when it might not fit */
  jsonDocLine(out: Uint8Array, at: number, id: string, text: string, metaJson: string): number;
  /** one OpenCC dictionary group over text (src/factory/preprocess/opencc.ts); null when nothing changed */
  openccConvert(text: string, gate: Uint8Array, direct: Uint16Array, tables: Int32Array): string | null;
  /** language ID's function-word vote over the first maxChars units (src/factory/preprocess/langid.ts); returns the words seen */
  latinVotes(text: string, maxChars: number, kinds: Uint8Array, keys: Int32Array, bits: Int32Array, maxWords: number, out: Int32Array): number;
  /** out[k] = units of script k (scripts table) among the first maxChars units of text; Han extension surrogate pairs count once as script 1 */
  scriptCensus(text: string, maxChars: number, scripts: Uint8Array, out: Int32Array): void;
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
export const textKernels: { native: NativeKernels | null } = { native: native && typeof native.docScan === 'function' ? native : null };
export const nativePath = join('build', 'Release', 'ziya_native.node');
