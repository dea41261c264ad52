/** The native backend: the tensor kernels of the addon (native/tensor.cc) behind the Backend interface. */
import { native } from '../native/index.js';
import type { AttentionShape, Backend } from './backend.js';

interface TensorAddon {
  gemm(ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array, batch: number, sa: number, sb: number, sc: number): void;
  rmsnormFwd(x: Float32Array, w: Float32Array, D: number, eps: number, y: Float32Array, rstd: Float32Array): void;
  rmsnormBwd(dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, D: number, dx: Float32Array, dw: Float32Array): void;
  rope(x: Float32Array, pos: Int32Array, width: number, hd: number, theta: number, inverse: boolean): void;
  attentionFwd(...a: unknown[]): void;
  attentionBwd(...a: unknown[]): void;
  swigluFwd(a: Float32Array, b: Float32Array, out: Float32Array): void;
  swigluBwd(d: Float32Array, a: Float32Array, b: Float32Array, da: Float32Array, db: Float32Array): void;
  xent(x: Float32Array, V: number, t: Int32Array, ignore: number, loss: Float32Array, grad: Float32Array, scale: number): void;
  axpy(y: Float32Array, x: Float32Array, a: number): void;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, b1: number, b2: number, eps: number, wd: number, step: number): void;
  embeddingFwd(W: Float32Array, ids: Int32Array, D: number, out: Float32Array): void;
  embeddingBwd(d: Float32Array, ids: Int32Array, D: number, dW: Float32Array): void;
  round(x: Float32Array, out: Float32Array, mode: number): void;
  firstNonFinite(x: Float32Array): number;
  sumSquares(x: Float32Array): number;
  setThreads(n: number): void;
  threads(): number;
  gemmKernel: string;
}

const addon = native && 'gemm' in (native as object) ? (native as unknown as TensorAddon) : null;

/** the GEMM micro-kernel the addon chose (avx512f, avx2 or generic), or null without the addon */
export const nativeGemmKernel: string | null = addon?.gemmKernel ?? null;
export function setNativeThreads(n: number): void {
  addon?.setThreads(n);
}
export function nativeThreads(): number {
  return addon?.threads() ?? 1;
}

const shapeArgs = (s: AttentionShape) => [s.B, s.T, s.H, s.KVH, s.hd, s.scale, s.doc ?? null, s.keyMask ?? null];

function make(a: TensorAddon): Backend {
  return {
    name: `native-${a.gemmKernel}`,
    gemm: (ta, tb, M, N, K, alpha, A, B, beta, C, batch = 1, sa = 0, sb = 0, sc = 0) => a.gemm(ta, tb, M, N, K, alpha, A, B, beta, C, batch, sa, sb, sc),
    rmsnormFwd: (x, w, D, eps, y, rstd) => a.rmsnormFwd(x, w, D, eps, y, rstd),
    rmsnormBwd: (dy, x, w, rstd, D, dx, dw) => a.rmsnormBwd(dy, x, w, rstd, D, dx, dw),
    rope: (x, pos, width, hd, theta, inverse) => a.rope(x, pos, width, hd, theta, inverse),
    attentionFwd: (s, q, k, v, out, P) => a.attentionFwd(...shapeArgs(s), q, k, v, out, P),
    attentionBwd: (s, d, q, k, v, P, dq, dk, dv) => a.attentionBwd(...shapeArgs(s), d, q, k, v, P, dq, dk, dv),
    swigluFwd: (x, y, out) => a.swigluFwd(x, y, out),
    swigluBwd: (d, x, y, dx, dy) => a.swigluBwd(d, x, y, dx, dy),
    xent: (x, V, t, ignore, loss, grad, scale = 1) => a.xent(x, V, t, ignore, loss, grad, scale),
    axpy: (y, x, k) => a.axpy(y, x, k),
    adamw: (p, g, m, v, lr, b1, b2, eps, wd, step) => a.adamw(p, g, m, v, lr, b1, b2, eps, wd, step),
    embeddingFwd: (W, ids, D, out) => a.embeddingFwd(W, ids, D, out),
    embeddingBwd: (d, ids, D, dW) => a.embeddingBwd(d, ids, D, dW),
    round: (x, out, mode) => a.round(x, out, mode === 'bf16' ? 1 : 2),
    firstNonFinite: (x) => a.firstNonFinite(x),
    sumSquares: (x) => a.sumSquares(x),
  };
}

export const nativeBackend: Backend | null = addon ? make(addon) : null;
