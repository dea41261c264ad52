/**
 * A fast converter over OpenCC's dictionaries (as shipped by opencc-js), with
 * the same longest-match semantics as opencc-js: each dictionary group is one
 * pass; at each position the longest key wins; within a group an earlier
 * dictionary overrides a later one. Positions whose character starts no key
 * are copied in runs, so text that needs no change costs one table look-up per
 * character. Tests check it against opencc-js on real Traditional text.
 */
// (the Traditional-to-Simplified build: the same dictionaries as the full one's Locale.from and
// Locale.to.cn, a tenth of its size to load in every worker)
import * as OpenCC from 'opencc-js/t2cn';
import { textKernels } from '../filter/features.js';
import { arg, argSlot, type ArgSlot } from '../../native/index.js';

type Dict = string | [string, string][];

interface Group {
  /** per BMP code unit: 0 none, 1 single-character key, 2 first char of a longer key (maybe also single) */
  gate: Uint8Array;
  /** single BMP character replaced by a single BMP character: the replacement, else 0 */
  direct: Uint16Array;
  single: Map<number, string>;
  phrases: Map<number, [string, string][]>;
  /** the tables flattened for the native converter, built on first use */
  flat?: Int32Array;
  /** the native converter's numbers for gate, direct and flat */
  slots?: { gate: ArgSlot; direct: ArgSlot; flat: ArgSlot };
}

function entries(d: Dict): [string, string][] {
  if (Array.isArray(d)) return d;
  const out: [string, string][] = [];
  for (const item of d.split('|')) {
    const sp = item.indexOf(' ');
    if (sp > 0) out.push([item.slice(0, sp), item.slice(sp + 1)]);
  }
  return out;
}

function buildGroup(dicts: Dict[]): Group {
  const g: Group = { gate: new Uint8Array(65536), direct: new Uint16Array(65536), single: new Map(), phrases: new Map() };
  const seen = new Set<string>();
  // earlier dictionaries override later ones: take the first value for each key
  for (const d of dicts) {
    for (const [k, v] of entries(d)) {
      if (seen.has(k)) continue;
      seen.add(k);
      const cp = k.codePointAt(0)!;
      const cpLen = cp > 0xffff ? 2 : 1;
      if (k.length === cpLen) {
        g.single.set(cp, v);
        if (cp < 65536 && g.gate[cp] === 0) g.gate[cp] = 1;
        if (cp < 65536 && v.length === 1) g.direct[cp] = v.charCodeAt(0);
      } else {
        // longer keys are found by their first two code units
        const key = k.charCodeAt(0) * 65536 + k.charCodeAt(1);
        let l = g.phrases.get(key);
        if (!l) g.phrases.set(key, (l = []));
        l.push([k, v]);
        g.gate[k.charCodeAt(0)] = 2;
      }
    }
  }
  for (const l of g.phrases.values()) l.sort((a, b) => b[0].length - a[0].length);
  return g;
}

let buf = new Uint16Array(1 << 16);

/** The group's single and phrase tables flattened for the native converter (layout at openccConvert in native/text.cc). */
function flatTables(g: Group): Int32Array {
  if (g.flat) return g.flat;
  const singles = [...g.single.entries()].sort((a, b) => a[0] - b[0]);
  const singleKeys = singles.map(([k]) => k);
  const singleOff: number[] = [0];
  const singleVals: number[] = [];
  for (const [, v] of singles) {
    for (let q = 0; q < v.length; q++) singleVals.push(v.charCodeAt(q));
    singleOff.push(singleVals.length);
  }
  const phraseKeys = [...g.phrases.keys()].sort((a, b) => a - b);
  const phraseStart: number[] = [0];
  const keyOff: number[] = [0], keyUnits: number[] = [], valOff: number[] = [0], valUnits: number[] = [];
  for (const k of phraseKeys) {
    for (const [key, val] of g.phrases.get(k)!) {
      for (let q = 0; q < key.length; q++) keyUnits.push(key.charCodeAt(q));
      keyOff.push(keyUnits.length);
      for (let q = 0; q < val.length; q++) valUnits.push(val.charCodeAt(q));
      valOff.push(valUnits.length);
    }
    phraseStart.push(keyOff.length - 1);
  }
  // a bit set over the phrase keys hashed to 18 bits (the kernel tests it before its binary search)
  const phraseBits = new Int32Array(8192);
  for (const k of phraseKeys) {
    const b = Math.imul(k, 0x9e3779b1) >>> 14;
    phraseBits[b >>> 5]! |= 1 << (b & 31);
  }
  const singleBits = new Int32Array(2048);
  for (const k of singleKeys) if (k < 65536) singleBits[k >>> 5]! |= 1 << (k & 31);
  const sections: ArrayLike<number>[] = [singleKeys, singleOff, singleVals, phraseKeys, phraseStart, keyOff, keyUnits, valOff, valUnits, phraseBits, singleBits];
  const flat = new Int32Array(sections.length + sections.reduce((a, x) => a + x.length, 0));
  let at = sections.length;
  sections.forEach((x, k) => {
    flat[k] = at;
    flat.set(x, at); // phrase keys above 2^31 wrap: the kernel reads them unsigned
    at += x.length;
  });
  return (g.flat = flat);
}

