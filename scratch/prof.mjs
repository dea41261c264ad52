import { defaultConfig, llamaHiddenDim } from '../dist/src/model/config.js';
import { Llama } from '../dist/src/model/llama.js';
import { backprop } from '../dist/src/tensor/ops.js';
import { AdamW, clipGradNorm } from '../dist/src/train/optim.js';
import { backend, setBackend } from '../dist/src/tensor/index.js';
import { engine } from '../dist/src/tensor/tensor.js';
engine.checkFinite = false;
const be = backend(); const times = {}; const calls = {};
const wrapped = {};
for (const k of Object.keys(be)) { const f = be[k]; wrapped[k] = typeof f === 'function' ? (...a) => { const t = performance.now(); const r = f(...a); times[k] = (times[k] ?? 0) + performance.now() - t; calls[k] = (calls[k] ?? 0) + 1; return r; } : f; }
setBackend(wrapped);
const [dim, L, H, V, T, B] = process.argv.slice(2).map(Number);
const m = Llama.init(defaultConfig({ dim, nLayers: L, nHeads: H, nKvHeads: Number(process.env.KV ?? H), vocabSize: V, maxSeqLen: T, hiddenDim: Number(process.env.HID ?? llamaHiddenDim(dim, 32)) }), 1);
const opt = new AdamW(m.params);
const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V), y = Int32Array.from({ length: B * T }, (_, i) => (i * 31) % V);
let tf = 0, tb = 0, to = 0;
for (let s = 0; s < 3; s++) {
  if (s === 1) { for (const k in times) times[k] = 0; tf = tb = to = 0; }
  let t = performance.now();
  const { loss } = m.loss({ ids: x, B, T }, y); tf += performance.now() - t; t = performance.now();
  backprop(loss); tb += performance.now() - t; t = performance.now();
  clipGradNorm(m.params.values(), 1); opt.update(); opt.zeroGrad(); to += performance.now() - t;
}
console.log({ fwd: (tf / 2).toFixed(0), bwd: (tb / 2).toFixed(0), opt: (to / 2).toFixed(0) });
console.log(Object.entries(times).map(([k, v]) => `${k} ${(v / 2).toFixed(0)}ms`).join('\n'));
{ const r0 = process.resourceUsage(); const t = performance.now();
  const { loss } = m.loss({ ids: x, B, T }, y); backprop(loss); clipGradNorm(m.params.values(), 1); opt.update(); opt.zeroGrad();
  const r1 = process.resourceUsage(); console.log('minor faults/step', r1.minorPageFault - r0.minorPageFault, 'sys ms', ((r1.systemCPUTime - r0.systemCPUTime)/1000).toFixed(0), 'user ms', ((r1.userCPUTime - r0.userCPUTime)/1000).toFixed(0), 'wall', (performance.now()-t).toFixed(0)); }
