// Tensor kernels and autograd: native vs reference on every kernel, and every op's gradient
// against central finite differences on both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../src/core/hash.js';
import { nativeBackend, refBackend, setBackend, type AttentionShape, type Backend } from '../src/tensor/index.js';
import { roundBf16, roundFp16 } from '../src/tensor/ref.js';
import * as op from '../src/tensor/ops.js';
import { NonFiniteError, Tensor, discardTape, engine } from '../src/tensor/tensor.js';

const backends: Backend[] = [refBackend, ...(nativeBackend ? [nativeBackend] : [])];
if (!nativeBackend) console.log('# native addon not built: only the reference backend is tested');

function rand(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}
function maxRel(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
  return num / Math.max(den, 1e-6);
}
function close(a: Float32Array, b: Float32Array, tol: number, what: string) {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const e = maxRel(a, b);
  assert.ok(e <= tol, `${what}: max relative difference ${e.toExponential(2)} > ${tol}`);
}

// ---------------------------------------------------------------- kernels: native vs reference
test('native GEMM equals the reference for every transpose, odd sizes, alpha/beta and batches', { skip: !nativeBackend && 'native addon not built' }, () => {
  const nb = nativeBackend!;
  // the last two take the shared-packed-B path (rows split across threads, K over one KC block, N over one NC block)
  for (const [M, N, K, batch] of [[1, 9, 5, 1], [3, 40, 17, 1], [13, 70, 300, 1], [97, 65, 129, 1], [130, 260, 40, 1], [5, 2100, 33, 1], [17, 19, 23, 3], [300, 200, 400, 1], [2200, 2100, 6, 1]] as const)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const A = rand(batch * M * K, M + K), B = rand(batch * K * N, N + K), C0 = rand(batch * M * N, 7);
        const c1 = C0.slice(), c2 = C0.slice();
        refBackend.gemm(ta, tb, M, N, K, 0.7, A, B, 0.3, c1, batch, M * K, K * N, M * N);
        nb.gemm(ta, tb, M, N, K, 0.7, A, B, 0.3, c2, batch, M * K, K * N, M * N);
        close(c2, c1, 1e-5, `gemm ${M}x${N}x${K} b${batch} ta=${ta} tb=${tb}`);
      }
  // beta = 0 ignores NaN already in C
  const C = new Float32Array(16).fill(NaN);
  nb.gemm(false, false, 4, 4, 4, 1, rand(16, 1), rand(16, 2), 0, C);
  assert.equal(nb.firstNonFinite(C), -1);
});

function attnCases(): { s: AttentionShape; name: string }[] {
  const B = 2, T = 11;
  const doc = new Int32Array(B * T), mask = new Uint8Array(B * T).fill(1);
  for (let i = 0; i < B * T; i++) doc[i] = (i % T) < 4 ? 0 : (i % T) < 9 ? 1 : 2;
  for (let t = 8; t < T; t++) mask[T + t] = 0; // second row padded at the end
  return [
    { name: 'MHA causal', s: { B, T, H: 4, KVH: 4, hd: 8, scale: 1 / Math.sqrt(8) } },
    { name: 'GQA causal', s: { B, T, H: 4, KVH: 2, hd: 6, scale: 1 / Math.sqrt(6) } },
    { name: 'GQA + documents + padding', s: { B, T, H: 4, KVH: 1, hd: 4, scale: 0.5, doc, keyMask: mask } },
    // longer than one 64-row tile of the native kernel, documents crossing tile edges
    { name: 'long (3 tiles) + documents', s: { B: 1, T: 150, H: 2, KVH: 1, hd: 8, scale: 0.3, doc: Int32Array.from({ length: 150 }, (_, i) => (i < 70 ? 0 : i < 131 ? 1 : 2)) } },
    // a wider head, GQA, documents and padding together across tiles (the unmasked cases above take the kernel's no-mask softmax)
    { name: 'large heads, 3 tiles, GQA + documents + padding', s: { B: 2, T: 150, H: 2, KVH: 1, hd: 40, scale: 0.15, doc: Int32Array.from({ length: 300 }, (_, i) => (i % 150 < 70 ? 0 : 1)), keyMask: Uint8Array.from({ length: 300 }, (_, i) => (i >= 290 ? 0 : 1)) } },
  ];
}

