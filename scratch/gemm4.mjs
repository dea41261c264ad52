import { backend } from '../dist/src/tensor/index.js';
const be = backend();
const [M, N, K] = [2048, 1376, 512];
const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const A = rnd(M*K), B = rnd(N*K);
for (const mode of ['reuse C', 'fresh C', 'reuse C']) {
  let C = new Float32Array(M*N); const t = performance.now();
  for (let i = 0; i < 10; i++) { if (mode === 'fresh C') C = new Float32Array(M*N); be.gemm(false, true, M, N, K, 1, A, B, 0, C); }
  console.log(mode, (2*M*N*K*10/((performance.now()-t)/1000)/1e9).toFixed(1));
}
