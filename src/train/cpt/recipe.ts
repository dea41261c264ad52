/**
 * Continual pre-training recipes (YAML or JSON, checked with zod; errors name the path): the base
 * model and tokenizer, an optional vocabulary extension, the optimiser, held-out sets per domain,
 * and the stages. A stage mixes its sources and replays of earlier stages by weight (weights are
 * normalised over the stage, so Ziya2's stage 2 is {task data: 1, replay of stage 1: 1}); text
 * sources are joined with </s> and cut at the context length, supervised sources are rendered with
 * their prompt template and packed by task.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RecipeError } from '../../factory/recipe.js';

const paths = z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const textSource = z.object({
  name: z.string().regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
  path: paths,
  /** share of the stage by weight (weights are normalised over the stage) … */
  weight: z.number().positive().optional(),
  /** … or by a token budget (a part of the stage's tokens) */
  tokens: z.number().positive().optional(),
  textKey: z.string().default('text'),
  /** at most this many documents are read (0 = all) */
  maxDocuments: z.number().int().min(0).default(0),
  /** documents skipped at the start (to keep held-out documents out) */
  skip: z.number().int().min(0).default(0),
  /** every non-empty line of a record is a document (plain-text corpora with one text per line) */
  lines: z.boolean().default(false),
  /** text sources: render each JSONL/TSV record with this template instead of taking textKey, e.g. code fenced with its language: "```{language}\n{code}\n```" */
  template: z.string().optional(),
}).strict();

const source = textSource.extend({
  /** supervised sources: the task (examples of one task are packed together) … */
  task: z.string().optional(),
  /** … the rendered prompt (`{field}` placeholders name record fields; the answer follows it) … */
  prompt: z.string().optional(),
  /** … and the rendered answer */
  answer: z.string().optional(),
  /** column names of a TSV file without a header line (a TSV with a header names its own) */
  columns: z.array(z.string()).optional(),
}).strict().superRefine((v, ctx) => {
  if ((v.weight === undefined) === (v.tokens === undefined)) ctx.addIssue({ code: 'custom', message: 'give a source either a weight or a token budget (tokens)' });
  const have = [v.task, v.prompt, v.answer].filter((x) => x !== undefined).length;
  if (have !== 0 && have !== 3) ctx.addIssue({ code: 'custom', message: 'a supervised source needs task, prompt and answer together' });
});

const stage = z.object({
  name: z.string().regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
  /** training tokens of the stage (batch x seq_len per step), replay included */
  tokens: z.number().int().positive(),
  sources: z.array(source).min(1),
  /** earlier stage name -> weight in this stage's mixture, or {tokens: N} (Ziya2 stage 3: 0.1B tokens of each) */
  replay: z.record(z.string(), z.union([z.number().positive(), z.object({ tokens: z.number().positive() }).strict()])).default({}),
  /** learning-rate peak for this stage (default: the optimiser's) */
  lr: z.number().positive().optional(),
  /** leave prompt tokens out of the loss (supervised sources) */
  maskPrompt: z.boolean().default(false),
  /** block-diagonal attention per document in text sources (Ziya2 stage 1: cross-document attention masked) */
  documentMask: z.boolean().default(true),
}).strict();

export const CptRecipeSchema = z.object({
  name: z.string().default('cpt'),
  base: z.object({
    /** checkpoint (llama2.c .bin, HF folder, .gguf) */
    model: z.string(),
    tokenizer: z.string(),
    /** the model's shape, for planning and export where the checkpoint is not on this machine */
    architecture: z.object({
      dim: z.number().int().positive(), nLayers: z.number().int().positive(), nHeads: z.number().int().positive(), nKvHeads: z.number().int().positive(),
      hiddenDim: z.number().int().positive(), vocabSize: z.number().int().positive(), maxSeqLen: z.number().int().positive(),
      ropeTheta: z.number().positive().default(10000), normEps: z.number().positive().default(1e-5), tieEmbeddings: z.boolean().default(false),
    }).strict().optional(),
  }).strict(),
  extendTokenizer: z.object({
    corpus: paths,
    count: z.number().int().positive().default(7400),
    minCount: z.number().int().positive().default(2),
  }).strict().optional(),
  seqLen: z.number().int().min(8),
  /** sequences per micro-batch */
  batch: z.number().int().positive(),
  /** micro-batches per optimiser step (gradient accumulation) */
  accumulate: z.number().int().positive().default(1),
  /** loss-spike guard: NaN/Inf or a loss over factor x its running mean skips the batch, or rolls back to the last checkpoint and skips it */
  spikeGuard: z.object({ factor: z.number().gt(1).default(3), window: z.number().int().positive().default(50), action: z.enum(['skip', 'rollback']).default('skip') }).strict().optional(),
  precision: z.enum(['fp32', 'bf16', 'fp16']).default('fp32'),
  seed: z.number().int().default(1234),
  optimizer: z.object({
    lr: z.number().positive(),
    minLr: z.number().min(0).default(1e-5),
    warmup: z.number().min(0).max(1).default(0.01),
    betas: z.tuple([z.number(), z.number()]).default([0.9, 0.95]),
    weightDecay: z.number().min(0).default(0.1),
    clip: z.number().min(0).default(1.0),
  }).strict(),
  heldout: z.array(z.object({ name: z.string(), path: paths, textKey: z.string().default('text'), documents: z.number().int().positive().default(50), skip: z.number().int().min(0).default(0), lines: z.boolean().default(false) }).strict()).default([]),
  checkpointEvery: z.number().int().positive().default(50),
  /** held-out loss every this many steps (and at the end of each stage) */
  evalEvery: z.number().int().positive().default(100),
  stages: z.array(stage).min(1),
}).strict();