function convertGroup(g: Group, s: string): string {
  const nk = textKernels.native;
  if (nk) {
    const sl = (g.slots ??= { gate: argSlot(), direct: argSlot(), flat: argSlot() });
    return nk.openccConvert(s, arg(nk, g.gate, sl.gate), arg(nk, g.direct, sl.direct), arg(nk, flatTables(g), sl.flat)) ?? s;
  }
  return convertGroupRef(g, s);
}

/** One dictionary group over s (the reference of the native openccConvert). */
function convertGroupRef(g: Group, s: string): string {
  const n = s.length;
  // find the first position that may change; most text needs no conversion at all
  let i = 0;
  while (i < n && g.gate[s.charCodeAt(i)] === 0) i++;
  if (i === n) return s;
  if (buf.length < n * 2 + 16) buf = new Uint16Array(n * 2 + 16);
  let o = 0;
  for (let j = 0; j < i; j++) buf[o++] = s.charCodeAt(j);
  let changed = false;
  const put = (v: string) => {
    if (o + v.length >= buf.length) {
      const nb = new Uint16Array(buf.length * 2 + v.length);
      nb.set(buf.subarray(0, o));
      buf = nb;
    }
    for (let k = 0; k < v.length; k++) buf[o++] = v.charCodeAt(k);
  };
  while (i < n) {
    const c = s.charCodeAt(i);
    const gate = g.gate[c]!;
    if (gate === 0 && !(c >= 0xd800 && c <= 0xdbff)) {
      if (o >= buf.length) put('');
      buf[o++] = c;
      i++;
      continue;
    }
    let cp = c;
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      cp = s.codePointAt(i)!;
      width = 2;
    }
    if (gate === 2 && i + 1 < n) {
      const list = g.phrases.get(c * 65536 + s.charCodeAt(i + 1));
      if (list) {
        let hit: [string, string] | null = null;
        for (const e of list) if (s.startsWith(e[0], i)) { hit = e; break; }
        if (hit) {
          put(hit[1]);
          i += hit[0].length;
          changed = true;
          continue;
        }
      }
    }
    const d = width === 1 ? g.direct[c]! : 0;
    if (d !== 0) {
      if (o >= buf.length) put('');
      buf[o++] = d;
      if (d !== c) changed = true;
    } else {
      const v = g.single.get(cp);
      if (v !== undefined) {
        put(v);
        changed = true;
      } else put(s.slice(i, i + width));
    }
    i += width;
  }
  if (!changed) return s;
  return Buffer.from(buf.buffer, buf.byteOffset, o * 2).toString('utf16le');
}

const cache = new Map<string, Group[]>();

/** Converter from a Traditional variant ('t', 'tw', 'twp', 'hk') to Simplified (OpenCC 'cn'). */
export function toSimplified(from: 't' | 'tw' | 'twp' | 'hk'): (s: string) => string {
  let groups = cache.get(from);
  if (!groups) {
    const L = (OpenCC as unknown as { Locale: { from: Record<string, Dict[][]>; to: Record<string, Dict[][]> } }).Locale;
    const fromGroups = from === 't' ? [] : L.from[from] ?? [];
    groups = [...fromGroups, ...L.to.cn!].map(buildGroup);
    cache.set(from, groups);
  }
  const gs = groups;
  return (s: string) => {
    let t = s;
    for (const g of gs) t = convertGroup(g, t);
    return t;
  };
}
