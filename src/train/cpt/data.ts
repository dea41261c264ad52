/**
 * The data of a continual pre-training stage: each source becomes a component that yields training
 * rows (text: an indexed dataset sampled GPT-style, documents joined with </s>; supervised: examples
 * rendered with their template and packed by task), replays are the components of earlier stages
 * read at other positions, and the mixture assigns every row of the stage to a component by weight
 * (Megatron's blending rule: the component furthest behind its share goes next). Everything is a
 * pure function of the row number, so a resumed stage sees the same batches.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { byteChunks, lines } from '../../io/streams.js';
import { join } from 'node:path';
import { readShard, formatOf } from '../../io/readers.js';
import { expandInputs } from '../../factory/plan.js';
import { writeFileAtomic } from '../../io/writers.js';
import type { SentencePieceBPE } from '../../tokenizer/bpe.js';
import { IndexedDataset, IndexedDatasetWriter, optimalDtype } from '../../data/indexed.js';
import { GPTSampler, packExamples, stackRows, type Example, type TrainBatch, type TrainRow } from '../../data/packing.js';
import { RecipeError } from '../../factory/recipe.js';
import { isSupervised, renderTemplate, resolveIn, stageShares, type CptRecipe, type Source, type Stage, type SupervisedSource } from './recipe.js';

export interface Component {
  name: string;
  /** rows this component can give before repeating */
  rows: number;
  row(i: number): TrainRow;
  tokens: number;
}

/** the files a recipe's paths (files, folders, globs) name; a path that names nothing is an error */
function inputFiles(r: CptRecipe, paths: string[]): string[] {
  const warnings: string[] = [];
  const files = expandInputs(paths.map((p) => resolveIn(r, p)), r.baseDir, warnings);
  if (warnings.length) throw new RecipeError(`${r.file}: ${warnings.join('; ')}`);
  return files;
}

export async function* records(r: CptRecipe, paths: string[], textKey: string, max: number, skip = 0, lines = false): AsyncGenerator<{ text: string }> {
  const files = inputFiles(r, paths);
  let n = 0, seen = 0;
  for (const f of files) {
    const format = formatOf(f) ?? 'text';
    for await (const e of readShard({ index: 0, format, files: [f], keys: [f], bytes: 0 }, { textKey, idKey: 'id', maxRecordBytes: 64 << 20 }, { bytes: 0 })) {
      if (!('doc' in e)) continue;
      for (const text of lines ? e.doc.text.split('\n').map((l) => l.trim()).filter(Boolean) : [e.doc.text]) {
        if (seen++ < skip) continue;
        yield { text };
        if (max && ++n >= max) return;
      }
    }
  }
}

/** texts as documents [<s>, …, </s>] (empty ones left out); returns how many were written */
export async function writeTextDocuments(w: IndexedDatasetWriter, texts: AsyncIterable<{ text: string }>, tok: SentencePieceBPE): Promise<number> {
  let docs = 0;
  for await (const { text } of texts) {
    const ids = tok.encode(text, { bos: true });
    if (ids.length <= 1) continue;
    ids.push(tok.vocab.eosId);
    w.addDocument(ids);
    docs++;
  }
  return docs;
}

/** the documents of a text source: raw texts, or records rendered with the source's template */
export async function* sourceTexts(r: CptRecipe, stage: Stage, src: Source): AsyncGenerator<{ text: string }> {
  if (!src.template) {
    yield* records(r, src.path, src.textKey, src.maxDocuments, src.skip, src.lines);
    return;
  }
  let n = 0;
  for await (const rec of jsonRecords(r, src.path, src.maxDocuments ? src.maxDocuments + src.skip : 0, src.columns)) {
    if (n++ < src.skip) continue;
    yield { text: renderTemplate(src.template, rec, `${r.file}: stage ${stage.name}, source ${src.name}, record ${n}`) };
  }
}

