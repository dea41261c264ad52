import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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


/**
 * Up to n real documents from ../shared/data (Chinese CLUECorpusSmall lines and CMRC 2018
 * Wikipedia articles, English WikiText-2 test paragraphs), read in place; [] when it is absent.
 */
export function sharedTexts(n: number): { text: string; lang: 'zh' | 'en' }[] {
  const out: { text: string; lang: 'zh' | 'en' }[] = [];
  const read = (rel: string) => (existsSync(join(SHARED, rel)) ? readFileSync(join(SHARED, rel), 'utf8') : '');
  const clue = read('uer-py-zh-corpora/corpora/CLUECorpusSmall_sampled.txt').split('\n').filter((l) => l.trim());
  const cmrc = read('cmrc2018-zhwiki/squad-style-data/cmrc2018_dev.json');
  const wiki = read('wikitext2/word_language_model/data/wikitext-2/test.txt').split(/\n \n(?= = )/).filter((l) => l.trim());
  const articles = cmrc ? (JSON.parse(cmrc) as { data: { title: string; paragraphs: { context: string }[] }[] }).data.map((a) => `${a.title}\n${a.paragraphs.map((p) => p.context).join('\n')}`) : [];
  const third = Math.ceil(n / 3);
  for (const t of clue.slice(0, third)) out.push({ text: t, lang: 'zh' });
  for (const t of articles.slice(0, third)) out.push({ text: t, lang: 'zh' });
  for (const t of wiki.slice(0, n - out.length)) out.push({ text: t, lang: 'en' });
  return out;
}
