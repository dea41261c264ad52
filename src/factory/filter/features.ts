/**
 * Per-document statistics shared by the document rules, computed lazily and
 * once. Everything is Chinese-aware: a Han character is one word unit, lines
 * are measured in display width (CJK counts 2), and terminal punctuation
 * includes 。！？….
 */
import { NumCounter, ngramKey } from './ngrams.js';

const UNIT = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\p{L}\p{N}]+(?:['’.\-][\p{L}\p{N}]+)*/gu;
const TOKEN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu;
const PUNCT_ONLY = /^[\p{P}\p{S}]+$/u;
const HAS_ALPHA = /[\p{L}]/u;
export const TERMINAL = /[.!?。！？…"'”’」』)）]$/;

export function isHanCode(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff);
}

export function displayWidth(s: string): number {
  let w = 0;
  for (let i = 0; i < s.length; i++) w += s.charCodeAt(i) >= 0x2e80 ? 2 : 1;
  return w;
}

const counter = new NumCounter();

export class DocFeatures {
  private _lines?: string[];
  private _paras?: string[];
  private _units?: string[];
  private _ids?: Int32Array;
  private _tokens?: { total: number; alpha: number };
  private _han?: number;
  private _nonSpace?: number;
  constructor(readonly text: string, readonly language: string) {}

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
    return this.lines.filter((l) => l.trim().length > 0);
  }

  get paragraphs(): string[] {
    if (this._paras) return this._paras;
    const p = this.text.split(/\n[ \t]*\n/).map((x) => x.trim()).filter(Boolean);
    return (this._paras = p);
  }

  /** Word units: Han characters and runs of letters/digits. */
  get units(): string[] {
    if (this._units) return this._units;
    UNIT.lastIndex = 0;
    return (this._units = this.text.match(UNIT) ?? []);
  }

  get unitIds(): Int32Array {
    if (this._ids) return this._ids;
    const u = this.units;
    const ids = new Int32Array(u.length);
    const dict = new Map<string, number>();
    for (let i = 0; i < u.length; i++) {
      const w = u[i]!;
      if (w.length === 1) ids[i] = w.charCodeAt(0);
      else {
        const lw = w.toLowerCase();
        let id = dict.get(lw);
        if (id === undefined) dict.set(lw, (id = 0x110000 + dict.size));
        ids[i] = id;
      }
    }
    return (this._ids = ids);
  }

  /** Whitespace tokens (Han characters split out), excluding punctuation-only tokens. */
  get tokens(): { total: number; alpha: number } {
    if (this._tokens) return this._tokens;
    let total = 0;
    let alpha = 0;
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(this.text); m; m = TOKEN.exec(this.text)) {
      const t = m[0];
      if (t.length === 1 && isHanCode(t.charCodeAt(0))) {
        total++;
        alpha++;
        continue;
      }
      if (PUNCT_ONLY.test(t)) continue;
      total++;
      if (HAS_ALPHA.test(t)) alpha++;
    }
    return (this._tokens = { total, alpha });
  }

  get hanChars(): number {
    if (this._han !== undefined) return this._han;
    let n = 0;
    let ns = 0;
    const s = this.text;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (isHanCode(c)) n++;
      if (c > 32 && c !== 0x3000) ns++;
    }
    this._nonSpace = ns;
    return (this._han = n);
  }

  get nonSpaceChars(): number {
    if (this._nonSpace === undefined) void this.hanChars;
    return this._nonSpace!;
  }

  /** Total characters of all units (the denominator of the Gopher n-gram fractions). */
  get unitChars(): number {
    let n = 0;
    for (const u of this.units) n += u.length;
    return n;
  }

  /** Gopher: fraction of unit characters covered by the most frequent n-gram. */
  topNgramFraction(n: number): number {
    n *= this.ngramScale;
    const ids = this.unitIds;
    const u = this.units;
    if (ids.length < n) return 0;
    counter.reset(ids.length);
    let best = 0;
    let bestAt = 0;
    for (let i = 0; i + n <= ids.length; i++) {
      const c = counter.add(ngramKey(ids, i, n));
      if (c > best) {
        best = c;
        bestAt = i;
      }
    }
    if (best < 2) return 0;
    let len = 0;
    for (let j = bestAt; j < bestAt + n; j++) len += u[j]!.length;
    return (len * best) / Math.max(1, this.unitChars);
  }

  /**
   * Gopher: characters in repeated occurrences of n-grams over all unit characters. As in
   * Gopher (and datatrove), a position whose n-gram was seen before counts its characters
   * and the scan jumps past it; first occurrences do not count.
   */
  dupNgramFraction(n: number): number {
    n *= this.ngramScale;
    const ids = this.unitIds;
    const u = this.units;
    if (ids.length < n) return 0;
    counter.reset(ids.length);
    let repeated = 0;
    let i = 0;
    while (i + n <= ids.length) {
      const k = ngramKey(ids, i, n);
      if (counter.get(k) > 0) {
        for (let j = i; j < i + n; j++) repeated += u[j]!.length;
        i += n;
      } else {
        counter.add(k);
        i++;
      }
    }
    return repeated / Math.max(1, this.unitChars);
  }

  /** Fraction of character n-grams (non-space) that are repeats (ChineseWebText / Data-Juicer style). */
  charRepetition(n: number, maxChars = 20000): number {
    const s = this.text.length > maxChars ? this.text.slice(0, maxChars) : this.text;
    const codes = new Int32Array(s.length);
    let m = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 32) codes[m++] = c;
    }
    if (m < n * 2) return 0;
    counter.reset(m);
    let dup = 0;
    const total = m - n + 1;
    for (let i = 0; i < total; i++) if (counter.add(ngramKey(codes, i, n)) > 1) dup++;
    return dup / total;
  }

  /** Duplicate elements: fraction of elements that repeat an earlier one, and fraction of their characters. */
  static duplicates(items: string[]): { frac: number; charFrac: number } {
    const seen = new Set<string>();
    let dup = 0;
    let dupChars = 0;
    let chars = 0;
    for (const it of items) {
      chars += it.length;
      if (seen.has(it)) {
        dup++;
        dupChars += it.length;
      } else seen.add(it);
    }
    return { frac: items.length ? dup / items.length : 0, charFrac: chars ? dupChars / chars : 0 };
  }
}
