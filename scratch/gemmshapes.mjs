import { backend } from '../dist/src/tensor/index.js';
const be = backend();
const cases = [['logits NT',0,1,2048,32000,288],['dX NN',0,0,2048,288,32000],['dW TN',1,0,32000,288,2048],['qkv NT',0,1,2048,288,288],['w1 NT',0,1,2048,768,288],['w2 NT',0,1,2048,288,768],['dx NN 768',0,0,2048,288,768],['dW TN 768x288',1,0,768,288,2048],['dW TN 288x768',1,0,288,768,2048],['sq NN 1024',0,0,1024,1024,1024]];
for (const [name, ta, tb, M, N, K] of cases) {
  const A = new Float32Array(M*K).fill(0.01), B = new Float32Array(K*N).fill(0.02), C = new Float32Array(M*N);
  be.gemm(!!ta, !!tb, M, N, K, 1, A, B, 0, C);
  const reps = Math.max(1, Math.round(2e10 / (2*M*N*K)));
  const t = performance.now(); for (let i = 0; i < reps; i++) be.gemm(!!ta, !!tb, M, N, K, 1, A, B, 0, C);
  const dt = (performance.now() - t) / 1000 / reps;
  console.log(name.padEnd(16), (2*M*N*K/dt/1e9).toFixed(1), 'GFLOP/s', (dt*1000).toFixed(1), 'ms');
}