export type CptRecipe = z.output<typeof CptRecipeSchema> & { baseDir: string; file: string };
export type Stage = CptRecipe['stages'][number];
export type Source = Stage['sources'][number];
export type SupervisedSource = Source & { task: string; prompt: string; answer: string };
export const isSupervised = (s: Source): s is SupervisedSource => s.task !== undefined;

function issues(where: string, list: z.core.$ZodIssue[]): string {
  return list.map((i) => `${where}: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message}`).join('\n');
}

export function parseCptRecipe(raw: unknown, where: string, baseDir: string): CptRecipe {
  const r = CptRecipeSchema.safeParse(raw);
  if (!r.success) throw new RecipeError(issues(where, r.error.issues));
  const rec = { ...r.data, baseDir, file: where };
  const seen = new Set<string>();
  rec.stages.forEach((s, i) => {
    if (seen.has(s.name)) throw new RecipeError(`${where}: stages[${i}].name: "${s.name}" is used twice`);
    for (const name of Object.keys(s.replay)) if (!seen.has(name)) throw new RecipeError(`${where}: stages[${i}].replay: "${name}" is not an earlier stage (earlier: ${[...seen].join(', ') || 'none'})`);
    const names = new Set<string>();
    s.sources.forEach((src, j) => {
      if (names.has(src.name)) throw new RecipeError(`${where}: stages[${i}].sources[${j}].name: "${src.name}" is used twice in the stage`);
      names.add(src.name);
      if (isSupervised(src) && !src.answer.includes('{')) throw new RecipeError(`${where}: stages[${i}].sources[${j}].answer: the answer template has no {field}`);
    });
    try {
      stageShares(s);
    } catch (e) {
      throw new RecipeError(`${where}: stages[${i}]: ${(e as Error).message}`);
    }
    if (s.tokens < rec.seqLen * rec.batch * rec.accumulate) throw new RecipeError(`${where}: stages[${i}].tokens: ${s.tokens} is less than one step (batch ${rec.batch} x accumulate ${rec.accumulate} x seqLen ${rec.seqLen})`);
    seen.add(s.name);
  });
  return rec;
}

/**
 * The share of each component of a stage (its sources, then its replays), summing to 1: token
 * budgets take tokens / stage tokens, weighted components split the rest by weight. Budgets over the
 * stage, or budgets alone that miss it by more than 1 %, are errors. Without replay the sources'
 * shares are renormalised.
 */
export function stageShares(stage: Stage, opts: { noReplay?: boolean } = {}): { name: string; share: number }[] {
  const comps = [
    ...stage.sources.map((x) => ({ name: x.name, weight: x.weight, tokens: x.tokens })),
    ...Object.entries(stage.replay).map(([k, v]) => ({ name: `replay:${k}`, weight: typeof v === 'number' ? v : undefined, tokens: typeof v === 'number' ? undefined : v.tokens })),
  ];
  const budget = comps.reduce((a, c) => a + (c.tokens ?? 0), 0) / stage.tokens;
  const W = comps.reduce((a, c) => a + (c.weight ?? 0), 0);
  if (!Number.isFinite(budget) || !Number.isFinite(W)) throw new Error('the weights are not finite numbers');
  if (budget > 1 + 1e-9) throw new Error(`the token budgets (${(budget * stage.tokens).toLocaleString('en-US')}) exceed the stage's ${stage.tokens.toLocaleString('en-US')} tokens`);
  if (W > 0 && budget >= 1 - 1e-9) throw new Error('the token budgets fill the stage and leave nothing for the weighted sources');
  if (W === 0 && Math.abs(budget - 1) > 0.01) throw new Error(`the token budgets sum to ${(budget * stage.tokens).toLocaleString('en-US')}, the stage has ${stage.tokens.toLocaleString('en-US')} tokens`);
  let shares = comps.map((c) => ({ name: c.name, share: c.tokens !== undefined ? c.tokens / stage.tokens / (W === 0 ? budget : 1) : ((1 - budget) * (c.weight ?? 0)) / W }));
  if (opts.noReplay) {
    shares = shares.slice(0, stage.sources.length);
    const t = shares.reduce((a, c) => a + c.share, 0);
    shares = shares.map((c) => ({ name: c.name, share: c.share / t }));
  }
  return shares;
}

export function loadCptRecipe(file: string): CptRecipe {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RecipeError(`${file}: ${(e as Error).message}`);
  }
  return parseCptRecipe(raw, file, dirname(resolve(file)));
}

export const resolveIn = (r: CptRecipe, p: string) => (isAbsolute(p) ? p : resolve(r.baseDir, p));

/** renders `{field}` placeholders from a record; a missing field is an error naming it */
export function renderTemplate(template: string, record: Record<string, unknown>, where: string): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = record[k];
    if (v === undefined || v === null) throw new RecipeError(`${where}: the record has no field "${k}" for the template`);
    return String(v);
  });
}
