// Token datasets and batches: Megatron's indexed format checked by an independent reader written
// from the format description, GPT-style sampling, packing of whole examples with masks, and the
// vocabulary extension of a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, tmp } from './helpers.js';
import { tokenizeToIndexed } from '../src/data/tokenize.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { IndexedDataset, IndexedDatasetWriter, optimalDtype } from '../src/data/indexed.js';
import { GPTSampler, IGNORE, packExamples, type Example } from '../src/data/packing.js';
import { Llama } from '../src/model/llama.js';
import { defaultConfig } from '../src/model/config.js';
import { extendModelVocab } from '../src/model/extend.js';
import { noGrad, discardTape } from '../src/tensor/tensor.js';

/**
 * An independent .idx/.bin reader, written from the layout in formats.md only:
 * 9-byte magic "MMIDIDX\0\0", u64 version, u8 dtype code, u64 S, u64 D, int32[S] lengths,
 * int64[S] pointers, int64[D] document indices; .bin = raw tokens.
 */
function independentRead(prefix: string) {
  const idx = readFileSync(prefix + '.idx');
  const bin = readFileSync(prefix + '.bin');
  const magic = [...idx.subarray(0, 9)];
  const version = idx.readBigUInt64LE(9);
  const code = idx[17]!;
  const S = Number(idx.readBigUInt64LE(18));
  const D = Number(idx.readBigUInt64LE(26));
  const lengths = Array.from({ length: S }, (_, i) => idx.readInt32LE(34 + 4 * i));
  const pointers = Array.from({ length: S }, (_, i) => Number(idx.readBigInt64LE(34 + 4 * S + 8 * i)));
  const docs = Array.from({ length: D }, (_, i) => Number(idx.readBigInt64LE(34 + 12 * S + 8 * i)));
  const size = code === 8 ? 2 : code === 4 ? 4 : NaN;
  const seqs = lengths.map((n, i) => Array.from({ length: n }, (_, k) => (code === 8 ? bin.readUInt16LE(pointers[i]! + 2 * k) : bin.readInt32LE(pointers[i]! + 4 * k))));
  return { magic, version, code, S, D, lengths, pointers, docs, seqs, size, idxBytes: idx.length, binBytes: bin.length };
}

test('indexed dataset: bytes match the Megatron layout (independent reader), uint16 and int32', () => {
  const dir = tmp();
  for (const [vocab, code] of [[32000, 8], [70000, 4]] as const) {
    const prefix = join(dir, `ds${vocab}`);
    const w = new IndexedDatasetWriter(prefix, optimalDtype(vocab));
    w.addDocument([1, 500, 31999, 2]);
    w.addDocument([1, 7, 8, 9, 10, 2], [3, 3]); // two sentences
    w.addDocument([], []); // an empty document still gets a boundary
    w.addItem([65535 > vocab ? 5 : 65535 - 1, 3]);
    w.addItem([4]);
    w.endDocument();
    w.finalize();
    const r = independentRead(prefix);
    assert.deepEqual(r.magic, [0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0, 0]);
    assert.equal(r.version, 1n);
    assert.equal(r.code, code);
    assert.equal(r.S, 5);
    assert.deepEqual(r.docs, [0, 1, 3, 3, 5]);
    assert.deepEqual(r.lengths, [4, 3, 3, 2, 1]);
    assert.deepEqual(r.pointers, [0, 4, 7, 10, 12].map((p) => p * r.size));
    assert.equal(r.idxBytes, 34 + 12 * 5 + 8 * 5);
    assert.equal(r.binBytes, 13 * r.size);
    assert.deepEqual(r.seqs, [[1, 500, 31999, 2], [1, 7, 8], [9, 10, 2], [65535 > vocab ? 5 : 65534, 3], [4]]);
    // and our own reader agrees
    const ds = IndexedDataset.open(prefix);
    assert.equal(ds.documentCount, 4);
    assert.deepEqual([...ds.get(1)], [1, 7, 8]);
    assert.deepEqual([...ds.get(0, 1, 2)], [500, 31999]);
    ds.close();
  }
});

test('a corrupt .idx or a .bin of the wrong size is refused before use', () => {
  const dir = tmp();
  const prefix = join(dir, 'ds');
  const w = new IndexedDatasetWriter(prefix);
  for (let d = 0; d < 5; d++) w.addDocument([1, d + 3, d + 4, 2]);
  w.finalize();
  const good = readFileSync(prefix + '.idx');
  const bad = (mutate: (b: Buffer) => Buffer, re: RegExp) => {
    writeFileSync(prefix + '.idx', mutate(Buffer.from(good)));
    assert.throws(() => IndexedDataset.open(prefix), re);
    writeFileSync(prefix + '.idx', good);
  };
  bad((b) => { b[0] = 0x58; return b; }, /bad magic/);
  bad((b) => { b.writeBigUInt64LE(2n, 9); return b; }, /version 2/);
  bad((b) => { b[17] = 42; return b; }, /unknown dtype code 42/);
  bad((b) => b.subarray(0, b.length - 3), /truncated index|bytes, expected/);
  bad((b) => { b.writeInt32LE(5, 34); return b; }, /pointers disagree with lengths/);
  bad((b) => { b.writeBigInt64LE(4n, b.length - 8); return b; }, /last document boundary/);
  truncateSync(prefix + '.bin', 10);
  assert.throws(() => IndexedDataset.open(prefix), /ds\.bin: 10 bytes, the index describes 40/);
});

