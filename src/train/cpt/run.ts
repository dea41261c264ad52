/**
 * `ziya cpt run RECIPE`: continual pre-training in stages, resumable at every level (a finished
 * stage is skipped, a stage killed midway resumes from its last checkpoint). Base model and
 * tokenizer → optional vocabulary extension (new rows = mean of the rows that spelled them) →
 * held-out loss per domain → for each stage: its mixture, training, held-out loss, the stage's
 * model saved as a Hugging Face folder → report.json and report.md.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../../io/writers.js';
import { loadTokenizer } from '../../tokenizer/load.js';
import type { SentencePieceBPE } from '../../tokenizer/bpe.js';
import { runExtend } from '../../tokenizer/extend-run.js';
import { loadModel, saveModel } from '../../model/load.js';
import { extendModelVocab } from '../../model/extend.js';
import { Llama } from '../../model/llama.js';
import { noGrad, discardTape } from '../../tensor/tensor.js';
import { IGNORE, stackRows, type TrainRow } from '../../data/packing.js';
import { RecipeError } from '../../factory/recipe.js';
import { Trainer } from '../trainer.js';
import { buildStageData, records, type StageData } from './data.js';
import { resolveIn, type CptRecipe } from './recipe.js';

export interface HeldoutSet {
  name: string;
  rows: TrainRow[];
  tokens: number;
}

/** held-out windows of seqLen + 1 tokens over the documents joined with </s> */
export async function buildHeldout(r: CptRecipe, tok: SentencePieceBPE): Promise<HeldoutSet[]> {
  const out: HeldoutSet[] = [];
  for (const h of r.heldout) {
    const stream: number[] = [];
    for await (const { text } of records(r, h.path, h.textKey, h.documents, h.skip, h.lines)) stream.push(...tok.encode(text, { bos: true }), tok.vocab.eosId);
    const T = r.seqLen, rows: TrainRow[] = [];
    for (let s = 0; s + T + 1 <= stream.length; s += T) {
      const w = stream.slice(s, s + T + 1);
      rows.push({ ids: Int32Array.from(w.slice(0, T)), targets: Int32Array.from(w.slice(1)), pos: Int32Array.from({ length: T }, (_, i) => i), doc: new Int32Array(T), keyMask: new Uint8Array(T).fill(1) });
    }
    if (!rows.length) throw new RecipeError(`${r.file}: heldout ${h.name}: fewer than ${T + 1} tokens`);
    out.push({ name: h.name, rows, tokens: rows.length * T });
  }
  return out;
}

export function heldoutLoss(model: Llama, sets: HeldoutSet[], batch: number): Record<string, number> {
  const res: Record<string, number> = {};
  for (const s of sets) {
    let sum = 0, n = 0;
    for (let i = 0; i < s.rows.length; i += batch) {
      const b = stackRows(s.rows.slice(i, i + batch));
      const { rowLoss, count } = noGrad(() => model.loss(b, b.targets));
      discardTape();
      for (let k = 0; k < rowLoss.length; k++) if (b.targets[k] !== IGNORE) sum += rowLoss[k]!;
      n += count;
    }
    res[s.name] = n ? sum / n : NaN;
  }
  return res;
}

export interface CptReport {
  recipe: string;
  noReplay: boolean;
  tokenizer: { path: string; size: number; added: number };
  model: { parameters: number; vocabSize: number };
  heldout: { name: string; tokens: number }[];
  stages: { name: string; steps: number; tokens: number; seconds: number; firstLoss: number; lastLoss: number; heldout: Record<string, number>; usage: StageData['usage'] }[];
  base: Record<string, number>;
  seconds: number;
}

