/**
 * Turning token data into training batches, the two ways Ziya2's stages need:
 *
 * - Stage 1 (GPTSampler): documents (each ending with </s>) are one stream cut into samples of
 *   seqLen + 1 tokens, as Megatron-LM's GPTDataset does (document index shuffled per epoch, the
 *   sample index walk where consecutive samples share one token, then a shuffled sample order),
 *   from a seed. Optionally attention restarts after each </s> (block-diagonal), positions restart
 *   and </s> inputs leave the loss, as --reset-attention-mask / --reset-position-ids / --eod-mask-loss.
 * - Stages 2 and 3 (packExamples): whole supervised examples of one task are packed into rows of
 *   seqLen tokens without cutting any, the rest is <pad>; each example attends only to itself,
 *   positions restart per example, padding never counts in the loss, and prompt tokens can be
 *   left out of it.
 */
import { rng } from '../core/hash.js';
import type { Batch } from '../model/llama.js';
import type { IndexedDataset } from './indexed.js';

export const IGNORE = -100;

export interface TrainBatch extends Batch {
  /** [B*T] next-token targets; IGNORE where the loss does not count */
  targets: Int32Array;
  pos: Int32Array;
  doc: Int32Array;
  keyMask: Uint8Array;
}

/** Fisher-Yates shuffle with a seeded generator */
export function shuffleInPlace<T extends { length: number; [i: number]: number } | number[]>(a: T, next: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

export interface GPTSamplerOptions {
  seqLen: number;
  /** samples wanted; the documents are repeated over as many epochs as needed */
  numSamples: number;
  seed?: number;
  /** which sequences of the dataset take part (default all), e.g. a train split */
  sequences?: Int32Array;
  eod: number;
  resetAttentionMask?: boolean;
  resetPositionIds?: boolean;
  eodMaskLoss?: boolean;
}

export class GPTSampler {
  readonly numEpochs: number;
  readonly tokensPerEpoch: number;
  /** (position in documentIndex, token offset) for each sample boundary, [numSamples + 1, 2] */
  readonly sampleIndex: Int32Array;
  readonly documentIndex: Int32Array;
  readonly shuffleIndex: Int32Array;

  constructor(readonly ds: IndexedDataset, readonly o: GPTSamplerOptions) {
    const seqs = o.sequences ?? Int32Array.from({ length: ds.sequenceCount }, (_, i) => i);
    let tpe = 0;
    for (const s of seqs) tpe += ds.lengths[s]!;
    if (tpe === 0) throw new RangeError(`${ds.prefix}: no tokens to sample from`);
    this.tokensPerEpoch = tpe;
    let epochs = 1;
    while (epochs * tpe < o.numSamples * o.seqLen + 1) epochs++;
    this.numEpochs = epochs;
    const next = rng(o.seed ?? 1234);
    const docIndex = new Int32Array(seqs.length * epochs);
    for (let e = 0; e < epochs; e++) docIndex.set(seqs, e * seqs.length);
    shuffleInPlace(docIndex, next);
    this.documentIndex = docIndex;
    // Megatron's build_sample_idx walk
    const maxSamples = Math.floor((epochs * tpe - 1) / o.seqLen);
    const n = Math.min(o.numSamples, maxSamples);
    const si = new Int32Array(2 * (n + 1));
    let d = 0, offset = 0;
    si[0] = 0;
    si[1] = 0;
    for (let s = 1; s <= n; s++) {
      let remaining = o.seqLen + 1;
      while (remaining > 0) {
        const docLen = ds.lengths[docIndex[d]!]! - offset;
        remaining -= docLen;
        if (remaining <= 0) offset += remaining + docLen - 1;
        else {
          d++;
          offset = 0;
        }
      }
      si[2 * s] = d;
      si[2 * s + 1] = offset;
    }
    this.sampleIndex = si;
    this.shuffleIndex = shuffleInPlace(Int32Array.from({ length: n }, (_, i) => i), next);
  }

  get length(): number {
    return this.shuffleIndex.length;
  }

  /** the seqLen + 1 tokens of sample i (in shuffled order) */
  sample(i: number): Int32Array {
    const j = this.shuffleIndex[i]!;
    const d0 = this.sampleIndex[2 * j]!, o0 = this.sampleIndex[2 * j + 1]!;
    const d1 = this.sampleIndex[2 * j + 2]!, o1 = this.sampleIndex[2 * j + 3]!;
    const out = new Int32Array(this.o.seqLen + 1);
    if (d0 === d1) out.set(this.ds.get(this.documentIndex[d0]!, o0, o1 - o0 + 1));
    else {
      let p = 0;
      const first = this.ds.get(this.documentIndex[d0]!, o0);
      out.set(first, p);
      p += first.length;
      for (let d = d0 + 1; d < d1; d++) {
        const t = this.ds.get(this.documentIndex[d]!);
        out.set(t, p);
        p += t.length;
      }
      out.set(this.ds.get(this.documentIndex[d1]!, 0, o1 + 1), p);
    }
    return out;
  }

  /** sample i as one training row of seqLen positions */
  row(i: number): TrainRow {
    const T = this.o.seqLen;
    const text = this.sample(i % this.length);
    const ids = new Int32Array(T), targets = new Int32Array(T), pos = new Int32Array(T), doc = new Int32Array(T);
    let docId = 0, p = 0;
    for (let t = 0; t < T; t++) {
      const tok = text[t]!;
      ids[t] = tok;
      targets[t] = this.o.eodMaskLoss && tok === this.o.eod ? IGNORE : text[t + 1]!;
      doc[t] = docId;
      pos[t] = p++;
      if (tok === this.o.eod) {
        if (this.o.resetAttentionMask) docId++;
        if (this.o.resetPositionIds) p = 0;
      }
    }
    return { ids, targets, pos, doc, keyMask: new Uint8Array(T).fill(1) };
  }

  /** samples [start, start + B) as a training batch */
  batch(start: number, B: number): TrainBatch {
    return stackRows(Array.from({ length: B }, (_, b) => this.row(start + b)));
  }
}

/** one row of a batch: seqLen positions */
export interface TrainRow {
  ids: Int32Array;
  targets: Int32Array;
  pos: Int32Array;
  doc: Int32Array;
  keyMask: Uint8Array;
}

/** rows of equal length stacked into a batch */
export function stackRows(rows: TrainRow[]): TrainBatch {
  const B = rows.length, T = rows[0]!.ids.length;
  const ids = new Int32Array(B * T), targets = new Int32Array(B * T), pos = new Int32Array(B * T), doc = new Int32Array(B * T), keyMask = new Uint8Array(B * T);
  rows.forEach((r, b) => {
    if (r.ids.length !== T) throw new RangeError(`stackRows: row ${b} has ${r.ids.length} positions, the first ${T}`);
    ids.set(r.ids, b * T);
    targets.set(r.targets, b * T);
    pos.set(r.pos, b * T);
    doc.set(r.doc, b * T);
    keyMask.set(r.keyMask, b * T);
  });
  return { ids, targets, pos, doc, keyMask, B, T };
}

export interface Example {
  task: string;
  /** prompt tokens (BOS first, as the tokenizer adds it) */
  prompt: number[];
  /** answer tokens (EOS last) */
  answer: number[];
}

export interface PackedRows {
  rows: { task: string; examples: number[] }[];
  batchOf(rows: number[]): TrainBatch;
  /** real tokens / (rows x seqLen) */
  efficiency: number;
  /** examples longer than seqLen (never cut: left out and counted) */
  tooLong: number[];
}

/**
 * Packs whole examples of the same task into rows of seqLen tokens (first-fit decreasing in a
 * seeded order), the rest <pad>. Targets: the next token of the same example, IGNORE for the last
 * token of an example, for padding, and (maskPrompt) wherever the next token is part of the prompt.
 */
export function packExamples(examples: Example[], seqLen: number, padId: number, opts: { maskPrompt?: boolean; seed?: number } = {}): PackedRows {
  const maskPrompt = opts.maskPrompt ?? true;
  const len = (e: Example) => e.prompt.length + e.answer.length;
  const tooLong: number[] = [];
  const byTask = new Map<string, number[]>();
  const order = shuffleInPlace(examples.map((_, i) => i), rng(opts.seed ?? 1234));
  for (const i of order) {
    if (len(examples[i]!) > seqLen) { tooLong.push(i); continue; }
    const t = examples[i]!.task;
    byTask.set(t, [...(byTask.get(t) ?? []), i]);
  }
  const rows: { task: string; examples: number[]; used: number }[] = [];
  for (const task of [...byTask.keys()].sort()) {
    const items = byTask.get(task)!.sort((a, b) => len(examples[b]!) - len(examples[a]!));
    const open: { task: string; examples: number[]; used: number }[] = [];
    for (const i of items) {
      const n = len(examples[i]!);
      let row = open.find((r) => r.used + n <= seqLen);
      if (!row) { row = { task, examples: [], used: 0 }; open.push(row); }
      row.examples.push(i);
      row.used += n;
    }
    rows.push(...open);
  }
  let real = 0;
  for (const r of rows) real += r.used;
  const batchOf = (which: number[]): TrainBatch => {
    const B = which.length, T = seqLen;
    const ids = new Int32Array(B * T).fill(padId), targets = new Int32Array(B * T).fill(IGNORE);
    const pos = new Int32Array(B * T), doc = new Int32Array(B * T), keyMask = new Uint8Array(B * T);
    which.forEach((r, b) => {
      let t = 0, docId = b * T;
      for (const i of rows[r]!.examples) {
        const e = examples[i]!;
        const toks = [...e.prompt, ...e.answer];
        for (let k = 0; k < toks.length; k++, t++) {
          const at = b * T + t;
          ids[at] = toks[k]!;
          pos[at] = k;
          doc[at] = docId;
          keyMask[at] = 1;
          const nextIsAnswer = k + 1 >= e.prompt.length;
          if (k + 1 < toks.length && (!maskPrompt || nextIsAnswer)) targets[at] = toks[k + 1]!;
        }
        docId++;
      }
      // padding: its own (empty) documents, never attended to, never in the loss
      for (; t < T; t++) doc[b * T + t] = docId++;
    });
    return { ids, targets, pos, doc, keyMask, B, T };
  };
  return { rows: rows.map(({ task, examples: ex }) => ({ task, examples: ex })), batchOf, efficiency: rows.length ? real / (rows.length * seqLen) : 0, tooLong };
}
