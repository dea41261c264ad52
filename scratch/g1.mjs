import { backend, setNativeThreads } from '../dist/src/tensor/index.js';
const be = backend(); const n = 1024;
const A = Float32Array.from({ length: n*n }, () => Math.random() - .5), B = A.slice(), C = new Float32Array(n*n);
const out = [];
for (const t of [1, 2]) { setNativeThreads(t); be.gemm(false,false,n,n,n,1,A,B,0,C); let best = 0;
  for (let k = 0; k < 5; k++) { const s = performance.now(); for (let i = 0; i < 4; i++) be.gemm(false,false,n,n,n,1,A,B,0,C); best = Math.max(best, 2*n**3*4/((performance.now()-s)/1000)/1e9); }
  out.push(best.toFixed(1)); }
console.log(process.env.ZIYA_KC ?? 256, process.env.ZIYA_MC ?? 96, process.env.ZIYA_NC ?? 2048, out.join(' '));
