// Parity with llama.cpp (through node-llama-cpp 3.21.1): a model exported by our GGUF writer
// gives the same next-token distribution and the same greedy continuation in both engines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, tmp } from './helpers.js';
import { loadModel, saveModel } from '../src/model/load.js';
import { Llama } from '../src/model/llama.js';
import { defaultConfig } from '../src/model/config.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { openLlamaCpp } from '../src/model/llamacpp.js';
import { argmax } from '../src/model/generate.js';

const STORIES = join(SHARED, 'llama2c-stories260k');
const have = existsSync(join(STORIES, 'stories260K.bin'));
let peerAvailable = true;
try {
  await import('node-llama-cpp');
} catch {
  peerAvailable = false;
}
const skip = !have ? '../shared/data/llama2c-stories260k is absent' : !peerAvailable ? 'node-llama-cpp (optional dependency) is not installed' : false;

function logSoftmax(x: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(x, (v) => v - lse);
}

async function parity(name: string, model: Llama, gguf: string, prompts: number[][]) {
  const peer = await openLlamaCpp(gguf, model.config.vocabSize);
  assert.ok(peer, 'node-llama-cpp loads');
  try {
    for (const ids of prompts) {
      const cache = model.newCache();
      let logits: Float32Array = new Float32Array(0);
      for (const t of ids) logits = model.step(t, cache);
      const ours = logSoftmax(logits);
      const theirs = await peer.nextLogProbs(ids);
      // log-probabilities are the logits less their log-sum-exp (what llama.cpp's API exposes)
      let maxErr = 0, scale = 0;
      for (let i = 0; i < ours.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(ours[i]! - theirs[i]!));
        scale = Math.max(scale, Math.abs(ours[i]!));
      }
      console.log(`${name}: max relative difference of next-token log-probabilities ${(maxErr / scale).toExponential(2)} (node-llama-cpp ${peer.version})`);
      assert.ok(maxErr / scale < 1e-3, `${name}: next-token log-probabilities differ by ${(maxErr / scale).toExponential(2)} relative`);
      // greedy continuation
      const n = 24;
      const mine: number[] = [];
      let next = argmax(logits);
      for (let i = 0; i < n; i++) {
        mine.push(next);
        next = argmax(model.step(next, cache));
      }
      assert.deepEqual(await peer.greedy(ids, n), mine, `${name}: greedy continuation`);
    }
  } finally {
    await peer.close();
  }
}

test('llama.cpp parity: stories260K exported to GGUF (F32)', { skip }, async () => {
  const dir = tmp();
  const { model } = loadModel(join(STORIES, 'stories260K.bin'));
  const tok = loadTokenizer(join(STORIES, 'tok512.bin'), 'llama2c');
  const gguf = join(dir, 'stories.gguf');
  saveModel(model, gguf, { format: 'gguf', vocab: tok.vocab });
  await parity('stories260K', model, gguf, [tok.encode('Once upon a time', { bos: true }), tok.encode('Lily and Tom went to the park. They', { bos: true })]);
});

test('llama.cpp parity: a randomly initialised model with untied output and GQA (F32)', { skip }, async () => {
  const dir = tmp();
  const tok = loadTokenizer(join(STORIES, 'tok512.bin'), 'llama2c');
  const model = Llama.init(defaultConfig({ dim: 128, nLayers: 3, nHeads: 8, nKvHeads: 2, vocabSize: 512, maxSeqLen: 256, hiddenDim: 344 }), 7);
  // a larger spread than the default init, so that the distribution is not flat
  for (const t of model.params.values()) if (t.shape.length === 2) for (let i = 0; i < t.size; i++) t.data[i]! *= 8;
  const gguf = join(dir, 'random.gguf');
  saveModel(model, gguf, { format: 'gguf', vocab: tok.vocab });
  await parity('random', model, gguf, [tok.encode('The cat sat on the mat', { bos: true })]);
});