test('GPT sampler: samples of seqLen+1 tokens that share one token, cover the shuffled stream, reproducible by seed', () => {
  const dir = tmp();
  const prefix = join(dir, 'ds');
  const w = new IndexedDatasetWriter(prefix);
  const docs = [[1, 10, 11, 2], [1, 20, 21, 22, 23, 2], [1, 30, 2], [1, 40, 41, 42, 2]];
  for (const d of docs) w.addDocument(d);
  w.finalize();
  const ds = IndexedDataset.open(prefix);
  const s = new GPTSampler(ds, { seqLen: 5, numSamples: 7, seed: 3, eod: 2 });
  assert.equal(s.tokensPerEpoch, 18);
  assert.equal(s.numEpochs, 2); // 7 * 5 + 1 = 36 tokens needed: exactly two epochs
  const stream = [...s.documentIndex].flatMap((d) => docs[d]!);
  // unshuffled sample j covers stream[5j .. 5j+5]
  for (let i = 0; i < s.length; i++) {
    const j = s.shuffleIndex[i]!;
    assert.deepEqual([...s.sample(i)], stream.slice(5 * j, 5 * j + 6), `sample ${i} (position ${j})`);
  }
  const again = new GPTSampler(ds, { seqLen: 5, numSamples: 7, seed: 3, eod: 2 });
  assert.deepEqual([...again.shuffleIndex], [...s.shuffleIndex]);
  assert.deepEqual([...again.documentIndex], [...s.documentIndex]);
  const other = new GPTSampler(ds, { seqLen: 5, numSamples: 7, seed: 4, eod: 2 });
  assert.notDeepEqual([...other.documentIndex, ...other.shuffleIndex], [...s.documentIndex, ...s.shuffleIndex]);
  // masks: attention and positions restart after </s>, </s> inputs leave the loss
  const b = new GPTSampler(ds, { seqLen: 5, numSamples: 7, seed: 3, eod: 2, resetAttentionMask: true, resetPositionIds: true, eodMaskLoss: true }).batch(0, 7);
  for (let k = 0; k < b.ids.length; k++) {
    const t = k % 5;
    if (t > 0 && b.ids[k - 1] === 2) { assert.notEqual(b.doc[k], b.doc[k - 1]); assert.equal(b.pos[k], 0); }
    if (t > 0 && b.ids[k - 1] !== 2) { assert.equal(b.doc[k], b.doc[k - 1]); assert.equal(b.pos[k], b.pos[k - 1]! + 1); }
    if (b.ids[k] === 2) assert.equal(b.targets[k], IGNORE);
  }
  ds.close();
});

function examples(): Example[] {
  const ex: Example[] = [];
  for (let i = 0; i < 9; i++) ex.push({ task: i % 3 === 0 ? 'math' : 'qa', prompt: [1, 10 + i, 11 + i], answer: Array.from({ length: 1 + (i % 4) }, (_, k) => 30 + k).concat([2]) });
  ex.push({ task: 'qa', prompt: [1, ...new Array(20).fill(5)], answer: [6, 2] }); // too long for 16
  return ex;
}

test('packing: whole examples of one task per row, padding and prompts out of the loss, block-diagonal documents', () => {
  const ex = examples();
  const packed = packExamples(ex, 16, 0, { maskPrompt: true, seed: 1 });
  assert.deepEqual(packed.tooLong, [9]);
  const seen = packed.rows.flatMap((r) => r.examples).sort((a, b) => a - b);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8]); // each packed exactly once
  for (const r of packed.rows) for (const i of r.examples) assert.equal(ex[i]!.task, r.task);
  const batch = packed.batchOf(packed.rows.map((_, i) => i));
  const T = 16;
  packed.rows.forEach((r, b) => {
    let t = 0;
    for (const i of r.examples) {
      const e = ex[i]!, toks = [...e.prompt, ...e.answer];
      for (let k = 0; k < toks.length; k++, t++) {
        const at = b * T + t;
        assert.equal(batch.ids[at], toks[k]);
        assert.equal(batch.pos[at], k);
        // target: next token of the same example, only when it is an answer token
        const want = k + 1 < toks.length && k + 1 >= e.prompt.length ? toks[k + 1] : IGNORE;
        assert.equal(batch.targets[at], want, `row ${b} example ${i} token ${k}`);
      }
    }
    for (; t < T; t++) {
      assert.equal(batch.ids[b * T + t], 0);
      assert.equal(batch.keyMask[b * T + t], 0);
      assert.equal(batch.targets[b * T + t], IGNORE);
    }
  });
  const unmasked = packExamples(ex, 16, 0, { maskPrompt: false, seed: 1 }).batchOf([0]);
  assert.ok(unmasked.targets.filter((x) => x !== IGNORE).length > batch.targets.subarray(0, 16).filter((x) => x !== IGNORE).length);
  assert.ok(packed.efficiency > 0.5 && packed.efficiency <= 1);
});

