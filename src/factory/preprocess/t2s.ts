/** Traditional-to-Simplified Chinese conversion with OpenCC's dictionaries (opencc-js), only where needed. */
import * as OpenCC from 'opencc-js';
import type { Document } from '../../core/document.js';
import type { DocStep, StepContext } from '../../core/step.js';

export interface T2SConfig {
  /** OpenCC source variant: 't' (OpenCC standard), 'tw', 'twp' (Taiwan phrases), 'hk'. */
  from: 't' | 'tw' | 'twp' | 'hk';
}

let converters = new Map<string, (s: string) => string>();
let tradTable: Uint8Array | null = null;

/** Marks code points (BMP) that OpenCC would change, so untouched documents skip the converter. */
function traditionalTable(conv: (s: string) => string): Uint8Array {
  if (tradTable) return tradTable;
  const t = new Uint8Array(65536);
  const chars: string[] = [];
  for (let c = 0x3400; c <= 0x9fff; c++) chars.push(String.fromCharCode(c));
  for (let c = 0xf900; c <= 0xfaff; c++) chars.push(String.fromCharCode(c));
  const src = chars.join('\n');
  const dst = conv(src).split('\n');
  const srcs = src.split('\n');
  for (let i = 0; i < srcs.length; i++) if (srcs[i] !== dst[i]) t[srcs[i]!.charCodeAt(0)] = 1;
  tradTable = t;
  return t;
}

export class TraditionalToSimplified implements DocStep {
  readonly rules = ['t2s.converted'] as const;
  private conv: (s: string) => string;
  private table: Uint8Array;
  constructor(readonly name: string, cfg: T2SConfig) {
    let c = converters.get(cfg.from);
    if (!c) {
      c = OpenCC.Converter({ from: cfg.from, to: 'cn' }) as (s: string) => string;
      converters.set(cfg.from, c);
    }
    this.conv = c;
    this.table = traditionalTable(OpenCC.Converter({ from: 't', to: 'cn' }) as (s: string) => string);
  }

  /** Number of characters that look Traditional. */
  traditionalCount(s: string): number {
    let n = 0;
    const t = this.table;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x3400 && t[c]) n++;
    }
    return n;
  }

  process(doc: Document, ctx: StepContext): Document {
    if (this.traditionalCount(doc.text) === 0) return doc;
    const text = this.conv(doc.text);
    if (text === doc.text) return doc;
    ctx.cut('t2s.converted', doc, '');
    return { ...doc, text, meta: { ...doc.meta, convertedFromTraditional: true } };
  }
}
