/**
 * The gate's feedback loop (`ziya factory run --until-pass`): run the recipe, evaluate, and
 * while the gate fails tighten the scoring cut-off and the thresholds of the rules behind the
 * failing metrics, step by step, until it passes or the iteration limit is reached.
 *
 * Only what changed is re-run: the recipe is cut into segments (the steps before the first
 * tunable step in one, then one per step), each segment's output is kept in a folder named by
 * the hash of its input and its steps' settings, and an iteration reuses every segment whose
 * hash it has already computed. Tightening doc_filter therefore re-runs doc_filter and what
 * follows it, never the preprocessing or the scoring before it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { runFactory } from '../factory/executor.js';
import { resolveFrom, type Recipe } from '../factory/recipe.js';
import type { StepConfig } from '../factory/registry.js';
import { DOC_RULES } from '../factory/filter/doc-rules.js';
import { runGate, type GateOptions, type GateReport } from './gate.js';
import type { MetricName } from './metrics.js';
import { loopHtml } from './report.js';

const TUNABLE = new Set(['ppl_buckets', 'doc_filter', 'para_filter', 'sentence_filter', 'pii']);

export interface LoopOptions extends GateOptions {
  maxIterations?: number;
  workers?: number;
  quiet?: boolean;
  log?: (m: string) => void;
}

export interface Iteration {
  index: number;
  /** what was tightened before this iteration, one line per change */
  changes: string[];
  segmentsRun: number;
  segmentsReused: number;
  seconds: number;
  read: number;
  kept: number;
  output: string;
  /** the output folders of the iteration's segments, in order (the last is `output`) */
  segments: string[];
  gate: GateReport;
}

export interface LoopResult {
  passed: boolean;
  stopped: string;
  iterations: Iteration[];
  recipe: StepConfig[];
  final: string;
}

type Rules = Record<string, Record<string, number | boolean>>;

function ruleParam(step: StepConfig & { rules?: Rules }, rule: string, param: string): number {
  const v = step.rules?.[rule]?.[param];
  if (typeof v === 'number') return v;
  const def = DOC_RULES.find((r) => r.name === rule)?.params[param];
  if (def === undefined) throw new Error(`no parameter ${param} for rule ${rule}`);
  return def;
}

function setRule(step: StepConfig & { rules?: Rules }, rule: string, param: string, v: number): void {
  step.rules ??= {};
  step.rules[rule] = { ...(step.rules[rule] ?? {}), [param]: Number(v.toPrecision(4)) };
}

/** tightens the recipe for the failing metrics; returns the changes made (none = no lever left) */
export function tighten(steps: StepConfig[], failing: MetricName[]): string[] {
  const changes: string[] = [];
  const doc = steps.find((s) => s.type === 'doc_filter') as (StepConfig & { rules?: Rules }) | undefined;
  const scale = (rule: string, param: string, f: number, floor?: number, ceil?: number) => {
    if (!doc) return;
    const old = ruleParam(doc, rule, param);
    let v = old * f;
    if (floor !== undefined) v = Math.max(floor, v);
    if (ceil !== undefined) v = Math.min(ceil, v);
    if (v === old) return;
    setRule(doc, rule, param, v);
    changes.push(`doc_filter ${rule}.${param}: ${old} → ${Number(v.toPrecision(4))}`);
  };
  for (const m of failing) {
    switch (m) {
      case 'toxic': scale('doc.toxic_words', 'max', 0.5, 1e-4); break;
      case 'ads': scale('doc.ad_words', 'max', 0.5, 1e-4); break;
      case 'html': scale('doc.html_residue', 'max', 0.5, 1e-5); scale('doc.curly_brace', 'max', 0.5, 1e-5); break;
      case 'informativeness': for (const n of [2, 3, 4]) scale(`doc.top_${n}gram`, 'max', 0.85, 0.02); break;
      case 'readability': scale('doc.terminal_punct_lines', 'min', 1.25, undefined, 0.95); scale('doc.short_lines', 'max', 0.85, 0.05); break;
      case 'privacy': {
        const p = steps.find((s) => s.type === 'pii') as (StepConfig & { maskPrivateIp?: boolean }) | undefined;
        if (p && !p.maskPrivateIp) { p.maskPrivateIp = true; changes.push('pii maskPrivateIp: false → true'); }
        break;
      }
      case 'perplexity': {
        const b = steps.find((s) => s.type === 'ppl_buckets') as (StepConfig & { high: number; medium: number }) | undefined;
        if (b && b.medium - 0.05 >= b.high) { changes.push(`ppl_buckets medium: ${b.medium} → ${Number((b.medium - 0.05).toFixed(2))}`); b.medium = Number((b.medium - 0.05).toFixed(2)); }
        break;
      }
    }
  }
  return changes;
}

