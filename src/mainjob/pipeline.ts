/**
 * The main job: Ziya2's recipe end to end on the embedded default, at CPU scale.
 *
 *   input → reference n-gram models → data factory with the evaluation gate (five stages)
 *   → data: training/held-out text by language, supervised and math data, small benchmarks
 *   → base tokenizer (BPE trained on the English part) and base model (a LLaMA trained from
 *     scratch on the English part: the stand-in for LLaMA-2)
 *   → tokenizer extension with Chinese characters → three-stage continual pre-training with
 *     replay → evaluation after every stage → report.html
 *
 * Every phase leaves its output in OUT and is skipped or resumed when the job runs again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { writeDemoInput } from '../demo/corpus.js';
import { parseRecipe } from '../factory/recipe.js';
import { runUntilPass, type LoopResult } from '../dataeval/loop.js';
import { buildMainData, type MainData } from './data.js';
import { trainBpe } from '../tokenizer/train.js';
import { writeSpmModel } from '../tokenizer/formats/spm.js';
import { Llama } from '../model/llama.js';
import { defaultConfig } from '../model/config.js';
import { saveModel } from '../model/load.js';
import { loadCptRecipe } from '../train/cpt/recipe.js';
import { stringify } from 'yaml';
import { runCpt, type CptReport } from '../train/cpt/run.js';
import { openEngineLM } from '../eval/models/engine.js';
import { CachingLM, ResultCache } from '../eval/cache.js';
import { evaluate, type TaskResult } from '../eval/runner.js';
import { appendTrack } from '../eval/report.js';
import { gsm8kTask } from '../eval/tasks/gsm8k.js';
import { choiceTask } from '../eval/tasks/choice.js';
import { stageAttributes, type StageAttributes } from './attributes.js';
import { mainReportHtml } from './report.js';
import { trainReferenceModels } from './reference.js';

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface MainJobOptions {
  out: string;
  /** a smaller run (CI): fewer tokens everywhere */
  quick?: boolean;
  force?: boolean;
  log?: (m: string) => void;
}

export interface PhaseTime {
  phase: string;
  seconds: number;
  resumed: boolean;
}

export interface MainJobResult {
  report: string;
  phases: PhaseTime[];
  seconds: number;
  factory: LoopResult;
  data: MainData['counts'];
  base: CptReport;
  cpt: CptReport;
  evals: { stage: string; results: TaskResult[] }[];
  attributes: StageAttributes[];
}

/** the generated recipe is written next to its run, then loaded like any other (so it can be read and rerun) */
function writeRecipe(file: string, comment: string, raw: unknown) {
  writeFileSync(file, `${comment}\n${stringify(raw)}`);
  return loadCptRecipe(file);
}