test('native fused kernels equal the reference (rmsnorm, rope, attention, swiglu, xent, adamw, embedding, rounding)', { skip: !nativeBackend && 'native addon not built' }, () => {
  const nb = nativeBackend!;
  const both = (fn: (b: Backend) => Float32Array[], what: string, tol = 2e-5) => {
    const [r, n] = [fn(refBackend), fn(nb)];
    r.forEach((x, i) => close(n[i]!, x, tol, `${what}[${i}]`));
  };
  const D = 37, R = 9;
  const x = rand(R * D, 1), w = rand(D, 2), dy = rand(R * D, 3);
  both((b) => { const y = new Float32Array(R * D), s = new Float32Array(R); b.rmsnormFwd(x, w, D, 1e-5, y, s); const dx = new Float32Array(R * D), dw = new Float32Array(D).fill(0.5); b.rmsnormBwd(dy, x, w, s, D, dx, dw); return [y, s, dx, dw]; }, 'rmsnorm');
  const pos = Int32Array.from({ length: R }, (_, i) => i * 7);
  both((b) => { const y = rand(R * 24, 4); b.rope(y, pos, 24, 8, 10000, false); const z = y.slice(); b.rope(z, pos, 24, 8, 10000, true); return [y, z]; }, 'rope', 1e-5);
  for (const { s, name } of attnCases()) {
    const nq = s.B * s.T * s.H * s.hd, nk = s.B * s.T * s.KVH * s.hd;
    const q = rand(nq, 5), k = rand(nk, 6), v = rand(nk, 7), d = rand(nq, 8);
    both((b) => {
      const o = new Float32Array(nq), P = new Float32Array(s.B * s.H * s.T * s.T);
      b.attentionFwd(s, q, k, v, o, P);
      const dq = new Float32Array(nq), dk = new Float32Array(nk), dv = new Float32Array(nk);
      b.attentionBwd(s, d, q, k, v, P, dq, dk, dv);
      return [o, P, dq, dk, dv];
    }, `attention ${name}`);
  }
  const a = rand(1000, 9, 6), c = rand(1000, 10);
  both((b) => { const o = new Float32Array(1000), da = new Float32Array(1000), dc = new Float32Array(1000); b.swigluFwd(a, c, o); b.swigluBwd(c, a, c, da, dc); return [o, da, dc]; }, 'swiglu');
  const V = 301, logits = rand(7 * V, 11, 8), t = Int32Array.of(0, 300, -100, 5, 17, 17, 299);
  both((b) => { const l = new Float32Array(7), g = new Float32Array(7 * V); b.xent(logits, V, t, -100, l, g); return [l, g]; }, 'xent');
  both((b) => { const l = new Float32Array(7), g = new Float32Array(7 * V); b.xent(logits, V, t, -100, l, g, 0.25); return [l, g]; }, 'xent scaled');
  both((b) => { const y = rand(1003, 20); b.axpy(y, rand(1003, 21), -0.7); return [y]; }, 'axpy');
  both((b) => { const p = rand(500, 12), g = rand(500, 13), m = rand(500, 14, 0.1), v = rand(500, 15, 0.1).map(Math.abs); for (let s = 1; s <= 3; s++) b.adamw(p, g, m, v, 1e-3, 0.9, 0.95, 1e-8, 0.1, s); return [p, m, v]; }, 'adamw', 1e-5);
  const W = rand(50 * 6, 16), ids = Int32Array.of(3, 49, 0, 3);
  both((b) => { const o = new Float32Array(24); b.embeddingFwd(W, ids, 6, o); const dW = new Float32Array(300); b.embeddingBwd(rand(24, 17), ids, 6, dW); return [o, dW]; }, 'embedding', 0);
  const big = Float32Array.of(1, 1.00390625, 1.0048828125, -3.14159, 65504, 65519, 65520, 1e5, 3e-8, 6.1e-5, -0, 1e-3, NaN, Infinity, 7e38);
  for (const mode of ['bf16', 'fp16'] as const) {
    const r = new Float32Array(big.length), n = new Float32Array(big.length);
    refBackend.round(big, r, mode);
    nb.round(big, n, mode);
    assert.deepEqual([...n].map(String), [...r].map(String), `round ${mode}`);
  }
});

