/**
 * Encoding standardisation: documents decoded with invalid UTF-8 bytes are
 * repaired (replacement characters removed) or rejected; mojibake, i.e. UTF-8
 * text that was decoded as Windows-1252/Latin-1 or as GBK, is reversed where
 * the bytes survived, and rejected where they did not.
 */
import { classCounts } from '../filter/features.js';
import { argSlot } from '../../native/index.js';
import type { Document } from '../../core/document.js';
import { drop, type DocStep, type Drop, type StepContext } from '../../core/step.js';

/** the native census's numbers for its table and output */
const censusSlots = { table: argSlot(), out: argSlot() };

export interface EncodingConfig {
  /** Reject when more than this fraction of characters were invalid bytes. */
  maxInvalidRatio: number;
  repairMojibake: boolean;
  /** Reject when unrepairable mojibake markers exceed this fraction of the text. */
  maxMojibakeRatio: number;
}

export const ENCODING_DEFAULTS: EncodingConfig = { maxInvalidRatio: 0.01, repairMojibake: true, maxMojibakeRatio: 0.02 };

const CP1252_EXTRA: Record<number, number> = {
  0x20ac: 0x80, 0x201a: 0x82, 0x0192: 0x83, 0x201e: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02c6: 0x88, 0x2030: 0x89, 0x0160: 0x8a,
  0x2039: 0x8b, 0x0152: 0x8c, 0x017d: 0x8e, 0x2018: 0x91, 0x2019: 0x92, 0x201c: 0x93, 0x201d: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97,
  0x02dc: 0x98, 0x2122: 0x99, 0x0161: 0x9a, 0x203a: 0x9b, 0x0153: 0x9c, 0x017e: 0x9e, 0x0178: 0x9f,
};
// A UTF-8 lead byte (Â-ô as Latin-1) followed by continuation bytes (0x80-0xBF as Latin-1 or cp1252)
const LATIN_MOJIBAKE = /[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]{1,3}/g;
// Characters that are rare in real Chinese but frequent when UTF-8 Chinese is read as GBK
const GBK_MARKERS = '鐨勬槸鍦涓嶄簡鎴戜浠銆锛鏈鍙傛暟璇鍚庣敤鎵鑳介噷杩欎箞濂閫氳繃鐢浜涔堝緢澶у';
let markerTable: Uint8Array | null = null;
function gbkMarkerTable(): Uint8Array {
  if (markerTable) return markerTable;
  markerTable = new Uint8Array(65536);
  for (const ch of GBK_MARKERS) markerTable[ch.charCodeAt(0)] = 1;
  return markerTable;
}
let census3: Uint8Array | null = null;
/** The encoding check's census classes: 1 U+FFFD, 2 a Latin-1 lead byte (U+00C2-U+00F4), 3 a GBK-mojibake marker, else 0. */
export function censusTable(): Uint8Array {
  if (census3) return census3;
  const marks = gbkMarkerTable();
  const t = new Uint8Array(65536);
  for (let c = 0xc2; c < 65536; c++) t[c] = c === 0xfffd ? 1 : c <= 0xf4 ? 2 : marks[c] ? 3 : 0;
  return (census3 = t);
}
const census = new Int32Array(4);

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function latinRunBytes(run: string): Uint8Array | null {
  const b = new Uint8Array(run.length);
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c < 0x100) b[i] = c;
    else if (CP1252_EXTRA[c] !== undefined) b[i] = CP1252_EXTRA[c]!;
    else return null;
  }
  return b;
}

let gbkTable: Map<number, number> | null = null;
function gbkEncodeTable(): Map<number, number> {
  if (gbkTable) return gbkTable;
  const dec = new TextDecoder('gbk');
  const m = new Map<number, number>();
  const pair = new Uint8Array(2);
  for (let a = 0x81; a <= 0xfe; a++) {
    for (let b = 0x40; b <= 0xfe; b++) {
      if (b === 0x7f) continue;
      pair[0] = a;
      pair[1] = b;
      const s = dec.decode(pair);
      if (s.length === 1 && s !== '\ufffd' && !m.has(s.charCodeAt(0))) m.set(s.charCodeAt(0), (a << 8) | b);
    }
  }
  gbkTable = m;
  return m;
}

/** Reverse UTF-8-read-as-GBK mojibake; null when some bytes were lost. */
export function repairGbkMojibake(s: string): string | null {
  const t = gbkEncodeTable();
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes.push(c);
    else {
      const v = t.get(c);
      if (v === undefined) return null;
      bytes.push(v >> 8, v & 0xff);
    }
  }
  try {
    return utf8Fatal.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

export function repairLatinMojibake(s: string): { text: string; repaired: number; failed: number } {
  let repaired = 0;
  let failed = 0;
  // extend each match to the whole run of Latin-1/cp1252 high characters and decode it as UTF-8
  const text = s.replace(/[\u0080-\u00ff\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]{2,}/g, (run) => {
    if (!LATIN_MOJIBAKE.test(run)) return run;
    LATIN_MOJIBAKE.lastIndex = 0;
    const b = latinRunBytes(run);
    if (!b) return run;
    try {
      const fixed = utf8Fatal.decode(b);
      repaired++;
      return fixed;
    } catch {
      failed++;
      return run;
    }
  });
  LATIN_MOJIBAKE.lastIndex = 0;
  return { text, repaired, failed };
}

export class Encoding implements DocStep {
  readonly rules = ['encoding.invalid_utf8', 'encoding.replacement_removed', 'encoding.mojibake_repaired', 'encoding.mojibake'] as const;
  constructor(readonly name: string, private cfg: EncodingConfig) {}

  process(doc: Document, ctx: StepContext): Document | Drop {
    let text = doc.text;
    const len = Math.max(1, text.length);
    // one pass: replacement characters, Latin-1 lead bytes, GBK-mojibake marker characters
    classCounts(text, censusTable(), census, censusSlots);
    const nRepl = census[1]!;
    const latinLead = census[2]!;
    const gbk = census[3]!;
    if (nRepl) {
      if (nRepl / len > this.cfg.maxInvalidRatio) return drop('encoding.invalid_utf8');
      const removed = '\ufffd'.repeat(nRepl);
      text = text.replace(/\ufffd/g, '');
      ctx.cut('encoding.replacement_removed', doc, removed);
    }
    if (this.cfg.repairMojibake) {
      // Latin-1 / cp1252 mojibake of UTF-8 (Ã©, â€™, Ã¤Â¸Â­…)
      if (latinLead >= 2) {
        const m = text.match(LATIN_MOJIBAKE);
        if (m && m.length >= 2) {
          const r = repairLatinMojibake(text);
          if (r.repaired) {
            ctx.cut('encoding.mojibake_repaired', doc, `${text.slice(0, 120)} → ${r.text.slice(0, 120)}`, 0);
            text = r.text;
          }
        }
      }
      // GBK mojibake of UTF-8 Chinese (鐨勬槸…)
      if (gbk >= 8 && gbk / len > this.cfg.maxMojibakeRatio) {
        const fixed = repairGbkMojibake(text);
        if (fixed !== null) {
          ctx.cut('encoding.mojibake_repaired', doc, `${text.slice(0, 120)} → ${fixed.slice(0, 120)}`, 0);
          text = fixed;
        } else if (gbk / len > 0.05) return drop('encoding.mojibake');
      }
    }
    return text === doc.text ? doc : { ...doc, text };
  }
}
