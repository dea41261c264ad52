/**
 * The six benchmarks by name: where their data is found (a data root laid out like
 * ../shared/data, or a path per benchmark: the original layout or dataset-hub files) and how
 * each task is built from it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, loadGsm8k, loadHumanEval, loadMath, loadMcSplit, type McBenchmark } from './data.js';
import { mcTask, MC_PROTOCOLS, type McProtocol } from './tasks/mc.js';
import { gsm8kTask } from './tasks/gsm8k.js';
import { mathTask } from './tasks/math.js';
import { humanevalTask } from './tasks/humaneval.js';
import type { Doc, Task } from './task.js';

export const BENCHMARKS = ['mmlu', 'cmmlu', 'ceval', 'gsm8k', 'math', 'humaneval'] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

export interface TaskOptions {
  /** folder laid out like ../shared/data */
  dataRoot?: string;
  /** a path per benchmark (overrides the data root) */
  paths?: Partial<Record<Benchmark, string>>;
  protocol?: McProtocol;
  shots?: number;
  /** HumanEval samples per problem */
  samples?: number;
  temperature?: number;
  maxTokens?: number;
  /** C-Eval split to score (val by default: the test split's answers were long withheld) */
  cevalSplit?: string;
}

const DEFAULT_PATHS: Record<Benchmark, string[]> = {
  mmlu: ['mmlu/data/mmlu', 'mmlu/data', 'mmlu'],
  cmmlu: ['cmmlu/data', 'cmmlu'],
  ceval: ['ceval/ceval-exam', 'ceval'],
  gsm8k: ['gsm8k/grade_school_math/data', 'gsm8k'],
  math: ['math500/evaluation/data/math500/test_ori.jsonl', 'math500/test.jsonl', 'math500'],
  humaneval: ['humaneval/data/HumanEval.jsonl.gz', 'humaneval'],
};

export function dataPath(b: Benchmark, o: TaskOptions): string {
  const explicit = o.paths?.[b];
  if (explicit) {
    if (!existsSync(explicit)) throw new DataError(`${b}: ${explicit} does not exist`);
    return explicit;
  }
  const root = o.dataRoot ?? '../shared/data';
  for (const rel of DEFAULT_PATHS[b]) {
    const p = join(root, rel);
    if (existsSync(p) && (statSync(p).isFile() || b === 'math' || b === 'humaneval' || existsSync(join(p, 'test')) || existsSync(join(p, 'val')) || existsSync(join(p, 'test.jsonl')) || existsSync(join(p, 'dev')))) return p;
  }
  throw new DataError(`${b}: no data under ${root} (looked for ${DEFAULT_PATHS[b].join(', ')}); give its path with --${b} PATH`);
}

export async function buildTask(b: Benchmark, o: TaskOptions = {}): Promise<Task<Doc>> {
  const p = dataPath(b, o);
  switch (b) {
    case 'mmlu':
    case 'cmmlu':
    case 'ceval': {
      const split = b === 'ceval' ? (o.cevalSplit ?? 'val') : 'test';
      const docs = await loadMcSplit(b as McBenchmark, p, split);
      const dev = (o.shots ?? 5) > 0 ? await loadMcSplit(b as McBenchmark, p, 'dev', [...new Set(docs.map((d) => d.subject))]) : [];
      return mcTask(b as McBenchmark, docs, dev, { protocol: o.protocol, shots: o.shots }) as unknown as Task<Doc>;
    }
    case 'gsm8k': {
      const dir = statSync(p).isFile() ? join(p, '..') : p;
      const shots = o.shots ?? 5;
      return gsm8kTask(await loadGsm8k(p, 'test'), shots > 0 ? await loadGsm8k(dir, 'train') : [], { shots, maxTokens: o.maxTokens }) as unknown as Task<Doc>;
    }
    case 'math':
      return mathTask(await loadMath(p), { shots: o.shots === undefined ? undefined : Math.min(o.shots, 4), maxTokens: o.maxTokens }) as unknown as Task<Doc>;
    case 'humaneval':
      return humanevalTask(await loadHumanEval(p), { samples: o.samples, temperature: o.temperature, maxTokens: o.maxTokens }) as unknown as Task<Doc>;
  }
}

export function parseBenchmarks(list: string): Benchmark[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(BENCHMARKS as readonly string[]).includes(n)) throw new DataError(`unknown benchmark "${n}" (known: ${BENCHMARKS.join(', ')})`);
  return names as Benchmark[];
}

export function parseProtocol(p: string): McProtocol {
  if (!(MC_PROTOCOLS as string[]).includes(p)) throw new DataError(`unknown protocol "${p}" (known: ${MC_PROTOCOLS.join(', ')})`);
  return p as McProtocol;
}