test('BF16 and FP16 rounding follow round-to-nearest-even and FP16 overflows to Inf', () => {
  assert.equal(roundBf16(1.00390625), 1); // halfway, to even
  assert.equal(roundBf16(1.01171875), 1.015625);
  assert.equal(roundBf16(1e38) > 9.9e37, true);
  assert.equal(roundFp16(65504), 65504);
  assert.equal(roundFp16(65519), 65504);
  assert.equal(roundFp16(65520), Infinity);
  assert.equal(roundFp16(1 + 2 ** -11), 1); // halfway, to even
  assert.equal(roundFp16(1 + 3 * 2 ** -11), 1 + 2 ** -9);
  assert.equal(roundFp16(2 ** -25), 0);
  assert.equal(roundFp16(3 * 2 ** -25), 2 ** -23);
  assert.equal(roundFp16(1e-3), 0.0010004043579101562);
});

// ---------------------------------------------------------------- gradients vs finite differences
/** checks d(sum(f(inputs) * R))/d input against central differences for every input */
function gradcheck(name: string, inputs: Tensor[], f: () => Tensor, tol = 2e-2, h = 1e-2) {
  const y0 = f();
  discardTape();
  const R = rand(y0.size, 99);
  const lossOf = () => { const y = f(); discardTape(); let s = 0; for (let i = 0; i < y.size; i++) s += y.data[i]! * R[i]!; return s; };
  for (const t of inputs) t.grad = null;
  const y = f();
  op.backprop(op.sum(op.mul(y, new Tensor(R, y.shape))));
  for (const [ti, t] of inputs.entries()) {
    const analytic = t.grad ?? new Float32Array(t.size);
    const numeric = new Float32Array(t.size);
    const stride = Math.max(1, Math.floor(t.size / 60));
    const idx: number[] = [];
    for (let i = 0; i < t.size; i += stride) idx.push(i);
    for (const i of idx) {
      const v = t.data[i]!;
      t.data[i] = v + h; const lp = lossOf();
      t.data[i] = v - h; const lm = lossOf();
      t.data[i] = v;
      numeric[i] = (lp - lm) / (2 * h);
    }
    const a = Float32Array.from(idx, (i) => analytic[i]!), n = Float32Array.from(idx, (i) => numeric[i]!);
    close(a, n, tol, `${name}: gradient of input ${ti}`);
  }
}

for (const b of backends) {
  test(`gradients match finite differences for every op (${b.name})`, () => {
    setBackend(b);
    try {
      const p = (n: number, seed: number, shape: number[], s = 1) => op.param(rand(n, seed, s), shape);
      { const W = p(10 * 4, 1, [10, 4]); gradcheck('embedding', [W], () => op.embedding(W, Int32Array.of(1, 9, 1, 0))); }
      { const x = p(6 * 5, 2, [6, 5]), W = p(7 * 5, 3, [7, 5]); gradcheck('linear', [x, W], () => op.linear(x, W)); }
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = p(2 * 3 * 4, 4, ta ? [2, 4, 3] : [2, 3, 4]), c = p(2 * 4 * 5, 5, tb ? [2, 5, 4] : [2, 4, 5]);
          gradcheck(`matmul ta=${ta} tb=${tb}`, [a, c], () => op.matmul(a, c, ta, tb));
        }
      { const x = p(4 * 6, 6, [4, 6]), w = p(6, 7, [6]); gradcheck('rmsnorm', [x, w], () => op.rmsnorm(x, w, 1e-5)); }
      { const x = p(5 * 8, 8, [5, 8]); gradcheck('rope', [x], () => op.rope(x, Int32Array.of(0, 1, 2, 7, 300), 4, 10000)); }
      { const a = p(30, 9, [5, 6], 3), c = p(30, 10, [5, 6]); gradcheck('swiglu', [a, c], () => op.swiglu(a, c)); }
      for (const { s, name } of attnCases()) {
        const q = p(s.B * s.T * s.H * s.hd, 11, [s.B * s.T, s.H * s.hd]);
        const k = p(s.B * s.T * s.KVH * s.hd, 12, [s.B * s.T, s.KVH * s.hd]);
        const v = p(s.B * s.T * s.KVH * s.hd, 13, [s.B * s.T, s.KVH * s.hd]);
        gradcheck(`attention ${name}`, [q, k, v], () => op.attention(q, k, v, s));
      }
      { const x = p(3 * 7, 14, [3, 7], 2); gradcheck('softmax', [x], () => op.softmax(x)); }
      { const x = p(5 * 9, 15, [5, 9], 3); gradcheck('cross_entropy (with ignored rows)', [x], () => op.crossEntropy(x, Int32Array.of(2, -100, 8, 0, -100)).loss); }
      { const a = p(12, 16, [3, 4]), c = p(12, 17, [3, 4]); gradcheck('add', [a, c], () => op.add(a, c)); gradcheck('mul', [a, c], () => op.mul(a, c)); gradcheck('scale', [a], () => op.scale(a, -1.5)); }
    } finally {
      setBackend(nativeBackend ?? refBackend);
    }
  });
}

