/**
 * The compute backend interface of the training engine: a few coarse, fused kernels over
 * Float32Arrays in row-major layout. Two implementations: the TypeScript reference
 * (src/tensor/ref.ts) and the native addon (src/tensor/native.ts). Autograd (src/tensor/ops.ts)
 * only talks to this interface.
 */
export interface AttentionShape {
  /** batch, sequence length, query heads, key/value heads (GQA when fewer), head size */
  B: number;
  T: number;
  H: number;
  KVH: number;
  hd: number;
  /** scores are scaled by this (1/sqrt(hd) normally) */
  scale: number;
  /** [B*T] document id of each position: attention stays inside a document (block-diagonal) */
  doc?: Int32Array | null;
  /** [B*T] 1 for a real token, 0 for padding: padding is never attended to */
  keyMask?: Uint8Array | null;
}

export type RoundMode = 'bf16' | 'fp16';

export interface Backend {
  readonly name: string;
  /**
   * C = alpha * op(A) op(B) + beta * C for `batch` matrices, op(X) = X^T when trans.
   * A is M x K (K x M stored when transA), B is K x N (N x K stored when transB), C is M x N;
   * batch i starts at i * stride in each array.
   */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array, batch?: number, strideA?: number, strideB?: number, strideC?: number): void;
  /** y = x / rms(x) * w per row of D; rstd[row] = 1 / rms */
  rmsnormFwd(x: Float32Array, w: Float32Array, D: number, eps: number, y: Float32Array, rstd: Float32Array): void;
  /** dx written, dw accumulated */
  rmsnormBwd(dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, D: number, dx: Float32Array, dw: Float32Array): void;
  /** rotary embedding in place on rows of `width` (heads of hd, pairs (2i, 2i+1)), at positions pos; inverse rotates back (the gradient) */
  rope(x: Float32Array, pos: Int32Array, width: number, hd: number, theta: number, inverse: boolean): void;
  /** causal softmax attention; P [B, H, T, T] receives the probabilities (kept for the backward pass) */
  attentionFwd(s: AttentionShape, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, P: Float32Array): void;
  /** dq, dk, dv written */
  attentionBwd(s: AttentionShape, dout: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, P: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array): void;
  /** out = silu(a) * b */
  swigluFwd(a: Float32Array, b: Float32Array, out: Float32Array): void;
  swigluBwd(dout: Float32Array, a: Float32Array, b: Float32Array, da: Float32Array, db: Float32Array): void;
  /** per row of V logits: loss[r] = logsumexp - logit[target] (0 when target == ignore); grad = scale * (softmax - onehot) (0 rows when ignored) */
  xent(logits: Float32Array, V: number, targets: Int32Array, ignore: number, loss: Float32Array, grad: Float32Array, scale?: number): void;
  /** y += a * x */
  axpy(y: Float32Array, x: Float32Array, a: number): void;
  /** one AdamW step as torch.optim.AdamW does it (decoupled decay p *= 1 - lr*wd, bias-corrected moments) */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void;
  embeddingFwd(W: Float32Array, ids: Int32Array, D: number, out: Float32Array): void;
  /** dW accumulated */
  embeddingBwd(dout: Float32Array, ids: Int32Array, D: number, dW: Float32Array): void;
  /** out = x rounded to bfloat16 or IEEE half (round to nearest even; fp16 overflows to Inf) */
  round(x: Float32Array, out: Float32Array, mode: RoundMode): void;
  /** index of the first NaN or Inf, or -1 */
  firstNonFinite(x: Float32Array): number;
  sumSquares(x: Float32Array): number;
}
