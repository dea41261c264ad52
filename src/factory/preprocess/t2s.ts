/** Traditional-to-Simplified Chinese conversion with OpenCC's dictionaries, only where needed. */
import { withMeta, type Document } from '../../core/document.js';
import type { DocStep, StepContext } from '../../core/step.js';
import { toSimplified } from './opencc.js';
import { unitPositions } from '../filter/features.js';
import { argSlot } from '../../native/index.js';

/** the native scan's number for the Traditional table (one per thread, as the table) */
const tradSlot = argSlot();

export interface T2SConfig {
  /** OpenCC source variant: 't' (OpenCC standard), 'tw', 'twp' (Taiwan phrases), 'hk'. */
  from: 't' | 'tw' | 'twp' | 'hk';
}

let tradTable: Uint8Array | null = null;

/** Marks code points (BMP) that OpenCC's standard conversion changes, so untouched documents skip the converter. */
function traditionalTable(): Uint8Array {
  if (tradTable) return tradTable;
  const conv = toSimplified('t');
  const t = new Uint8Array(65536);
  for (let c = 0x3400; c <= 0xfaff; c++) {
    if (c > 0x9fff && c < 0xf900) continue;
    const ch = String.fromCharCode(c);
    if (conv(ch) !== ch) t[c] = 1;
  }
  tradTable = t;
  return t;
}

export class TraditionalToSimplified implements DocStep {
  readonly rules = ['t2s.converted'] as const;
  private conv: (s: string) => string;
  private table: Uint8Array;
  constructor(readonly name: string, cfg: T2SConfig) {
    this.conv = toSimplified(cfg.from);
    this.table = traditionalTable();
  }

  /** Number of characters that look Traditional. */
  traditionalCount(s: string): number {
    return unitPositions(s, this.table, tradSlot).length;
  }

  process(doc: Document, ctx: StepContext): Document {
    if (this.traditionalCount(doc.text) === 0) return doc;
    const text = this.conv(doc.text);
    if (text === doc.text) return doc;
    ctx.cut('t2s.converted', doc, `${doc.text.slice(0, 100)} → ${text.slice(0, 100)}`, 0);
    return { ...doc, text, meta: withMeta(doc.meta, { convertedFromTraditional: true }) };
  }
}