const hash = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 16);

/** one run of the recipe by segments under WORK; returns the final output folder and its counts */
async function runSegments(recipe: Recipe, steps: StepConfig[], work: string, o: LoopOptions): Promise<{ out: string; run: number; reused: number; read: number; kept: number; segments: string[] }> {
  const first = steps.findIndex((s) => TUNABLE.has(s.type));
  const bounds: [number, number][] = [];
  if (first > 0) bounds.push([0, first]);
  for (let i = Math.max(0, first); i < steps.length; i++) bounds.push([i, i + 1]);
  let input: { paths: string[]; key: string } = { paths: recipe.input.paths.map((p) => resolveFrom(recipe.baseDir, p)), key: hash(recipe.input) };
  let run = 0, reused = 0, read = -1, kept = 0;
  const segments: string[] = [];
  for (const [a, b] of bounds) {
    const seg = steps.slice(a, b);
    const key = hash([input.key, seg]);
    const out = join(work, `seg-${key}`);
    const statsFile = join(out, 'stats.json');
    if (existsSync(statsFile)) reused++;
    else {
      run++;
      const sub: Recipe = {
        ...recipe,
        name: `${recipe.name}/${seg.map((s) => s.name ?? s.type).join('+')}`,
        baseDir: '/',
        input: { ...recipe.input, paths: input.paths, format: a === 0 ? recipe.input.format : 'jsonl' },
        output: { ...recipe.output, dir: out, format: 'jsonl.gz' },
        steps: seg,
      };
      await runFactory(sub, { workers: o.workers, quiet: o.quiet, log: o.log, force: true });
    }
    segments.push(out);
    const st = JSON.parse(readFileSync(statsFile, 'utf8')) as { read: number; kept: number };
    if (read < 0) read = st.read;
    kept = st.kept;
    input = { paths: [join(out, 'data')], key };
  }
  return { out: resolve(input.paths[0]!, '..'), run, reused, read, kept, segments };
}

export async function runUntilPass(recipe: Recipe, o: LoopOptions = {}): Promise<LoopResult> {
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const outDir = resolve(resolveFrom(recipe.baseDir, recipe.output.dir));
  const work = join(outDir, '_gate');
  mkdirSync(work, { recursive: true });
  const steps = structuredClone(recipe.steps);
  const iterations: Iteration[] = [];
  const max = o.maxIterations ?? 6;
  let changes: string[] = [];
  let stopped = '';
  for (let i = 0; i < max; i++) {
    const t0 = performance.now();
    const seg = await runSegments(recipe, steps, work, o);
    const gate = await runGate(seg.out, o);
    const it: Iteration = { index: i, changes, segmentsRun: seg.run, segmentsReused: seg.reused, seconds: (performance.now() - t0) / 1000, read: seg.read, kept: seg.kept, output: seg.out, segments: seg.segments, gate };
    iterations.push(it);
    log(`gate iteration ${i}: kept ${seg.kept} of ${seg.read}; ${gate.unqualified} of ${gate.sampled} sampled unqualified (${(100 * gate.share).toFixed(3)}%, limit ${(100 * gate.limit).toFixed(3)}%) → ${gate.pass ? 'PASS' : 'fail'}; ${seg.run} segment(s) run, ${seg.reused} reused`);
    writeLoopFiles(outDir, recipe, steps, iterations, gate.pass ? 'the gate passed' : 'running');
    if (gate.pass) { stopped = 'the gate passed'; break; }
    const failing = (Object.keys(gate.metrics) as MetricName[]).filter((m) => gate.metrics[m].failed > 0);
    changes = tighten(steps, failing);
    if (changes.length === 0) { stopped = `no setting left to tighten for ${failing.join(', ')}`; break; }
    for (const c of changes) log(`  tighten ${c}`);
    if (i === max - 1) stopped = `the iteration limit (${max}) was reached`;
  }
  writeLoopFiles(outDir, recipe, steps, iterations, stopped);
  const last = iterations[iterations.length - 1]!;
  return { passed: last.gate.pass, stopped, iterations, recipe: steps, final: last.output };
}

function writeLoopFiles(outDir: string, recipe: Recipe, steps: StepConfig[], iterations: Iteration[], stopped: string): void {
  const put = (f: string, text: string) => {
    writeFileSync(f + '.tmp', text);
    renameSync(f + '.tmp', f);
  };
  put(join(outDir, 'gate.json'), JSON.stringify({ recipe: recipe.name, stopped, iterations }, null, 1) + '\n');
  put(join(outDir, 'gate.html'), loopHtml(recipe.name, iterations, stopped));
  put(join(outDir, 'recipe.tightened.yaml'), `# ${recipe.name} with the settings the gate loop arrived at\n` + stringify({ steps }));
}
