/**
 * `ziya laws run RECIPE`: the data-centric scaling experiment of Ziya2 §7 at CPU scale. A base
 * checkpoint is continually pre-trained on each data slice separately (no mixing, as the paper
 * does); at each checkpoint volume V the test loss on every task's text is recorded; each
 * slice's attributes are measured (CH and RA by the estimator, calibrated on human labels when
 * the recipe gives them; SIM per task by the embedder). The (CH, RA, SIM, V, loss) points are
 * fitted with the Ziya2 law, and held-out mixtures that were really trained check the law's
 * predictions. Everything goes to laws.json and laws.html in the output folder.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadModel } from '../model/load.js';
import { loadTokenizer } from '../tokenizer/load.js';
import type { Llama } from '../model/llama.js';
import type { SentencePieceBPE } from '../tokenizer/bpe.js';
import { AdamW, clipGradNorm, cosineLr } from '../train/optim.js';
import { backprop } from '../tensor/ops.js';
import { discardTape, noGrad } from '../tensor/tensor.js';
import { rng } from '../core/hash.js';
import { crossValidate, docFeatures, heuristicProblems, HashedTfidfEmbedder, OpenAIEmbedder, predictLogistic, similarity, trainLogistic, type Agreement, type Embedder } from './attributes.js';
import { fitZiya2, type FitResult, type Ziya2Point } from './fit.js';
import { predictMixture, recommend, type Recommendation, type Source } from './mixture.js';
import { lawsHtml } from './report.js';

const TextSource = z.object({
  path: z.string(),
  format: z.enum(['lines', 'jsonl', 'paragraphs']).default('lines'),
  textKey: z.string().default('text'),
  minChars: z.number().int().min(0).default(100),
  documents: z.number().int().positive().default(2000),
}).strict();

export const LawsRecipeSchema = z.object({
  name: z.string().default('laws'),
  base: z.object({
    model: z.string(),
    tokenizer: z.string(),
    /**
     * checkpoint: continual pre-training of the checkpoint's weights (Ziya2's setting); scratch: the
     * checkpoint's shape with fresh random weights (seeded), so that every slice lowers the loss
     */
    init: z.enum(['checkpoint', 'scratch']).default('checkpoint'),
  }).strict(),
  seed: z.number().int().default(1),
  train: z.object({
    batch: z.number().int().positive().default(8),
    seqLen: z.number().int().positive().default(128),
    lr: z.number().positive().default(5e-4),
    /** steps at which the test loss is recorded (0 = the base model) */
    checkpoints: z.array(z.number().int().min(0)).min(3),
    /**
     * steps of training on an equal mixture of all slices before the experiment: the runs then
     * start from a model that has seen the domain, whose loss moves by tenths of a nat, the regime
     * of Ziya2's law (its D^-alpha term can only move the loss within (E, E + 1])
     */
    warmup: z.number().int().min(0).default(0),
  }).strict(),
  slices: z.array(z.object({
    name: z.string(),
    source: TextSource.optional(),
    /** a corrupted copy of another slice: glue in sentences of other documents (coherence) or strip punctuation and case (readability) */
    from: z.string().optional(),
    corrupt: z.object({ coherence: z.number().min(0).max(1).default(0), readability: z.number().min(0).max(1).default(0) }).strict().optional(),
  }).strict()).min(2),
  tasks: z.array(z.object({ name: z.string(), source: TextSource }).strict()).min(1),
  attributes: z.object({
    /** human labels (the web app's JSONL export) and the sample they were made on (annotation/sample.json) */
    labels: z.string().optional(),
    sample: z.string().optional(),
    embedder: z.union([z.literal('hashed'), z.object({ url: z.string(), model: z.string() }).strict()]).default('hashed'),
    /** centroid: cosine of the mean vectors (default; informative for sparse hashed vectors); pairwise: Ziya2's mean pairwise cosine */
    similarity: z.enum(['centroid', 'pairwise']).default('centroid'),
    documents: z.number().int().positive().default(300),
  }).strict().default({ embedder: 'hashed', similarity: 'centroid', documents: 300 }),
  heldoutMixtures: z.array(z.object({ name: z.string(), weights: z.record(z.string(), z.number().min(0)) }).strict()).default([]),
  bootstrap: z.number().int().min(0).default(200),
  /** scale of the F grid (Ziya2's 1e12 is for 1e11-token volumes); default: the power of ten nearest the largest volume */
  fScale: z.number().positive().optional(),
  gridStride: z.number().int().min(1).default(1),
}).strict();
export type LawsRecipe = z.output<typeof LawsRecipeSchema> & { baseDir: string };

