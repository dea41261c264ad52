/**
 * Data loader benchmark: tokens/s of building training batches (GPT-style samples read from a
 * Megatron indexed dataset on disk, and packed supervised rows), against tokens/s of a training
 * step of shape B (dim 288, 6 layers, vocab 32000, seq 256, batch 8) on this machine. The loader
 * must never be the bottleneck: the goal is at least 20x the training step.
 *
 *   node dist/bench/dataloader.js
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../src/core/hash.js';
import { IndexedDataset, IndexedDatasetWriter } from '../src/data/indexed.js';
import { GPTSampler, packExamples, type Example } from '../src/data/packing.js';
import { defaultConfig, llamaHiddenDim } from '../src/model/config.js';
import { Llama } from '../src/model/llama.js';
import { backprop } from '../src/tensor/ops.js';
import { AdamW, clipGradNorm } from '../src/train/optim.js';
import { engine } from '../src/tensor/tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'ziya-loader-'));
const r = rng(7);
// 200k documents of 20-2000 tokens (about 200M tokens would be more realistic; this is 40M+ on disk)
const w = new IndexedDatasetWriter(join(dir, 'ds'), 'uint16');
let total = 0;
for (let d = 0; d < 40_000; d++) {
  const n = 20 + Math.floor(r() * 2000);
  const toks = new Array<number>(n);
  for (let i = 0; i < n; i++) toks[i] = 3 + Math.floor(r() * 31990);
  toks[0] = 1;
  toks[n - 1] = 2;
  w.addDocument(toks);
  total += n;
}
w.finalize();
const ds = IndexedDataset.open(join(dir, 'ds'));
const B = 8, T = 256;
const sampler = new GPTSampler(ds, { seqLen: T, numSamples: 20_000, seed: 1, eod: 2, resetAttentionMask: true });
let t0 = performance.now(), tokens = 0;
for (let s = 0; s < 400; s++) {
  sampler.batch(s * B, B);
  tokens += B * T;
}
const gpt = tokens / ((performance.now() - t0) / 1000);
const ex: Example[] = Array.from({ length: 20_000 }, (_, i) => ({ task: `t${i % 5}`, prompt: Array.from({ length: 10 + (i % 50) }, (_, k) => 3 + ((i + k) % 1000)), answer: Array.from({ length: 5 + (i % 80) }, (_, k) => 5 + ((i * k) % 1000)) }));
t0 = performance.now();
const packed = packExamples(ex, T, 0, { seed: 1 });
const packSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
tokens = 0;
for (let s = 0; s + B <= packed.rows.length && s < 3200; s += B) {
  packed.batchOf(Array.from({ length: B }, (_, b) => s + b));
  tokens += B * T;
}
const rows = tokens / ((performance.now() - t0) / 1000);
// the training step it feeds
engine.checkFinite = false;
const m = Llama.init(defaultConfig({ dim: 288, nLayers: 6, nHeads: 6, vocabSize: 32000, maxSeqLen: T, hiddenDim: llamaHiddenDim(288, 32) }), 1);
const opt = new AdamW(m.params);
const step = (i: number) => {
  const b = sampler.batch(i * B, B);
  const { loss } = m.loss(b, b.targets);
  backprop(loss);
  clipGradNorm(m.params.values(), 1);
  opt.update();
  opt.zeroGrad();
};
step(0);
t0 = performance.now();
for (let i = 1; i <= 3; i++) step(i);
const train = (3 * B * T) / ((performance.now() - t0) / 1000);
console.log(`# ${total.toLocaleString('en-US')} tokens on disk; GPT-style batches ${Math.round(gpt).toLocaleString('en-US')} tokens/s, packed rows ${Math.round(rows).toLocaleString('en-US')} tokens/s (packing 20,000 examples: ${packSeconds.toFixed(2)} s), training step (shape B) ${Math.round(train)} tokens/s`);
console.log(JSON.stringify({ name: 'dataloader_tokens_per_s', value: Math.round(Math.min(gpt, rows)), unit: 'tokens/s (slower of GPT-style and packed batches)', peer: 'training step, shape B, same machine', peer_value: Math.round(train), ratio: Math.round(Math.min(gpt, rows) / train), gpt_tokens_per_s: Math.round(gpt), packed_tokens_per_s: Math.round(rows), pack_seconds_20k_examples: Number(packSeconds.toFixed(2)) }));