test('a packed row trains exactly like its examples one by one (the masks isolate them)', () => {
  const m = Llama.init(defaultConfig({ dim: 16, nLayers: 2, nHeads: 2, vocabSize: 50, maxSeqLen: 16, hiddenDim: 32 }), 3);
  const ex = examples().slice(0, 9);
  const packed = packExamples(ex, 16, 0, { maskPrompt: false, seed: 2 });
  const row = packed.rows.findIndex((r) => r.examples.length >= 2);
  const b = packed.batchOf([row]);
  const { rowLoss } = noGrad(() => m.loss(b, b.targets));
  discardTape();
  let t = 0;
  for (const i of packed.rows[row]!.examples) {
    const toks = [...ex[i]!.prompt, ...ex[i]!.answer];
    const ids = Int32Array.from(toks), tg = Int32Array.from(toks.slice(1).concat([IGNORE]));
    const alone = noGrad(() => m.loss({ ids, B: 1, T: toks.length }, tg)).rowLoss;
    for (let k = 0; k < toks.length; k++) assert.ok(Math.abs(alone[k]! - rowLoss[t + k]!) < 1e-5, `example ${i} token ${k}`);
    t += toks.length;
  }
});

test('vocabulary extension of a checkpoint: mean of the spelling rows, padded to 128, base logits unchanged', () => {
  for (const tie of [false, true]) {
    const m = Llama.init(defaultConfig({ dim: 16, nLayers: 1, nHeads: 2, vocabSize: 300, maxSeqLen: 8, hiddenDim: 32, tieEmbeddings: tie }), 5);
    const news = [{ id: 300, from: [10, 11, 12] }, { id: 301, from: [7] }, { id: 302, from: [250, 3] }];
    const x = extendModelVocab(m, news);
    assert.equal(x.config.vocabSize, 384);
    const E0 = m.p('tok_embeddings.weight').data, E1 = x.p('tok_embeddings.weight').data;
    for (let j = 0; j < 16; j++) {
      assert.ok(Math.abs(E1[300 * 16 + j]! - (E0[10 * 16 + j]! + E0[11 * 16 + j]! + E0[12 * 16 + j]!) / 3) < 1e-7);
      assert.equal(E1[301 * 16 + j], E0[7 * 16 + j]);
    }
    if (!tie) {
      const O0 = m.p('output.weight').data, O1 = x.p('output.weight').data;
      for (let j = 0; j < 16; j++) assert.ok(Math.abs(O1[302 * 16 + j]! - (O0[250 * 16 + j]! + O0[3 * 16 + j]!) / 2) < 1e-7);
    }
    const ids = Int32Array.of(1, 5, 9, 200);
    const a = noGrad(() => m.forward({ ids, B: 1, T: 4 })).data, b = noGrad(() => x.forward({ ids, B: 1, T: 4 })).data;
    for (let t = 0; t < 4; t++) for (let v = 0; v < 300; v++) assert.ok(Math.abs(a[t * 300 + v]! - b[t * 384 + v]!) < 1e-5);
    assert.throws(() => extendModelVocab(m, [{ id: 299, from: [1] }]), /outside \[300, 301\)/);
    assert.throws(() => extendModelVocab(m, [{ id: 300, from: [400] }]), /outside the base vocabulary/);
  }
});

test('ziya data tokenize: every record accounted for, documents are <s> … </s> exactly as the tokenizer encodes them', { skip: !existsSync(join(SHARED, 'llama2-tokenizer/tokenizer.model')) && '../shared/data/llama2-tokenizer is absent' }, async () => {
  const dir = tmp();
  const input = join(dir, 'in.jsonl');
  const texts = ['Hello world.', '继续预训练使用中文和英文数据。', '', 'Third document\nwith two lines.'];
  writeFileSync(input, texts.map((t, i) => JSON.stringify({ id: String(i), text: t })).join('\n') + '\n{"id": "broken", "text": \n');
  const tokPath = join(SHARED, 'llama2-tokenizer/tokenizer.model');
  const s = await tokenizeToIndexed({ inputs: [input], tokenizer: tokPath, out: join(dir, 'out/ds'), quiet: true });
  assert.deepEqual([s.read, s.written, s.empty, s.quarantined], [5, 3, 1, 1]);
  const tok = loadTokenizer(tokPath);
  const ds = IndexedDataset.open(join(dir, 'out/ds'));
  assert.equal(ds.dtype, 'uint16');
  const want = texts.filter((t) => t).map((t) => [...tok.encode(t, { bos: true }), 2]);
  assert.deepEqual(Array.from({ length: ds.sequenceCount }, (_, i) => [...ds.get(i)]), want);
  assert.equal(independentRead(join(dir, 'out/ds')).D, 4);
  ds.close();
});
