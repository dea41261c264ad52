/**
 * Differentiable ops over the backend kernels. Activations are row-major [rows, width];
 * linear weights are [out, in] as in PyTorch, so y = x W^T.
 */
import { backend } from './index.js';
import type { AttentionShape, RoundMode } from './backend.js';
import { NonFiniteError, Tensor, backward, engine } from './tensor.js';

function out(data: Float32Array, shape: number[], op: string, inputs: Tensor[], bwd: (g: Float32Array) => void): Tensor {
  if (engine.checkFinite) {
    const at = backend().firstNonFinite(data);
    if (at >= 0) throw new NonFiniteError(op, 'forward', at, data[at]!);
  }
  const needs = engine.gradEnabled && inputs.some((t) => t.requiresGrad);
  const t = new Tensor(data, shape, needs, op);
  if (needs) {
    t.inputs = inputs;
    t.backwardFn = () => bwd(t.grad!);
    engine.tape.push(t);
  }
  return t;
}

export function param(data: Float32Array, shape: number[], name = 'param'): Tensor {
  return new Tensor(data, shape, true, name);
}
export function constant(data: Float32Array, shape: number[], name = 'const'): Tensor {
  return new Tensor(data, shape, false, name);
}

const rows = (t: Tensor) => t.size / t.shape[t.shape.length - 1]!;
const last = (t: Tensor) => t.shape[t.shape.length - 1]!;

/** rows of W [V, D] picked by ids -> [n, D] */
export function embedding(W: Tensor, ids: Int32Array, label = 'embedding'): Tensor {
  const D = W.shape[1]!;
  const y = new Float32Array(ids.length * D);
  backend().embeddingFwd(W.data, ids, D, y);
  return out(y, [ids.length, D], label, [W], (g) => {
    if (W.requiresGrad) backend().embeddingBwd(g, ids, D, W.g());
  });
}

/** x [N, in] times W [out, in] transposed -> [N, out] */
export function linear(x: Tensor, W: Tensor, label = 'linear'): Tensor {
  const N = rows(x), K = last(x), M = W.shape[0]!;
  if (W.shape[1] !== K) throw new RangeError(`${label}: input width ${K} does not match weight [${W.shape.join(', ')}]`);
  const y = new Float32Array(N * M);
  const be = backend();
  be.gemm(false, true, N, M, K, 1, x.data, W.data, 0, y);
  return out(y, [...x.shape.slice(0, -1), M], label, [x, W], (g) => {
    if (x.requiresGrad) be.gemm(false, false, N, K, M, 1, g, W.data, 1, x.g());
    if (W.requiresGrad) be.gemm(true, false, M, K, N, 1, g, x.data, 1, W.g());
  });
}

/** batched op(a) op(b): a [batch, M, K] (or [batch, K, M] when transA), b [batch, K, N] (or [batch, N, K]) */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false, label = 'matmul'): Tensor {
  const ra = a.shape.length, rb = b.shape.length;
  const batch = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  if (b.shape.slice(0, -2).reduce((x, y) => x * y, 1) !== batch) throw new RangeError(`${label}: batch sizes differ`);
  const M = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!, K = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!, N = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== Kb) throw new RangeError(`${label}: inner sizes differ (${K} vs ${Kb})`);
  const y = new Float32Array(batch * M * N);
  const be = backend();
  be.gemm(transA, transB, M, N, K, 1, a.data, b.data, 0, y, batch, M * K, K * N, M * N);
  return out(y, [...a.shape.slice(0, -2), M, N], label, [a, b], (g) => {
    if (a.requiresGrad) {
      if (!transA) be.gemm(false, !transB, M, K, N, 1, g, b.data, 1, a.g(), batch, M * N, K * N, M * K);
      else be.gemm(transB, true, K, M, N, 1, b.data, g, 1, a.g(), batch, K * N, M * N, M * K);
    }
    if (b.requiresGrad) {
      if (!transB) be.gemm(!transA, false, K, N, M, 1, a.data, g, 1, b.g(), batch, M * K, M * N, K * N);
      else be.gemm(true, transA, N, K, M, 1, g, a.data, 1, b.g(), batch, M * N, M * K, K * N);
    }
  });
}