export async function runCpt(r: CptRecipe, opts: { out: string; noReplay?: boolean; quiet?: boolean }): Promise<CptReport> {
  const t0 = performance.now();
  const out = opts.out;
  mkdirSync(out, { recursive: true });
  const log = (s: string) => { if (!opts.quiet) process.stderr.write(s + '\n'); };
  // tokenizer, extended when the recipe asks
  let tokPath = resolveIn(r, r.base.tokenizer);
  let newTokens: { id: number; from: number[] }[] = [];
  if (r.extendTokenizer) {
    const dir = join(out, 'tokenizer');
    if (!existsSync(join(dir, 'extension.json'))) {
      log(`extending the tokenizer with up to ${r.extendTokenizer.count} Chinese characters …`);
      const { summary } = await runExtend({ model: tokPath, corpus: r.extendTokenizer.corpus.map((p) => resolveIn(r, p)), out: dir, count: r.extendTokenizer.count, minCount: r.extendTokenizer.minCount });
      log(summary);
    }
    newTokens = (JSON.parse(readFileSync(join(dir, 'extension.json'), 'utf8')) as { newTokens: { id: number; from: number[] }[] }).newTokens;
    tokPath = join(dir, 'tokenizer.model');
  }
  const tok = loadTokenizer(tokPath);
  let { model } = loadModel(resolveIn(r, r.base.model));
  if (newTokens.length) model = extendModelVocab(model, newTokens);
  if (tok.vocab.pieces.length > model.config.vocabSize) throw new RecipeError(`${r.file}: the tokenizer has ${tok.vocab.pieces.length} pieces but the model's vocabulary is ${model.config.vocabSize}: they do not belong together`);
  if (r.seqLen > model.config.maxSeqLen) throw new RecipeError(`${r.file}: seqLen ${r.seqLen} exceeds the model's max_seq_len ${model.config.maxSeqLen}`);
  const heldout = await buildHeldout(r, tok);
  const base = heldoutLoss(model, heldout, r.batch);
  log(`held-out loss of the starting model: ${JSON.stringify(base)}`);
  const report: CptReport = {
    recipe: r.file,
    noReplay: !!opts.noReplay,
    tokenizer: { path: tokPath, size: tok.vocab.pieces.length, added: newTokens.length },
    model: { parameters: [...model.params.values()].reduce((a, t) => a + t.size, 0), vocabSize: model.config.vocabSize },
    heldout: heldout.map((h) => ({ name: h.name, tokens: h.tokens })),
    stages: [],
    base,
    seconds: 0,
  };
  const built = new Map<string, StageData>();
  const recipeHash = createHash('sha256').update(readFileSync(r.file)).digest('hex').slice(0, 16);
  for (const [i, stage] of r.stages.entries()) {
    const dir = join(out, 'stages', stage.name);
    mkdirSync(dir, { recursive: true });
    const data = await buildStageData(r, i, tok, join(out, 'data'), built, { noReplay: opts.noReplay });
    const doneFile = join(dir, 'done.json');
    if (existsSync(doneFile)) {
      const done = JSON.parse(readFileSync(doneFile, 'utf8')) as CptReport['stages'][number];
      model = loadModel(join(dir, 'model')).model;
      report.stages.push(done);
      log(`stage ${stage.name}: already done (held-out ${JSON.stringify(done.heldout)})`);
      continue;
    }
    for (const u of data.usage) if (u.epochs > 1) log(`stage ${stage.name}: ${u.name} is repeated ${u.epochs.toFixed(2)} times to fill its share`);
    const ts = performance.now();
    const maxLr = stage.lr ?? r.optimizer.lr;
    const trainer = new Trainer(model, data.source(), {
      steps: data.steps,
      accumulate: data.accumulate,
      spike: r.spikeGuard,
      schedule: { maxLr, minLr: r.optimizer.minLr, warmupSteps: Math.max(1, Math.ceil(r.optimizer.warmup * data.steps)), totalSteps: data.steps },
      clip: r.optimizer.clip,
      betas: r.optimizer.betas,
      weightDecay: r.optimizer.weightDecay,
      precision: r.precision,
      checkpointDir: join(dir, 'checkpoints'),
      checkpointEvery: r.checkpointEvery,
      metricsPath: join(dir, 'metrics.jsonl'),
      monitorPath: join(dir, 'monitor.html'),
      evaluate: (m) => heldoutLoss(m, heldout, r.batch),
      evalEvery: r.evalEvery,
      label: `stage ${stage.name}`,
      quiet: opts.quiet,
      fingerprint: `${recipeHash}:${stage.name}:${opts.noReplay ? 'no-replay' : 'replay'}`,
    });
    const res = trainer.run();
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss?: number }).filter((m) => m.loss !== undefined);
    const ho = heldoutLoss(model, heldout, r.batch);
    saveModel(model, join(dir, 'model'), { format: 'hf' });
    const done = { name: stage.name, steps: res.steps, tokens: res.steps * r.batch * r.accumulate * r.seqLen, seconds: (performance.now() - ts) / 1000, firstLoss: metrics[0]?.loss ?? NaN, lastLoss: metrics[metrics.length - 1]?.loss ?? NaN, heldout: ho, usage: data.usage };
    writeFileAtomic(doneFile, JSON.stringify(done, null, 1));
    report.stages.push(done);
    log(`stage ${stage.name}: ${res.steps} steps, train loss ${done.firstLoss.toFixed(3)} → ${done.lastLoss.toFixed(3)}, held-out ${JSON.stringify(ho)}`);
  }
  report.seconds = (performance.now() - t0) / 1000;
  writeFileAtomic(join(out, 'report.json'), JSON.stringify(report, null, 1));
  writeFileAtomic(join(out, 'report.md'), reportMarkdown(report));
  return report;
}

export function reportMarkdown(rep: CptReport): string {
  const names = rep.heldout.map((h) => h.name);
  const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(3));
  const lines = [
    `# Continual pre-training: ${rep.recipe}${rep.noReplay ? ' (no replay)' : ''}`,
    '',
    `Tokenizer ${rep.tokenizer.size} pieces (${rep.tokenizer.added} added); model ${rep.model.parameters.toLocaleString('en-US')} parameters, vocabulary ${rep.model.vocabSize}.`,
    '',
    `| after | steps | tokens | time (s) | train loss | ${names.map((n) => `held-out ${n}`).join(' | ')} |`,
    `|---|---|---|---|---|${names.map(() => '---').join('|')}|`,
    `| start | | | | | ${names.map((n) => fmt(rep.base[n])).join(' | ')} |`,
    ...rep.stages.map((s) => `| ${s.name} | ${s.steps} | ${s.tokens.toLocaleString('en-US')} | ${s.seconds.toFixed(0)} | ${fmt(s.firstLoss)} → ${fmt(s.lastLoss)} | ${names.map((n) => fmt(s.heldout[n])).join(' | ')} |`),
    '',
    `Total ${rep.seconds.toFixed(0)} s.`,
  ];
  return lines.join('\n') + '\n';
}
