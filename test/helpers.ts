import { mkdtempSync } from 'node:fs';
import { parseRecipe, type Recipe } from '../src/factory/recipe.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Document } from '../src/core/document.js';
import type { StepContext } from '../src/core/step.js';

export function tmp(prefix = 'ziya-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const SHARED = resolve(process.env.ZIYA_SHARED_DATA ?? join(process.cwd(), '../shared/data'));

export function doc(text: string, meta: Record<string, unknown> = {}): Document {
  return { id: 'd1', text, meta: { source: 'test', ...meta } };
}

/** A StepContext that records the cuts. */
export function ctx(): StepContext & { cuts: { rule: string; removed: string }[] } {
  const cuts: { rule: string; removed: string }[] = [];
  return { cuts, cut: (rule, _d, removed) => cuts.push({ rule, removed }) };
}

export const STEPS = [
  { type: 'html_extract' }, { type: 'encoding' }, { type: 'normalize' }, { type: 't2s' }, { type: 'langid' },
  { type: 'doc_filter' }, { type: 'para_filter' }, { type: 'sentence_filter' }, { type: 'pii' }, { type: 'exact_dedup' },
];

export function demoRecipe(input: string, out: string, extra: Record<string, unknown> = {}): Recipe {
  return parseRecipe({ name: 'test', input: { paths: [input], shardBytes: '256KB', maxRecordBytes: '2MB' }, output: { dir: out, format: 'jsonl.gz', maxFileBytes: '200KB', writeDropped: true }, steps: STEPS, ...extra }, 'test', '/');
}

export { outputDigest } from '../src/factory/runstate.js';