/** RMSNorm over the last dimension, in FP32 */
export function rmsnorm(x: Tensor, w: Tensor, eps: number, label = 'rmsnorm'): Tensor {
  const D = last(x);
  const y = new Float32Array(x.size);
  const rstd = new Float32Array(rows(x));
  const be = backend();
  be.rmsnormFwd(x.data, w.data, D, eps, y, rstd);
  return out(y, x.shape, label, [x, w], (g) => {
    const dx = gradSink(x);
    const dw = w.requiresGrad ? w.g() : new Float32Array(D);
    be.rmsnormBwd(g, x.data, w.data, rstd, D, dx.buf, dw);
    dx.done();
  });
}

/** rotary position embedding on rows [n, heads*hd] at positions pos (length n), in FP32 */
export function rope(x: Tensor, pos: Int32Array, hd: number, theta: number, label = 'rope'): Tensor {
  const width = last(x);
  if (pos.length !== rows(x)) throw new RangeError(`${label}: ${pos.length} positions for ${rows(x)} rows`);
  const y = x.data.slice();
  const be = backend();
  be.rope(y, pos, width, hd, theta, false);
  return out(y, x.shape, label, [x], (g) => {
    if (!x.grad) {
      x.grad = g.slice();
      be.rope(x.grad, pos, width, hd, theta, true);
    } else {
      const d = g.slice();
      be.rope(d, pos, width, hd, theta, true);
      addInto(x.grad, d);
    }
  });
}

/** silu(a) * b */
export function swiglu(a: Tensor, b: Tensor, label = 'swiglu'): Tensor {
  const y = new Float32Array(a.size);
  const be = backend();
  be.swigluFwd(a.data, b.data, y);
  return out(y, a.shape, label, [a, b], (g) => {
    const da = gradSink(a), db = gradSink(b);
    be.swigluBwd(g, a.data, b.data, da.buf, db.buf);
    da.done();
    db.done();
  });
}

/** fused causal attention (softmax in FP32); q [B*T, H*hd], k and v [B*T, KVH*hd] -> [B*T, H*hd] */
export function attention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, label = 'attention'): Tensor {
  const y = new Float32Array(q.size);
  const P = new Float32Array(s.B * s.H * s.T * s.T);
  const be = backend();
  be.attentionFwd(s, q.data, k.data, v.data, y, P);
  return out(y, q.shape, label, [q, k, v], (g) => {
    const dq = gradSink(q), dk = gradSink(k), dv = gradSink(v);
    be.attentionBwd(s, g, q.data, k.data, v.data, P, dq.buf, dk.buf, dv.buf);
    dq.done();
    dk.done();
    dv.done();
  });
}

/** softmax over the last dimension (FP32) */
export function softmax(x: Tensor, label = 'softmax'): Tensor {
  const D = last(x), R = rows(x);
  const y = new Float32Array(x.size);
  for (let r = 0; r < R; r++) {
    let m = -Infinity;
    for (let i = 0; i < D; i++) m = Math.max(m, x.data[r * D + i]!);
    let s = 0;
    for (let i = 0; i < D; i++) s += Math.exp(x.data[r * D + i]! - m);
    for (let i = 0; i < D; i++) y[r * D + i] = Math.exp(x.data[r * D + i]! - m) / s;
  }
  return out(y, x.shape, label, [x], (g) => {
    const dx = x.g();
    for (let r = 0; r < R; r++) {
      let dot = 0;
      for (let i = 0; i < D; i++) dot += g[r * D + i]! * y[r * D + i]!;
      for (let i = 0; i < D; i++) dx[r * D + i]! += y[r * D + i]! * (g[r * D + i]! - dot);
    }
  });
}