export async function runMainJob(o: MainJobOptions): Promise<MainJobResult> {
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const phases: PhaseTime[] = [];
  const N = 8;
  const phase = async <T>(k: number, name: string, done: boolean, fn: () => Promise<T>): Promise<T> => {
    log(`[${k}/${N}] ${name}${done ? ' (finished before: checking)' : ''}`);
    const ts = performance.now();
    const v = await fn();
    phases.push({ phase: name, seconds: (performance.now() - ts) / 1000, resumed: done });
    log(`      ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    return v;
  };
  const q = o.quick ? 0.15 : 1;

  // 1-2: the embedded default input and the reference n-gram models (scoring stage)
  const input = join(out, 'input');
  await phase(1, 'embedded default input and reference n-gram models', existsSync(join(input, '.done')), async () => {
    if (!existsSync(join(input, '.done'))) {
      const demo = await writeDemoInput(input);
      log(`      ${demo.documents} documents, ${(demo.bytes / 1e6).toFixed(1)} MB (State of the Union addresses, Chinese classics, web pages, noise, broken records)`);
      writeFileSync(join(input, '.done'), '');
    }
    return trainReferenceModels(join(out, 'lm'), log);
  });
  const models = { en: join(out, 'lm', 'en.bin'), zh: join(out, 'lm', 'zh.bin') };

  // 3: the data factory with the evaluation gate and its loop
  const factory = await phase(2, 'data factory: preprocessing, scoring, filtering, de-duplication, evaluation gate', existsSync(join(out, 'factory', 'gate.json')), async () => {
    const file = join(pkgRoot, 'recipes', 'default.yaml');
    const raw = parseYaml(readFileSync(file, 'utf8')) as { input: { paths: string[] }; output: { dir: string }; steps: { type: string; models?: Record<string, string> }[] };
    raw.input.paths = [input];
    raw.output.dir = join(out, 'factory');
    for (const st of raw.steps) if (st.type === 'ppl_buckets') st.models = models;
    return runUntilPass(parseRecipe(raw, file, out), { log, quiet: true, minSample: 500 });
  });

  // 4: data for training and evaluation
  const data = await phase(3, 'training, held-out and task data from the factory output', false, () => buildMainData(factory.final, join(out, 'data')));
  log(`      English ${data.counts.enTrain} + ${data.counts.enHeldout} held out, Chinese ${data.counts.zhTrain} + ${data.counts.zhHeldout}; supervised ${data.counts.sftZh} zh + ${data.counts.sftEn} en pairs; ${data.counts.mathTrain} math problems`);

  // 5: base tokenizer and base model, trained from scratch on the English part
  const baseDir = join(out, 'base');
  const tokPath = join(baseDir, 'tokenizer.model');
  const base = await phase(4, 'base tokenizer (BPE on the English part) and base model (LLaMA trained from scratch on it)', existsSync(join(baseDir, 'report.json')), async () => {
    mkdirSync(baseDir, { recursive: true });
    if (!existsSync(tokPath)) {
      const texts = readFileSync(data.files['en-train']!, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text);
      const v = trainBpe(texts, { vocabSize: 1024 });
      writeFileSync(tokPath, writeSpmModel(v));
      log(`      tokenizer: ${v.pieces.length} pieces (BPE, byte fallback)`);
    }
    const init = join(baseDir, 'init.bin');
    if (!existsSync(init)) saveModel(Llama.init(defaultConfig({ dim: 96, nLayers: 4, nHeads: 4, nKvHeads: 2, vocabSize: 1024, maxSeqLen: 256 }), 1), init, { format: 'llama2c' });
    const recipe = writeRecipe(join(baseDir, 'recipe.yaml'), '# written by the main job: pre-training of the base model from scratch on the English part', {
      name: 'base-pretraining', base: { model: init, tokenizer: tokPath }, seqLen: 256, batch: 8, seed: 1,
      optimizer: { lr: 0.003, minLr: 0.0001, warmup: 0.02 }, checkpointEvery: 50, evalEvery: 50,
      heldout: [{ name: 'en', path: data.files['en-heldout'], documents: 40 }],
      stages: [{ name: 'pretrain', tokens: Math.round(800_000 * q), sources: [{ name: 'en', path: data.files['en-train'], weight: 1 }] }],
    });
    const rep = await runCpt(recipe, { out: baseDir, quiet: false });
    writeFileSync(join(baseDir, 'report.json'), JSON.stringify(rep, null, 1));
    return rep;
  });

  // 6-7: tokenizer extension and three-stage continual pre-training with replay
  const cptDir = join(out, 'cpt');
  const cpt = await phase(5, 'Chinese vocabulary extension and three-stage continual pre-training with replay', existsSync(join(cptDir, 'report.json')), async () => {
    mkdirSync(cptDir, { recursive: true });
    const recipe = writeRecipe(join(cptDir, 'recipe.yaml'), "# written by the main job: Ziya2's three stages on the embedded default", {
      name: 'main-cpt', base: { model: join(baseDir, 'stages', 'pretrain', 'model'), tokenizer: tokPath },
      extendTokenizer: { corpus: [data.files['zh-train']], count: 1500, minCount: 2 },
      seqLen: 256, batch: 8, seed: 1234,
      optimizer: { lr: 0.002, minLr: 0.00001, warmup: 0.01, betas: [0.9, 0.95], weightDecay: 0.1, clip: 1.0 },
      checkpointEvery: 50, evalEvery: 50,
      heldout: [
        { name: 'zh', path: data.files['zh-heldout'], documents: 40 },
        { name: 'en', path: data.files['en-heldout'], documents: 40 },
        { name: 'math', path: data.files['math-heldout'], documents: 100 },
      ],
      stages: [
        { name: 'general', tokens: Math.round(600_000 * q), sources: [{ name: 'zh', path: data.files['zh-train'], weight: 0.6 }, { name: 'en', path: data.files['en-train'], weight: 0.4 }] },
        {
          name: 'supervised', tokens: Math.round(250_000 * q),
          sources: [
            { name: 'poem-next-line', path: data.files['sft-zh'], task: 'next-line', prompt: '问题：请写出下一句：{first} 回答：', answer: '{second}', weight: 0.3 },
            { name: 'sentence-end', path: data.files['sft-en'], task: 'complete', prompt: 'Question: Finish the sentence: {start} Answer:', answer: ' {end}', weight: 0.2 },
          ],
          replay: { general: 0.5 },
        },
        { name: 'math', tokens: Math.round(150_000 * q), sources: [{ name: 'arithmetic', path: data.files['math-train'], task: 'math', prompt: 'Question: {question}\nAnswer:', answer: ' {answer}', weight: 0.9 }], replay: { general: 0.05, supervised: 0.05 } },
      ],
    });
    const rep = await runCpt(recipe, { out: cptDir, quiet: false });
    writeFileSync(join(cptDir, 'report.json'), JSON.stringify(rep, null, 1));
    return rep;
  });

  // 8: evaluation after every stage (held-out loss comes from the training runs)
  const evals = await phase(6, 'evaluation after each stage: arithmetic, Chinese next line, English sentence end', false, async () => {
    const evalDir = join(out, 'eval');
    mkdirSync(evalDir, { recursive: true });
    const cache = new ResultCache(join(evalDir, 'cache.sqlite'));
    const tasks = [
      gsm8kTask(data.bench.arith, data.bench.arithShots, { shots: 2, maxTokens: 40 }),
      choiceTask('poem-next-line', data.bench.poem, 'choose the next line of a Chinese poem among four (held-out poems)'),
      choiceTask('sentence-end', data.bench.cloze, 'choose the end of an English sentence among four (held-out addresses)'),
    ];
    const stages = [
      { stage: 'base', model: join(baseDir, 'stages', 'pretrain', 'model'), tok: tokPath },
      ...cpt.stages.map((s) => ({ stage: s.name, model: join(cptDir, 'stages', s.name, 'model'), tok: join(cptDir, 'tokenizer', 'tokenizer.model') })),
    ];
    const res: { stage: string; results: TaskResult[] }[] = [];
    try {
      for (const s of stages) {
        const lm = new CachingLM(openEngineLM(s.model, s.tok), cache);
        const results: TaskResult[] = [];
        for (const t of tasks) results.push((await evaluate(t as never, lm)).result);
        res.push({ stage: s.stage, results });
        appendTrack(join(evalDir, 'track.jsonl'), s.stage, results);
        log(`      ${s.stage}: ${results.map((r) => `${r.task} ${(100 * r.overall[r.metrics[0]!]!.micro.mean).toFixed(1)}%`).join(', ')}`);
      }
    } finally {
      cache.close();
    }
    writeFileSync(join(evalDir, 'results.json'), JSON.stringify(res, null, 1));
    return res;
  });

  // attributes of each stage's data (Ziya2 §7): CH and RA estimated, SIM to the benchmarks
  const attributes = await phase(7, 'data attributes per stage (coherence, readability, similarity to the benchmarks)', false, async () => stageAttributes(data));

  const report = join(out, 'report.html');
  const result: MainJobResult = { report, phases, seconds: 0, factory, data: data.counts, base, cpt, evals, attributes };
  await phase(8, 'report', false, async () => undefined);
  result.seconds = (performance.now() - t0) / 1000;
  writeFileSync(report, mainReportHtml(result, out));
  writeFileSync(join(out, 'main.json'), JSON.stringify({ ...result, factory: { passed: factory.passed, stopped: factory.stopped, iterations: factory.iterations.map((i) => ({ index: i.index, changes: i.changes, kept: i.kept, read: i.read, unqualified: i.gate.unqualified, sampled: i.gate.sampled })) } }, null, 1));
  return result;
}
