import { defaultConfig, llamaHiddenDim } from '../dist/src/model/config.js';
import { Llama } from '../dist/src/model/llama.js';
import { backprop } from '../dist/src/tensor/ops.js';
import { AdamW, clipGradNorm } from '../dist/src/train/optim.js';
import { backend, setBackend } from '../dist/src/tensor/index.js';
import { engine } from '../dist/src/tensor/tensor.js';
engine.checkFinite = false;
const be = backend(); const stats = new Map();
const w = { ...be, gemm: (ta, tb, M, N, K, ...rest) => { const t = performance.now(); be.gemm(ta, tb, M, N, K, ...rest); const dt = performance.now() - t; const key = `${ta?'T':'N'}${tb?'T':'N'} ${M}x${N}x${K}`; const s = stats.get(key) ?? { n: 0, t: 0, f: 0 }; s.n++; s.t += dt; s.f += 2*M*N*K*(rest[5] ?? 1); stats.set(key, s); } };
setBackend(w);
const [dim, L, H, V, T, B] = process.argv.slice(2).map(Number);
const m = Llama.init(defaultConfig({ dim, nLayers: L, nHeads: H, vocabSize: V, maxSeqLen: T, hiddenDim: llamaHiddenDim(dim, 32) }), 1);
const opt = new AdamW(m.params);
const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V), y = Int32Array.from({ length: B * T }, (_, i) => (i * 31) % V);
for (let s = 0; s < 2; s++) { if (s === 1) stats.clear();
  const { loss } = m.loss({ ids: x, B, T }, y); backprop(loss); clipGradNorm(m.params.values(), 1); opt.update(); opt.zeroGrad(); }
let tt = 0; for (const [k, s] of [...stats].sort((a, b) => b[1].t - a[1].t)) { tt += s.t; console.log(k.padEnd(24), String(s.n).padStart(4), s.t.toFixed(0).padStart(6), 'ms', (s.f / s.t / 1e6).toFixed(1), 'GFLOP/s'); }
console.log('total', tt.toFixed(0));
