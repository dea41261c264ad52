import { backend } from '../dist/src/tensor/index.js';
const be = backend();
const cases = JSON.parse(process.argv[2]);
for (const [name, ta, tb, M, N, K, beta] of cases) {
  const A = new Float32Array(M*K).fill(0.01), B = new Float32Array(K*N).fill(0.02), C = new Float32Array(M*N);
  be.gemm(!!ta, !!tb, M, N, K, 1, A, B, beta ?? 0, C);
  const reps = Math.max(1, Math.round(1e10 / (2*M*N*K)));
  let best = 0;
  for (let k = 0; k < 3; k++) { const t = performance.now(); for (let i = 0; i < reps; i++) be.gemm(!!ta, !!tb, M, N, K, 1, A, B, beta ?? 0, C);
  best = Math.max(best, 2*M*N*K*reps/((performance.now() - t)/1000)/1e9); }
  console.log(name.padEnd(16), best.toFixed(1), 'GFLOP/s');
}
