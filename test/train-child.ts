// Child process for test/trainer.test.ts: a small deterministic training run with checkpoints.
// Prints the sha256 of the final weights. Usage: node train-child.js CHECKPOINT_DIR METRICS STEPS
import { createHash } from 'node:crypto';
import { rng } from '../src/core/hash.js';
import { defaultConfig } from '../src/model/config.js';
import { Llama } from '../src/model/llama.js';
import { Trainer } from '../src/train/trainer.js';
import { IGNORE, type TrainBatch } from '../src/data/packing.js';

const [dir, metrics, stepsArg, slow] = process.argv.slice(2);
const steps = Number(stepsArg);
const V = 64, T = 32, B = 4;
const model = Llama.init(defaultConfig({ dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: V, maxSeqLen: T, hiddenDim: 64 }), 7);
const data = {
  batch(step: number): TrainBatch {
    const r = rng(1000 + step);
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T), pos = new Int32Array(B * T), doc = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const a = Math.floor(r() * V), d = 1 + Math.floor(r() * 5);
      for (let t = 0; t < T; t++) {
        ids[b * T + t] = (a + d * t) % V;
        targets[b * T + t] = t === T - 1 ? IGNORE : (a + d * (t + 1)) % V;
        pos[b * T + t] = t;
        doc[b * T + t] = b;
      }
    }
    return { ids, targets, pos, doc, keyMask: new Uint8Array(B * T).fill(1), B, T };
  },
};
const trainer = new Trainer(model, data, {
  steps,
  schedule: { maxLr: 3e-3, minLr: 1e-5, warmupSteps: 2, totalSteps: steps },
  checkpointDir: dir,
  checkpointEvery: 3,
  metricsPath: metrics,
  quiet: true,
  evaluate: slow ? () => { const until = Date.now() + Number(slow); while (Date.now() < until); return {}; } : undefined,
  evalEvery: slow ? 1 : undefined,
});
const r = trainer.run();
const h = createHash('sha256');
for (const t of model.params.values()) h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
console.log(JSON.stringify({ hash: h.digest('hex'), resumedFrom: r.resumedFrom, loss: r.lastLoss }));
