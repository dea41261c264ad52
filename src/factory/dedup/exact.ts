/**
 * Exact-content de-duplication as a corpus step: the first occurrence (in
 * shard order, then document order) of each normalised text is kept, later
 * ones are dropped. Deterministic whatever the number of workers.
 */
import type { Document } from '../../core/document.js';
import { drop, type CorpusStep, type Drop, type StepContext } from '../../core/step.js';

export interface ExactDedupConfig {
  /** 'exact': the text as is; 'whitespace': runs of whitespace folded; 'loose': also case and punctuation folded. */
  normalize: 'exact' | 'whitespace' | 'loose';
}

interface ShardSummary {
  /** hex content hashes and the orders of the documents that had them */
  h: string[];
  o: number[];
}

/** hash -> [shard, order] of the first occurrence, for hashes seen more than once */
type Global = Record<string, [number, number]>;

/** 64-bit content hash as 16 hex digits (two independent 32-bit FNV-1a streams). */
export function contentHash(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

export class ExactDedup implements CorpusStep<ShardSummary, Global> {
  readonly corpus = true as const;
  readonly rules = ['dedup.exact_duplicate'] as const;
  constructor(readonly name: string, private cfg: ExactDedupConfig) {}

  key(text: string): string {
    let t = text;
    if (this.cfg.normalize !== 'exact') t = t.replace(/\s+/g, ' ').trim();
    if (this.cfg.normalize === 'loose') t = t.toLowerCase().replace(/[\p{P}\p{S}]/gu, '');
    return contentHash(t);
  }

  begin(): ShardSummary {
    return { h: [], o: [] };
  }

  observe(doc: Document, s: ShardSummary, order: number): void {
    s.h.push(this.key(doc.text));
    s.o.push(order);
  }

  combine(states: ShardSummary[]): Global {
    const first = new Map<string, [number, number]>();
    const dup = new Set<string>();
    states.forEach((s, shard) => {
      s.h.forEach((h, i) => {
        if (first.has(h)) dup.add(h);
        else first.set(h, [shard, s.o[i]!]);
      });
    });
    const g: Global = {};
    for (const h of dup) g[h] = first.get(h)!;
    return g;
  }

  summarize(g: Global): Record<string, unknown> {
    return { duplicatedTexts: Object.keys(g).length };
  }

  decide(doc: Document, _ctx: StepContext, g: Global, shard: number, order: number): Document | Drop {
    const f = g[this.key(doc.text)];
    if (f && (f[0] !== shard || f[1] !== order)) return drop('dedup.exact_duplicate');
    return doc;
  }
}