test('NaN or Inf in a forward or backward pass is reported with the op that produced it', () => {
  const x = op.param(Float32Array.of(1, 2, 3, 4), [2, 2]);
  const W = op.param(Float32Array.of(1e30, 1e30, 1, 1), [2, 2]);
  const y = op.linear(x, W, 'layers.0.wq');
  assert.throws(() => op.linear(y, W, 'layers.0.wo'), (e: unknown) => e instanceof NonFiniteError && e.op === 'layers.0.wo' && e.phase === 'forward');
  discardTape();
  // finite forward (1e-20 * 1e30 * 1e10), overflowing gradient (1e10 * 1e30 for a)
  const a = op.param(Float32Array.of(1e-20, 2e-20), [1, 2]);
  const c = op.param(Float32Array.of(1e30, 1e30), [1, 2]);
  const l = op.scale(op.sum(op.mul(a, c, 'layers.3.mul')), 1e10, 'loss_scale');
  assert.throws(() => op.backprop(l), (e: unknown) => e instanceof NonFiniteError && e.phase === 'backward' && e.op === 'layers.3.mul');
  assert.equal(engine.tape.length, 0);
});

test('every GEMM micro-kernel (AVX-512 layout, AVX2, SSE) equals the reference, forced with ZIYA_SIMD in a child process', { skip: !nativeBackend && 'native addon not built' }, async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    const { nativeBackend, refBackend } = await import(${JSON.stringify(new URL('../src/tensor/index.js', import.meta.url).href)});
    let seed = 5; const r = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
    let worst = 0;
    for (const [M, N, K] of [[1, 33, 7], [9, 70, 300], [100, 65, 257], [37, 1000, 40], [300, 200, 400]]) for (const ta of [false, true]) for (const tb of [false, true]) {
      const A = Float32Array.from({ length: M * K }, r), B = Float32Array.from({ length: K * N }, r), C0 = Float32Array.from({ length: M * N }, r);
      const c1 = C0.slice(), c2 = C0.slice();
      refBackend.gemm(ta, tb, M, N, K, 1.5, A, B, 0.5, c1); nativeBackend.gemm(ta, tb, M, N, K, 1.5, A, B, 0.5, c2);
      for (let i = 0; i < c1.length; i++) worst = Math.max(worst, Math.abs(c1[i] - c2[i]));
    }
    console.log(JSON.stringify({ kernel: nativeBackend.name, worst }));`;
  for (const level of ['avx512-layout', 'avx2', 'generic']) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ZIYA_SIMD: level } });
    assert.equal(r.status, 0, r.stderr);
    const { kernel, worst } = JSON.parse(r.stdout.trim()) as { kernel: string; worst: number };
    console.log(`ZIYA_SIMD=${level}: ${kernel}, max abs difference ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `${kernel}: ${worst}`);
  }
});
