/** Step types a recipe can name, each with its config schema; the builder is in build.ts (every type registered here). */
import { z } from 'zod';
import { PerplexityBuckets } from './score/buckets.js';
import { HtmlExtract } from './preprocess/html.js';
import { ENCODING_DEFAULTS } from './preprocess/encoding.js';
import { NORMALIZE_DEFAULTS } from './preprocess/normalize.js';
import { PII_DEFAULTS } from './filter/pii.js';
import { buildStep, registerStepBuilder } from './build.js';

registerStepBuilder('html_extract', (name, cfg) => new HtmlExtract(name, cfg));
registerStepBuilder('ppl_buckets', (name, cfg) => new PerplexityBuckets(name, cfg));
export { buildStep };

const ruleOverrides = z.record(z.string(), z.object({ enabled: z.boolean().optional() }).catchall(z.number())).optional();
const wordlists = z.object({
  stopwords: z.array(z.string()).optional(),
  toxic: z.array(z.string()).optional(),
  ads: z.array(z.string()).optional(),
  boilerplate: z.array(z.string()).optional(),
}).strict().optional();
const base = { name: z.string().optional() };

export const STEP_SCHEMAS = {
  html_extract: z.object({ ...base, type: z.literal('html_extract'), minBlockLength: z.number().int().min(0).default(10), maxLinkDensity: z.number().min(0).max(1).default(0.5), detect: z.boolean().default(true) }).strict(),
  encoding: z.object({ ...base, type: z.literal('encoding'), maxInvalidRatio: z.number().min(0).max(1).default(ENCODING_DEFAULTS.maxInvalidRatio), repairMojibake: z.boolean().default(true), maxMojibakeRatio: z.number().min(0).max(1).default(ENCODING_DEFAULTS.maxMojibakeRatio) }).strict(),
  normalize: z.object({
    ...base, type: z.literal('normalize'),
    removeControl: z.boolean().default(NORMALIZE_DEFAULTS.removeControl), removeFormat: z.boolean().default(true), removePrivateUse: z.boolean().default(true),
    removeEmoji: z.boolean().default(true), removeJunkSymbols: z.boolean().default(true), foldFullWidth: z.boolean().default(true), collapseBlankLines: z.boolean().default(true),
  }).strict(),
  t2s: z.object({ ...base, type: z.literal('t2s'), from: z.enum(['t', 'tw', 'twp', 'hk']).default('t') }).strict(),
  langid: z.object({ ...base, type: z.literal('langid'), keep: z.array(z.string()).default(['zh', 'en']), minScore: z.number().min(0).max(1).default(0.3) }).strict(),
  doc_filter: z.object({ ...base, type: z.literal('doc_filter'), rules: ruleOverrides, wordlists }).strict(),
  para_filter: z.object({ ...base, type: z.literal('para_filter'), rules: ruleOverrides, wordlists, minChars: z.number().int().min(0).default(50) }).strict(),
  sentence_filter: z.object({ ...base, type: z.literal('sentence_filter'), rules: ruleOverrides, minChars: z.number().int().min(0).default(50) }).strict(),
  ppl_buckets: z.object({ ...base, type: z.literal('ppl_buckets'), models: z.record(z.string(), z.string()), high: z.number().min(0).max(1).default(0.3), medium: z.number().min(0).max(1).default(0.6), dropLow: z.boolean().default(true) }).strict(),
  exact_dedup: z.object({ ...base, type: z.literal('exact_dedup'), normalize: z.enum(['exact', 'whitespace', 'loose']).default('whitespace') }).strict(),
  bloom_dedup: z.object({
    ...base, type: z.literal('bloom_dedup'), key: z.enum(['url', 'text']), urlField: z.string().default('url'), normalize: z.enum(['exact', 'whitespace', 'loose']).default('whitespace'),
    expected: z.number().int().positive().default(10_000_000), falsePositiveRate: z.number().positive().max(0.5).default(0.001), load: z.string().optional(), save: z.string().optional(),
  }).strict(),
  minhash_dedup: z.object({ ...base, type: z.literal('minhash_dedup'), shingle: z.number().int().min(1).default(5), bands: z.number().int().min(1).default(14), rows: z.number().int().min(1).default(8), seed: z.number().int().default(1) }).strict(),
  simhash_dedup: z.object({ ...base, type: z.literal('simhash_dedup'), shingle: z.number().int().min(1).default(3), maxDistance: z.number().int().min(0).max(16).default(3) }).strict(),
  pii: z.object({
    ...base, type: z.literal('pii'),
    email: z.union([z.string(), z.literal(false)]).default(PII_DEFAULTS.email), phone: z.union([z.string(), z.literal(false)]).default(PII_DEFAULTS.phone),
    idCard: z.union([z.string(), z.literal(false)]).default(PII_DEFAULTS.idCard), bankCard: z.union([z.string(), z.literal(false)]).default(PII_DEFAULTS.bankCard),
    ip: z.union([z.string(), z.literal(false)]).default(PII_DEFAULTS.ip), maskPrivateIp: z.boolean().default(false),
  }).strict(),
} as const;

export type StepType = keyof typeof STEP_SCHEMAS;
export const STEP_TYPES = Object.keys(STEP_SCHEMAS) as StepType[];
export type StepConfig = { [K in StepType]: z.output<(typeof STEP_SCHEMAS)[K]> }[StepType];

export const STEP_ABOUT: Record<StepType, string> = {
  html_extract: 'HTML records to main text, boilerplate removed',
  encoding: 'invalid UTF-8 and mojibake: repair or reject',
  normalize: 'Unicode standardisation: controls, invisible, private-use, emoji, junk symbols; full-width folding',
  t2s: 'Traditional to Simplified Chinese (OpenCC dictionaries)',
  langid: 'language identification; keep zh and en',
  doc_filter: 'document-level rules (Gopher, C4, FineWeb, ChineseWebText)',
  para_filter: 'paragraph-level cuts: boilerplate, navigation, ads, toxic, duplicates',
  sentence_filter: 'line- and sentence-level cuts: citations, UI text, metadata, short lines',
  pii: 'mask e-mail, phones, ID cards, bank cards, IPs',
  exact_dedup: 'corpus step: drop later copies of the same (normalised) text',
  ppl_buckets: 'corpus step: n-gram perplexity per document, high/medium/low by this run\'s percentiles per language',
  bloom_dedup: 'corpus step: Bloom filter on the normalised URL or text hash, persistable across runs',
  minhash_dedup: 'corpus step: MinHash-LSH near duplicates, connected components, first kept',
  simhash_dedup: 'corpus step: 64-bit SimHash near duplicates within Hamming distance k',
};