/** records with all their fields (supervised sources, templates): JSONL (plain, .gz, .zst), or TSV with a header line or given columns; streamed */
export async function* jsonRecords(r: CptRecipe, paths: string[], max: number, columns?: string[]): AsyncGenerator<Record<string, unknown>> {
  const files = inputFiles(r, paths);
  let n = 0;
  for (const f of files) {
    const tsv = /\.(tsv|txt)(\.gz|\.zst)?$/.test(f);
    let head = columns;
    for await (const ln of lines(byteChunks(f), 64 << 20)) {
      if (!ln.bytes) throw new RecipeError(`${f}:${ln.line}: a record over 64 MB`);
      const l = ln.bytes.toString('utf8');
      if (!l.trim()) continue;
      let rec: Record<string, unknown>;
      if (tsv) {
        if (!head) { head = l.split('\t'); continue; }
        const cells = l.split('\t');
        if (cells.length !== head.length) throw new RecipeError(`${f}:${ln.line}: ${cells.length} columns, expected ${head.length} (${head.join(', ')})`);
        rec = Object.fromEntries(head.map((h, k) => [h, cells[k]]));
      } else {
        try {
          rec = JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new RecipeError(`${f}:${ln.line}: not a JSON record`);
        }
      }
      yield rec;
      if (max && ++n >= max) return;
    }
  }
}

async function textComponent(r: CptRecipe, stage: Stage, src: Source, tok: SentencePieceBPE, dir: string, rowsWanted: number, seed: number): Promise<Component> {
  const prefix = join(dir, src.name);
  const marker = `${prefix}.json`;
  const identity = JSON.stringify({ path: src.path, textKey: src.textKey, max: src.maxDocuments, skip: src.skip, lines: src.lines, template: src.template, vocab: tok.vocab.pieces.length });
  if (!existsSync(marker) || (JSON.parse(readFileSync(marker, 'utf8')) as { identity: string }).identity !== identity) {
    const w = new IndexedDatasetWriter(prefix, optimalDtype(tok.vocab.pieces.length));
    const docs = await writeTextDocuments(w, sourceTexts(r, stage, src), tok);
    if (!docs) {
      w.abort();
      throw new RecipeError(`${r.file}: stage ${stage.name}, source ${src.name}: no documents in ${src.path.join(', ')}`);
    }
    w.finalize();
    writeFileAtomic(marker, JSON.stringify({ identity, docs }));
  }
  const ds = IndexedDataset.open(prefix);
  const numSamples = Math.max(1, rowsWanted);
  const sampler = new GPTSampler(ds, { seqLen: r.seqLen, numSamples, seed, eod: tok.vocab.eosId, resetAttentionMask: stage.documentMask, resetPositionIds: false });
  return { name: src.name, rows: sampler.length, row: (i) => sampler.row(i % sampler.length), tokens: ds.tokenCount };
}

async function supervisedComponent(r: CptRecipe, stage: Stage, src: SupervisedSource, tok: SentencePieceBPE, seed: number): Promise<Component> {
  const examples: Example[] = [];
  let n = 0;
  for await (const rec of jsonRecords(r, src.path, src.maxDocuments, src.columns)) {
    const where = `${r.file}: stage ${stage.name}, source ${src.name}, record ${++n}`;
    const prompt = tok.encode(renderTemplate(src.prompt, rec, where), { bos: true });
    const answer = tok.encode(renderTemplate(src.answer, rec, where)).concat([tok.vocab.eosId]);
    examples.push({ task: src.task, prompt, answer });
  }
  if (!examples.length) throw new RecipeError(`${r.file}: stage ${stage.name}, source ${src.name}: no records in ${src.path.join(', ')}`);
  const pad = tok.vocab.padId >= 0 ? tok.vocab.padId : tok.vocab.unkId;
  const packed = packExamples(examples, r.seqLen, pad, { maskPrompt: stage.maskPrompt, seed });
  if (!packed.rows.length) throw new RecipeError(`${r.file}: stage ${stage.name}, source ${src.name}: all ${examples.length} examples are longer than seqLen ${r.seqLen}`);
  if (packed.tooLong.length) process.stderr.write(`stage ${stage.name}, source ${src.name}: ${packed.tooLong.length} of ${examples.length} examples are longer than seqLen ${r.seqLen} and left out (never cut)\n`);
  const tokens = examples.reduce((s, e) => s + e.prompt.length + e.answer.length, 0);
  const single = (i: number): TrainRow => {
    const b = packed.batchOf([i % packed.rows.length]);
    return { ids: b.ids, targets: b.targets, pos: b.pos, doc: b.doc, keyMask: b.keyMask };
  };
  return { name: src.name, rows: packed.rows.length, row: single, tokens };
}