export interface CrossEntropyResult {
  loss: Tensor;
  /** number of targets that counted (not ignored) */
  count: number;
  /** per-row losses (0 for ignored rows) */
  rowLoss: Float32Array;
}

/** mean cross-entropy of logits [N, V] against targets (ignoreIndex rows left out), fused with its softmax */
export function crossEntropy(logits: Tensor, targets: Int32Array, ignoreIndex = -100, label = 'cross_entropy'): CrossEntropyResult {
  const V = last(logits), N = rows(logits);
  if (targets.length !== N) throw new RangeError(`${label}: ${targets.length} targets for ${N} rows`);
  let count = 0;
  for (let i = 0; i < N; i++) if (targets[i] !== ignoreIndex) count++;
  const rowLoss = new Float32Array(N);
  // the kernel writes the gradient of the mean loss, (softmax - onehot) / count, next to the loss
  const grad = new Float32Array(logits.size);
  backend().xent(logits.data, V, targets, ignoreIndex, rowLoss, grad, count ? 1 / count : 0);
  let sum = 0;
  for (let i = 0; i < N; i++) sum += rowLoss[i]!;
  const loss = out(Float32Array.of(count ? sum / count : 0), [1], label, [logits], (g) => {
    if (!count || !logits.requiresGrad) return;
    if (!logits.grad && g[0] === 1) logits.grad = grad;
    else backend().axpy(logits.g(), grad, g[0]!);
  });
  return { loss, count, rowLoss };
}

export function add(a: Tensor, b: Tensor, label = 'add'): Tensor {
  if (a.size !== b.size) throw new RangeError(`${label}: sizes differ (${a.size} vs ${b.size})`);
  const y = new Float32Array(a.size);
  for (let i = 0; i < y.length; i++) y[i] = a.data[i]! + b.data[i]!;
  return out(y, a.shape, label, [a, b], (g) => {
    for (const t of [a, b]) {
      if (!t.requiresGrad) continue;
      if (!t.grad) t.grad = g.slice();
      else addInto(t.grad, g);
    }
  });
}

export function mul(a: Tensor, b: Tensor, label = 'mul'): Tensor {
  if (a.size !== b.size) throw new RangeError(`${label}: sizes differ (${a.size} vs ${b.size})`);
  const y = new Float32Array(a.size);
  for (let i = 0; i < y.length; i++) y[i] = a.data[i]! * b.data[i]!;
  return out(y, a.shape, label, [a, b], (g) => {
    if (a.requiresGrad) { const d = a.g(); for (let i = 0; i < d.length; i++) d[i]! += g[i]! * b.data[i]!; }
    if (b.requiresGrad) { const d = b.g(); for (let i = 0; i < d.length; i++) d[i]! += g[i]! * a.data[i]!; }
  });
}

export function scale(a: Tensor, s: number, label = 'scale'): Tensor {
  const y = new Float32Array(a.size);
  for (let i = 0; i < y.length; i++) y[i] = a.data[i]! * s;
  return out(y, a.shape, label, [a], (g) => {
    const d = a.g();
    for (let i = 0; i < d.length; i++) d[i]! += g[i]! * s;
  });
}

/** sum of all elements -> [1] */
export function sum(a: Tensor, label = 'sum'): Tensor {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]!;
  return out(Float32Array.of(s), [1], label, [a], (g) => {
    const d = a.g();
    for (let i = 0; i < d.length; i++) d[i]! += g[0]!;
  });
}

/** rounds to BF16 or FP16 (the mixed-precision emulation); the gradient passes straight through */
export function roundTo(a: Tensor, mode: RoundMode, label = `round_${mode}`): Tensor {
  const y = new Float32Array(a.size);
  backend().round(a.data, y, mode);
  return out(y, a.shape, label, [a], (g) => {
    if (a.requiresGrad) addInto(a.g(), g);
  });
}

