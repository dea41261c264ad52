/** Recipes: YAML or JSON, checked against a schema; errors name the path of the wrong key or value. */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { STEP_SCHEMAS, STEP_TYPES, buildStep, type StepConfig } from './registry.js';

const size = z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*([KMG]i?B?|B)?$/i, 'a size like 64MB')]).transform((v) => parseSize(v));

export function parseSize(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([KMG])?i?B?$/i.exec(v.trim());
  if (!m) throw new Error(`bad size "${v}"`);
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? '').toUpperCase() as 'K'] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

const stepSchema = z.discriminatedUnion('type', Object.values(STEP_SCHEMAS) as never);

export const RecipeSchema = z.object({
  name: z.string().default('factory'),
  input: z.object({
    paths: z.array(z.string()).min(1),
    format: z.enum(['auto', 'jsonl', 'lines', 'parquet', 'text', 'html', 'warc']).default('auto'),
    textKey: z.string().default('text'),
    idKey: z.string().default('id'),
    maxRecordBytes: size.default(64 * 1024 * 1024),
    shardBytes: size.default(32 * 1024 * 1024),
  }).strict(),
  output: z.object({
    dir: z.string(),
    format: z.enum(['jsonl', 'jsonl.gz', 'jsonl.zst', 'parquet']).default('jsonl.gz'),
    maxFileBytes: size.default(256 * 1024 * 1024),
    writeDropped: z.boolean().default(false),
  }).strict(),
  executor: z.object({
    workers: z.number().int().min(0).default(0),
    progressSeconds: z.number().min(0).default(1),
  }).strict().default({ workers: 0, progressSeconds: 1 }),
  steps: z.array(stepSchema).min(1),
}).strict();

export type Recipe = Omit<z.output<typeof RecipeSchema>, 'steps'> & { steps: StepConfig[]; baseDir: string };

export class RecipeError extends Error {}

function formatIssues(where: string, issues: z.core.$ZodIssue[]): string {
  return issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    if (i.code === 'invalid_union' && path.match(/^steps\[\d+\]$/)) msg = `unknown step type (known: ${STEP_TYPES.join(', ')})`;
    return `${where}: ${path || '(root)'}: ${msg}`;
  }).join('\n');
}

export function parseRecipe(raw: unknown, where: string, baseDir: string): Recipe {
  const r = RecipeSchema.safeParse(raw);
  if (!r.success) throw new RecipeError(formatIssues(where, r.error.issues));
  const recipe = { ...(r.data as object), baseDir } as Recipe;
  // build every step once, so rule names and word lists are checked before any work starts
  const names = new Set<string>();
  recipe.steps.forEach((s, i) => {
    const name = s.name ?? s.type;
    if (names.has(name)) throw new RecipeError(`${where}: steps[${i}].name: duplicate step name "${name}" (give one of them a name)`);
    names.add(name);
    try {
      buildStep(s);
    } catch (e) {
      throw new RecipeError(`${where}: steps[${i}]: ${(e as Error).message}`);
    }
  });
  return recipe;
}

export function loadRecipe(path: string): Recipe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RecipeError(`cannot read recipe ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RecipeError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  return parseRecipe(raw, path, process.cwd());
}

export function resolveFrom(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

export function workerCount(recipe: Recipe): number {
  return recipe.executor.workers > 0 ? recipe.executor.workers : availableParallelism();
}