export interface StageData {
  stage: Stage;
  steps: number;
  components: Component[];
  weights: number[];
  /** micro-batches per step */
  accumulate: number;
  /** component of each row */
  assignment: Uint16Array;
  /** rows of each component used by this stage, and how many times over its rows that is */
  usage: { name: string; weight: number; rows: number; available: number; epochs: number; tokens: number }[];
  source(): { batch(step: number): TrainBatch };
}

/** Megatron BlendedDataset rule: each row goes to the component furthest behind weight * rows so far */
export function blend(weights: number[], rows: number): Uint16Array {
  const sum = weights.reduce((a, b) => a + b, 0);
  const w = weights.map((x) => x / sum);
  const count = new Array<number>(w.length).fill(0);
  const out = new Uint16Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0, bestErr = -Infinity;
    for (let c = 0; c < w.length; c++) {
      const err = w[c]! * (r + 1) - count[c]!;
      if (err > bestErr) { bestErr = err; best = c; }
    }
    out[r] = best;
    count[best]!++;
  }
  return out;
}

export async function buildStageData(r: CptRecipe, stageIndex: number, tok: SentencePieceBPE, dataDir: string, built: Map<string, StageData>, opts: { noReplay?: boolean } = {}): Promise<StageData> {
  const stage = r.stages[stageIndex]!;
  const B = r.batch, T = r.seqLen, k = r.accumulate;
  const steps = Math.floor(stage.tokens / (B * T * k));
  const rows = steps * k * B; // micro-batch m holds rows [m·B, m·B + B); step s uses micro-batches s·k … s·k + k − 1
  const dir = join(dataDir, stage.name);
  mkdirSync(dir, { recursive: true });
  const replay = opts.noReplay ? [] : Object.entries(stage.replay);
  const weights = stageShares(stage, opts).map((c) => c.share);
  const assignment = blend(weights, rows);
  const want = weights.map((_, c) => assignment.reduce((a, x) => a + (x === c ? 1 : 0), 0));
  const components: Component[] = [];
  for (const [j, src] of stage.sources.entries()) {
    const seed = r.seed + 1000 * stageIndex + j;
    components.push(isSupervised(src) ? await supervisedComponent(r, stage, src, tok, seed) : await textComponent(r, stage, src, tok, dir, want[j]!, seed));
  }
  for (const [k, [name]] of replay.entries()) {
    const earlier = built.get(name);
    if (!earlier) throw new RecipeError(`${r.file}: stage ${stage.name}: replay of "${name}", which has not been built`);
    // rows of the earlier stage's mixture read from a seeded random start, so replay is a sample of that data
    const offset = Math.floor(((r.seed * 2654435761 + k * 40503 + stageIndex) % 1000003) / 1000003 * earlier.assignment.length);
    const perComponent = earlier.components.map(() => 0);
    const seen = earlier.assignment.map((c) => perComponent[c]!++);
    components.push({
      name: `replay:${name}`,
      rows: earlier.assignment.length,
      tokens: earlier.components.reduce((a, c) => a + c.tokens, 0),
      row: (i) => {
        const at = (offset + i) % earlier.assignment.length;
        const c = earlier.assignment[at]!;
        return earlier.components[c]!.row(seen[at]! + 7919 * (Math.floor((offset + i) / earlier.assignment.length) + 1));
      },
    });
  }
  const usage = components.map((c, i) => ({ name: c.name, weight: weights[i]!, rows: want[i]!, available: c.rows, epochs: c.rows ? want[i]! / c.rows : 0, tokens: c.tokens }));
  const data: StageData = {
    stage,
    steps,
    accumulate: k,
    components,
    weights,
    assignment,
    usage,
    source() {
      const counters = components.map(() => 0);
      const index = Array.from(assignment, (c) => counters[c]!++);
      return {
        batch: (step: number) => stackRows(Array.from({ length: B }, (_, b) => {
          const row = step * B + b;
          const c = assignment[row]!;
          return components[c]!.row(index[row]!);
        })),
      };
    },
  };
  built.set(stage.name, data);
  return data;
}