export class LawsError extends Error {}

export function loadLawsRecipe(path: string): LawsRecipe {
  const raw = parseYaml(readFileSync(path, 'utf8')) as unknown;
  const r = LawsRecipeSchema.safeParse(raw);
  if (!r.success) throw new LawsError(r.error.issues.map((i) => `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n'));
  const names = new Set(r.data.slices.map((s) => s.name));
  for (const s of r.data.slices) {
    if (!s.source && !s.from) throw new LawsError(`${path}: slice ${s.name} needs a source or from`);
    if (s.from && !names.has(s.from)) throw new LawsError(`${path}: slice ${s.name}: from ${s.from} names no slice`);
  }
  for (const m of r.data.heldoutMixtures) for (const k of Object.keys(m.weights)) if (!names.has(k)) throw new LawsError(`${path}: mixture ${m.name}: ${k} names no slice`);
  return { ...r.data, baseDir: process.cwd() };
}

function readTexts(src: z.output<typeof TextSource>, baseDir: string): string[] {
  const p = resolve(baseDir, src.path);
  if (!existsSync(p)) throw new LawsError(`${p}: no such file`);
  const raw = readFileSync(p);
  const s = (p.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  let docs: string[];
  if (src.format === 'jsonl') docs = s.split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      const v = (JSON.parse(l) as Record<string, unknown>)[src.textKey];
      return typeof v === 'string' ? v : '';
    } catch {
      throw new LawsError(`${p}:${i + 1}: malformed JSON`);
    }
  });
  else if (src.format === 'paragraphs') docs = s.split(/\n\s*\n/);
  else docs = s.split('\n');
  return docs.map((d) => d.trim()).filter((d) => d.length >= src.minChars).slice(0, src.documents);
}

/** deterministic corruption: other documents' sentences glued in, or punctuation and case stripped */
function corrupt(docs: string[], c: { coherence: number; readability: number }, seed: number): string[] {
  const r = rng(seed);
  const pool = docs.flatMap((d) => d.split(/(?<=[.!?])\s+/)).filter((x) => x.length > 20);
  return docs.map((d) => {
    let sents = d.split(/(?<=[.!?])\s+/);
    if (c.coherence > 0) sents = sents.flatMap((x) => (r() < c.coherence ? [x, pool[Math.floor(r() * pool.length)]!] : [x]));
    let t = sents.join(' ');
    if (c.readability > 0) t = t.split(' ').map((w) => (r() < c.readability ? w.replace(/[.,;:!?'"]/g, '').toLowerCase() : w)).join(' ');
    return t;
  });
}

interface Slice {
  name: string;
  docs: string[];
  tokens: number[];
  CH: number;
  RA: number;
  SIM: Record<string, number>;
}

function tokenStream(tok: SentencePieceBPE, docs: string[]): number[] {
  const out: number[] = [];
  for (const d of docs) out.push(tok.vocab.bosId, ...tok.encode(d), tok.vocab.eosId);
  return out;
}

/** mean next-token loss (nats) over the task's text, in windows of seqLen */
function testLoss(model: Llama, rows: Int32Array[], batch: number): number {
  let sum = 0, n = 0;
  for (let i = 0; i < rows.length; i += batch) {
    const part = rows.slice(i, i + batch);
    const T = part[0]!.length - 1;
    const ids = new Int32Array(part.length * T), targets = new Int32Array(part.length * T);
    part.forEach((r, b) => {
      ids.set(r.subarray(0, T), b * T);
      targets.set(r.subarray(1), b * T);
    });
    const { rowLoss, count } = noGrad(() => model.loss({ ids, B: part.length, T }, targets));
    for (const x of rowLoss) sum += x;
    n += count;
  }
  discardTape();
  return sum / n;
}

function windows(stream: number[], len: number, max: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i + len <= stream.length && out.length < max; i += len) out.push(Int32Array.from(stream.slice(i, i + len)));
  return out;
}

/** continual pre-training on a token stream (or a mixture of streams by weight), with the test losses at each checkpoint */
function trainSlice(base: () => Llama, streams: { tokens: number[]; weight: number }[], r: LawsRecipe, tasks: { name: string; rows: Int32Array[] }[], seed: number, log: (m: string) => void, label: string): { curve: { step: number; V: number; loss: Record<string, number> }[]; model: Llama } {
  const model = base();
  const { batch, seqLen, lr } = r.train;
  const last = Math.max(...r.train.checkpoints);
  const opt = new AdamW(model.params, { lr, betas: [0.9, 0.95], weightDecay: 0.1 });
  const rand = rng(seed);
  const total = streams.reduce((a, s) => a + s.weight, 0);
  const out: { step: number; V: number; loss: Record<string, number> }[] = [];
  const record = (step: number) => out.push({ step, V: step * batch * seqLen, loss: Object.fromEntries(tasks.map((t) => [t.name, testLoss(model, t.rows, 16)])) });
  const t0 = performance.now();
  for (let step = 0; step <= last; step++) {
    if (r.train.checkpoints.includes(step)) record(step);
    if (step === last) break;
    const ids = new Int32Array(batch * seqLen), targets = new Int32Array(batch * seqLen);
    for (let b = 0; b < batch; b++) {
      let u = rand() * total, si = 0;
      while (si < streams.length - 1 && u > streams[si]!.weight) u -= streams[si++]!.weight;
      const s = streams[si]!.tokens;
      const off = Math.floor(rand() * Math.max(1, s.length - seqLen - 1));
      for (let t = 0; t < seqLen; t++) {
        ids[b * seqLen + t] = s[off + t]!;
        targets[b * seqLen + t] = s[off + t + 1]!;
      }
    }
    model.zeroGrad();
    const { loss } = model.loss({ ids, B: batch, T: seqLen }, targets);
    backprop(loss);
    clipGradNorm(model.params.values(), 1);
    opt.update(cosineLr(step, { maxLr: lr, minLr: lr / 10, warmupSteps: Math.max(1, Math.round(last * 0.01)), totalSteps: last }));
  }
  log(`${label}: ${last} steps (${(last * batch * seqLen).toLocaleString('en-US')} tokens) in ${((performance.now() - t0) / 1000).toFixed(1)} s; test loss ${JSON.stringify(Object.fromEntries(Object.entries(out[out.length - 1]!.loss).map(([k, v]) => [k, Number(v.toFixed(4))])))}`);
  return { curve: out, model };
}

export interface LawsResult {
  recipe: string;
  calibration: { calibrated: boolean; coherence?: Agreement; readability?: Agreement; note: string };
  embedder: string;
  slices: { name: string; documents: number; tokens: number; CH: number; RA: number; SIM: Record<string, number> }[];
  points: (Ziya2Point & { slice: string; task: string; step: number })[];
  /** all tasks together, as Ziya2 fits its 84 points */
  fit: FitResult;
  /** one law per task (test losses of different tasks sit at different levels) */
  perTask: Record<string, FitResult>;
  fScale: number;
  heldout: { name: string; weights: Record<string, number>; task: string; V: number; observed: number; predicted: number; error: number }[];
  recommendation: (Recommendation & { task: string; budget: number }) | null;
  seconds: number;
}

export async function runLaws(r: LawsRecipe, out: string, log: (m: string) => void = (m) => process.stderr.write(m + '\n')): Promise<LawsResult> {
  const t0 = performance.now();
  mkdirSync(out, { recursive: true });
  const tok = loadTokenizer(resolve(r.baseDir, r.base.tokenizer));
  const { Llama } = await import('../model/llama.js');
  const loaded = loadModel(resolve(r.baseDir, r.base.model)).model;
  const baseModel = r.base.init === 'scratch' ? Llama.init(loaded.config, r.seed) : loaded;
  const weights = baseModel.weights();
  const base = () => new Llama(baseModel.config, new Map([...weights].map(([k, v]) => [k, v.slice()])), 'base');
  // tasks: test text in windows of seqLen + 1
  const tasks = r.tasks.map((t) => {
    const docs = readTexts(t.source, r.baseDir);
    return { name: t.name, docs, rows: windows(tokenStream(tok, docs), r.train.seqLen + 1, 64) };
  });
  for (const t of tasks) if (t.rows.length < 4) throw new LawsError(`task ${t.name}: its text gives only ${t.rows.length} windows of ${r.train.seqLen + 1} tokens`);
  // slices
  const byName = new Map<string, string[]>();
  for (const s of r.slices) if (s.source) byName.set(s.name, readTexts(s.source, r.baseDir));
  for (const [i, s] of r.slices.entries()) if (s.from) byName.set(s.name, corrupt(byName.get(s.from)!, { coherence: s.corrupt?.coherence ?? 0, readability: s.corrupt?.readability ?? 0 }, r.seed + i));
  // attribute estimator: calibrated on human labels when given
  let calib: LawsResult['calibration'] = { calibrated: false, note: 'no human labels given: CH and RA come from the uncalibrated heuristic on document features' };
  let models: { coherence: ReturnType<typeof trainLogistic>; readability: ReturnType<typeof trainLogistic> } | null = null;
  if (r.attributes.labels && r.attributes.sample) {
    const sample = JSON.parse(readFileSync(resolve(r.baseDir, r.attributes.sample), 'utf8')) as { docs: { id: string; text: string; language: string }[] };
    const labels = readFileSync(resolve(r.baseDir, r.attributes.labels), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { docId: string; coherence: boolean; readability: boolean });
    const byId = new Map<string, { c: number; r: number; n: number }>();
    for (const l of labels) {
      const e = byId.get(l.docId) ?? { c: 0, r: 0, n: 0 };
      e.c += l.coherence ? 1 : 0;
      e.r += l.readability ? 1 : 0;
      e.n++;
      byId.set(l.docId, e);
    }
    const docs = sample.docs.filter((d) => byId.has(d.id));
    if (docs.length < 20) throw new LawsError(`${r.attributes.labels}: ${docs.length} labelled documents; calibrating the estimator needs at least 20`);
    const X = docs.map((d) => docFeatures(d.text, d.language || 'en'));
    const yc = docs.map((d) => byId.get(d.id)!.c * 2 > byId.get(d.id)!.n), yr = docs.map((d) => byId.get(d.id)!.r * 2 > byId.get(d.id)!.n);
    models = { coherence: trainLogistic(X, yc), readability: trainLogistic(X, yr) };
    calib = { calibrated: true, coherence: crossValidate(X, yc), readability: crossValidate(X, yr), note: `logistic regression on ${docs.length} documents labelled by people` };
  }
  const embedder: Embedder = r.attributes.embedder === 'hashed' ? new HashedTfidfEmbedder() : new OpenAIEmbedder(r.attributes.embedder.url, r.attributes.embedder.model, process.env['OPENAI_API_KEY']);
  const slices: Slice[] = [];
  for (const s of r.slices) {
    const docs = byName.get(s.name)!;
    if (docs.length < 5) throw new LawsError(`slice ${s.name}: ${docs.length} documents after the length filter; at least 5 are needed`);
    const sample = docs.slice(0, r.attributes.documents);
    const problems = sample.map((d) => {
      const x = docFeatures(d, /[\u4e00-\u9fff]/.test(d) ? 'zh' : 'en');
      return models ? { coherence: predictLogistic(models.coherence, x) > 0.5, readability: predictLogistic(models.readability, x) > 0.5 } : heuristicProblems(x);
    });
    const SIM: Record<string, number> = {};
    for (const t of tasks) SIM[t.name] = await similarity(embedder, sample, t.docs.slice(0, r.attributes.documents), r.attributes.similarity);
    slices.push({ name: s.name, docs, tokens: tokenStream(tok, docs), CH: problems.filter((p) => !p.coherence).length / sample.length, RA: problems.filter((p) => !p.readability).length / sample.length, SIM });
    log(`slice ${s.name}: ${docs.length} documents, ${slices[slices.length - 1]!.tokens.length.toLocaleString('en-US')} tokens; CH ${slices[slices.length - 1]!.CH.toFixed(3)}, RA ${slices[slices.length - 1]!.RA.toFixed(3)}, SIM ${JSON.stringify(Object.fromEntries(Object.entries(SIM).map(([k, v]) => [k, Number(v.toFixed(3))])))}`);
  }
  // optional warm-up on all slices together: the starting model of every run
  let start = base;
  if (r.train.warmup > 0) {
    const warmed = trainSlice(base, slices.map((s) => ({ tokens: s.tokens, weight: 1 })), { ...r, train: { ...r.train, checkpoints: [r.train.warmup] } }, tasks, r.seed * 31, log, 'warm-up on all slices').model;
    const w = warmed.weights();
    start = () => new Llama(warmed.config, new Map([...w].map(([k, v]) => [k, v.slice()])), 'warmed');
  }
  // one continual pre-training run per slice
  const points: LawsResult['points'] = [];
  for (const [i, s] of slices.entries()) {
    const { curve } = trainSlice(start, [{ tokens: s.tokens, weight: 1 }], r, tasks, r.seed * 1000 + i, log, `slice ${s.name}`);
    for (const c of curve) for (const t of tasks) points.push({ slice: s.name, task: t.name, step: c.step, CH: s.CH, RA: s.RA, SIM: s.SIM[t.name]!, V: c.V, L: c.loss[t.name]! });
  }
  writeAtomic(join(out, 'points.jsonl'), points.map((p) => JSON.stringify(p)).join('\n') + '\n');
  // the F grid follows the experiment's volumes (Ziya2's 10^12 is for 10^11-token volumes)
  const maxV = Math.max(...points.map((p) => p.V));
  const fScale = r.fScale ?? 10 ** Math.round(Math.log10(Math.max(1, maxV)));
  log(`fitting the Ziya2 law to ${points.length} points, all tasks and each task (grid of ${Math.ceil(32768 / r.gridStride)} starts, F grid x ${fScale.toExponential(0)}, ${r.bootstrap} bootstrap resamples)`);
  const fit = fitZiya2(points, { bootstrap: r.bootstrap, seed: r.seed, gridStride: r.gridStride, fScale });
  const perTask: Record<string, FitResult> = {};
  for (const t of tasks) perTask[t.name] = fitZiya2(points.filter((p) => p.task === t.name), { bootstrap: r.bootstrap, seed: r.seed, gridStride: r.gridStride, fScale });
  // held-out mixtures, really trained, against the law's prediction
  const heldout: LawsResult['heldout'] = [];
  for (const [mi, m] of r.heldoutMixtures.entries()) {
    const parts = Object.entries(m.weights).filter(([, w]) => w > 0).map(([k, w]) => ({ s: slices.find((x) => x.name === k)!, w }));
    const { curve } = trainSlice(start, parts.map((p) => ({ tokens: p.s.tokens, weight: p.w })), r, tasks, r.seed * 7919 + mi, log, `mixture ${m.name}`);
    const lastC = curve[curve.length - 1]!;
    const W = parts.reduce((a, p) => a + p.w, 0);
    for (const t of tasks) {
      const sources: Source[] = parts.map((p) => ({ name: p.s.name, CH: p.s.CH, RA: p.s.RA, SIM: p.s.SIM[t.name]!, tokens: p.s.tokens.length }));
      const predicted = predictMixture(perTask[t.name]!.constants as never, sources, parts.map((p) => (lastC.V * p.w) / W));
      heldout.push({ name: m.name, weights: m.weights, task: t.name, V: lastC.V, observed: lastC.loss[t.name]!, predicted, error: Math.abs(predicted - lastC.loss[t.name]!) / lastC.loss[t.name]! });
    }
  }
  // the recommender on the first task, for the largest checkpoint's volume
  const task0 = tasks[0]!.name;
  const budget = Math.max(...r.train.checkpoints) * r.train.batch * r.train.seqLen;
  let recommendation: LawsResult['recommendation'] = null;
  try {
    recommendation = { ...recommend(perTask[task0]!.constants as never, slices.map((s) => ({ name: s.name, CH: s.CH, RA: s.RA, SIM: s.SIM[task0]!, tokens: s.tokens.length })), budget), task: task0, budget };
  } catch (e) {
    log(`no recommendation: ${(e as Error).message}`);
  }
  const res: LawsResult = {
    recipe: r.name,
    calibration: calib,
    embedder: embedder.name,
    slices: slices.map((s) => ({ name: s.name, documents: s.docs.length, tokens: s.tokens.length, CH: s.CH, RA: s.RA, SIM: s.SIM })),
    points, fit, perTask, fScale, heldout, recommendation,
    seconds: (performance.now() - t0) / 1000,
  };
  writeAtomic(join(out, 'laws.json'), JSON.stringify(res, null, 1) + '\n');
  writeAtomic(join(out, 'laws.html'), lawsHtml(res));
  return res;
}

function writeAtomic(f: string, text: string): void {
  writeFileSync(f + '.tmp', text);
  renameSync(f + '.tmp', f);
}