export function addInto(dst: Float32Array, src: Float32Array): void {
  backend().axpy(dst, src, 1);
}

/**
 * Where a kernel that writes (not accumulates) a gradient should put it: straight into t.grad
 * when t has none yet, else into a scratch buffer that `done` adds to t.grad.
 */
function gradSink(t: Tensor): { buf: Float32Array; done: () => void } {
  if (!t.requiresGrad) return { buf: new Float32Array(t.size), done: () => {} };
  if (!t.grad) return { buf: t.g(), done: () => {} };
  const buf = new Float32Array(t.size);
  return { buf, done: () => addInto(t.grad!, buf) };
}

/** backward pass from a scalar loss, checking every produced gradient for NaN/Inf when engine.checkFinite */
export function backprop(loss: Tensor, scale = 1): void {
  backward(loss, scale === 1 ? undefined : Float32Array.of(scale), (x) => backend().firstNonFinite(x));
}

/**
 * The output projection fused with the cross-entropy (as Liger's fused linear cross-entropy):
 * logits are made, turned into gradients and dropped chunk by chunk of rows, so the
 * [N, vocab] logits never exist whole. The gradients of x and W are computed in the forward
 * pass (when a gradient is wanted) and scaled by the upstream gradient in the backward pass.
 */
export function linearCrossEntropy(x: Tensor, W: Tensor, targets: Int32Array, ignoreIndex = -100, label = 'output+cross_entropy', chunkRows = 512): CrossEntropyResult {
  const N = rows(x), K = last(x), V = W.shape[0]!;
  if (W.shape[1] !== K) throw new RangeError(`${label}: input width ${K} does not match weight [${W.shape.join(', ')}]`);
  if (targets.length !== N) throw new RangeError(`${label}: ${targets.length} targets for ${N} rows`);
  const be = backend();
  let count = 0;
  for (let i = 0; i < N; i++) if (targets[i] !== ignoreIndex) count++;
  const wantGrad = engine.gradEnabled && (x.requiresGrad || W.requiresGrad);
  const rowLoss = new Float32Array(N);
  const chunk = Math.min(chunkRows, N);
  const logits = new Float32Array(chunk * V), grad = new Float32Array(chunk * V);
  const dx = wantGrad && x.requiresGrad ? new Float32Array(N * K) : null;
  const dW = wantGrad && W.requiresGrad ? new Float32Array(V * K) : null;
  for (let r0 = 0; r0 < N; r0 += chunk) {
    const n = Math.min(chunk, N - r0);
    const xs = x.data.subarray(r0 * K, (r0 + n) * K);
    const lg = logits.subarray(0, n * V), gr = grad.subarray(0, n * V);
    be.gemm(false, true, n, V, K, 1, xs, W.data, 0, lg);
    if (engine.checkFinite) {
      const at = be.firstNonFinite(lg);
      if (at >= 0) throw new NonFiniteError(label, 'forward', r0 * V + at, lg[at]!);
    }
    be.xent(lg, V, targets.subarray(r0, r0 + n), ignoreIndex, rowLoss.subarray(r0, r0 + n), gr, count ? 1 / count : 0);
    if (dx) be.gemm(false, false, n, K, V, 1, gr, W.data, 0, dx.subarray(r0 * K, (r0 + n) * K));
    if (dW) be.gemm(true, false, V, K, n, 1, gr, xs, 1, dW);
  }
  let sum = 0;
  for (let i = 0; i < N; i++) sum += rowLoss[i]!;
  const loss = out(Float32Array.of(count ? sum / count : 0), [1], label, [x, W], (g) => {
    const s = g[0]!;
    if (dx) {
      if (!x.grad && s === 1) x.grad = dx;
      else be.axpy(x.g(), dx, s);
    }
    if (dW) {
      if (!W.grad && s === 1) W.grad = dW;
      else be.axpy(W.g(), dW, s);
    }
  });
  return { loss, count, rowLoss };
}
