/**
 * The TypeScript reference backend: plain loops, written for clarity, accumulating in
 * float64. The native backend is tested against it op by op, and it is what runs when the
 * addon could not be built.
 */
import type { AttentionShape, Backend, RoundMode } from './backend.js';

const f = Math.fround;

export function roundBf16(x: number): number {
  if (!Number.isFinite(x)) return x;
  const b = new Float32Array([x]);
  const u = new Uint32Array(b.buffer);
  u[0] = ((u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) & 0xffff0000) >>> 0;
  return b[0]!;
}

function halfEven(u: number): number {
  const t = Math.floor(u), d = u - t;
  return d > 0.5 || (d === 0.5 && t % 2 === 1) ? t + 1 : t;
}

/** float32 -> IEEE half (nearest even, overflow to Inf) -> float32 */
export function roundFp16(x: number): number {
  if (Number.isNaN(x) || !Number.isFinite(x)) return x;
  const a = Math.abs(f(x));
  if (a >= 65520) return x > 0 ? Infinity : -Infinity; // 65520 and above round past the largest half, 65504
  if (a < 2 ** -14) {
    const v = halfEven(a * 2 ** 24) * 2 ** -24; // subnormal: a multiple of 2^-24
    return x < 0 ? -v : v;
  }
  const e = Math.floor(Math.log2(a));
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const v = halfEven(q) * ulp;
  return x < 0 ? -v : v;
}

function attnValid(s: AttentionShape, b: number, i: number, j: number): boolean {
  if (j > i) return false;
  if (s.doc && s.doc[b * s.T + j] !== s.doc[b * s.T + i]) return false;
  if (s.keyMask && !s.keyMask[b * s.T + j]) return false;
  return true;
}

export const refBackend: Backend = {
  name: 'ts-reference',

  gemm(transA, transB, M, N, K, alpha, A, B, beta, C, batch = 1, strideA = 0, strideB = 0, strideC = 0) {
    for (let bi = 0; bi < batch; bi++) {
      const oa = bi * strideA, ob = bi * strideB, oc = bi * strideC;
      const acc = new Float64Array(N);
      for (let i = 0; i < M; i++) {
        acc.fill(0);
        for (let k = 0; k < K; k++) {
          const a = transA ? A[oa + k * M + i]! : A[oa + i * K + k]!;
          if (a === 0) continue;
          if (transB) for (let j = 0; j < N; j++) acc[j]! += a * B[ob + j * K + k]!;
          else {
            const row = ob + k * N;
            for (let j = 0; j < N; j++) acc[j]! += a * B[row + j]!;
          }
        }
        const row = oc + i * N;
        for (let j = 0; j < N; j++) C[row + j] = alpha * acc[j]! + (beta === 0 ? 0 : beta * C[row + j]!);
      }
    }
  },

  rmsnormFwd(x, w, D, eps, y, rstd) {
    const rows = x.length / D;
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let i = 0; i < D; i++) ss += x[r * D + i]! * x[r * D + i]!;
      const s = 1 / Math.sqrt(ss / D + eps);
      rstd[r] = s;
      for (let i = 0; i < D; i++) y[r * D + i] = x[r * D + i]! * s * w[i]!;
    }
  },

  rmsnormBwd(dy, x, w, rstd, D, dx, dw) {
    const rows = x.length / D;
    for (let r = 0; r < rows; r++) {
      const s = rstd[r]!;
      let dot = 0;
      for (let i = 0; i < D; i++) dot += w[i]! * dy[r * D + i]! * x[r * D + i]!;
      const c = (s * s * dot) / D;
      for (let i = 0; i < D; i++) {
        const j = r * D + i;
        dx[j] = s * (w[i]! * dy[j]! - x[j]! * c);
        dw[i]! += dy[j]! * x[j]! * s;
      }
    }
  },

  rope(x, pos, width, hd, theta, inverse) {
    const half = hd / 2;
    const freq = new Float64Array(half);
    for (let i = 0; i < half; i++) freq[i] = f(1 / f(Math.pow(theta, f((2 * i) / hd))));
    for (let r = 0; r < pos.length; r++) {
      for (let i = 0; i < half; i++) {
        const v = f(pos[r]! * freq[i]!);
        const c = Math.cos(v), s = inverse ? -Math.sin(v) : Math.sin(v);
        for (let h = 0; h < width; h += hd) {
          const j = r * width + h + 2 * i;
          const a = x[j]!, b = x[j + 1]!;
          x[j] = a * c - b * s;
          x[j + 1] = a * s + b * c;
        }
      }
    }
  },

  attentionFwd(s, q, k, v, out, P) {
    const { B, T, H, KVH, hd, scale } = s;
    const group = H / KVH, qw = H * hd, kw = KVH * hd;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / group);
        for (let i = 0; i < T; i++) {
          const prow = ((b * H + h) * T + i) * T;
          let m = -Infinity;
          for (let j = 0; j < T; j++) {
            if (!attnValid(s, b, i, j)) { P[prow + j] = 0; continue; }
            let d = 0;
            for (let e = 0; e < hd; e++) d += q[(b * T + i) * qw + h * hd + e]! * k[(b * T + j) * kw + g * hd + e]!;
            P[prow + j] = d * scale;
            m = Math.max(m, d * scale);
          }
          let sum = 0;
          const ex = new Float64Array(T);
          if (m !== -Infinity)
            for (let j = 0; j < T; j++) if (attnValid(s, b, i, j)) { ex[j] = Math.exp(P[prow + j]! - m); sum += ex[j]!; }
          for (let j = 0; j < T; j++) P[prow + j] = sum > 0 ? ex[j]! / sum : 0;
          for (let e = 0; e < hd; e++) {
            let o = 0;
            for (let j = 0; j <= i; j++) o += P[prow + j]! * v[(b * T + j) * kw + g * hd + e]!;
            out[(b * T + i) * qw + h * hd + e] = o;
          }
        }
      }
  },

  attentionBwd(s, dout, q, k, v, P, dq, dk, dv) {
    const { B, T, H, KVH, hd, scale } = s;
    const group = H / KVH, qw = H * hd, kw = KVH * hd;
    dq.fill(0);
    dk.fill(0);
    dv.fill(0);
    const dS = new Float64Array(T);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / group);
        for (let i = 0; i < T; i++) {
          const prow = ((b * H + h) * T + i) * T;
          let dot = 0;
          for (let j = 0; j < T; j++) {
            let dp = 0;
            for (let e = 0; e < hd; e++) dp += dout[(b * T + i) * qw + h * hd + e]! * v[(b * T + j) * kw + g * hd + e]!;
            dS[j] = dp;
            dot += P[prow + j]! * dp;
          }
          for (let j = 0; j < T; j++) {
            const p = P[prow + j]!;
            if (p === 0) continue;
            const ds = p * (dS[j]! - dot) * scale;
            for (let e = 0; e < hd; e++) {
              const qi = (b * T + i) * qw + h * hd + e, kj = (b * T + j) * kw + g * hd + e;
              dq[qi]! += ds * k[kj]!;
              dk[kj]! += ds * q[qi]!;
              dv[kj]! += p * dout[qi]!;
            }
          }
        }
      }
  },

  swigluFwd(a, b, out) {
    for (let i = 0; i < a.length; i++) {
      const sg = 1 / (1 + Math.exp(-a[i]!));
      out[i] = a[i]! * sg * b[i]!;
    }
  },

  swigluBwd(d, a, b, da, db) {
    for (let i = 0; i < a.length; i++) {
      const sg = 1 / (1 + Math.exp(-a[i]!));
      da[i] = d[i]! * b[i]! * sg * (1 + a[i]! * (1 - sg));
      db[i] = d[i]! * a[i]! * sg;
    }
  },

  xent(x, V, t, ignore, loss, grad, scale = 1) {
    for (let r = 0; r < t.length; r++) {
      const o = r * V;
      if (t[r] === ignore) { loss[r] = 0; grad.fill(0, o, o + V); continue; }
      if (t[r]! < 0 || t[r]! >= V) throw new RangeError(`xent: target ${t[r]} of row ${r} is outside the vocabulary (${V})`);
      let m = -Infinity;
      for (let j = 0; j < V; j++) m = Math.max(m, x[o + j]!);
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(x[o + j]! - m);
      for (let j = 0; j < V; j++) grad[o + j] = (scale * Math.exp(x[o + j]! - m)) / sum;
      loss[r] = m + Math.log(sum) - x[o + t[r]!]!;
      grad[o + t[r]!]! -= scale;
    }
  },

  axpy(y, x, a) {
    for (let i = 0; i < y.length; i++) y[i]! += a * x[i]!;
  },

  adamw(p, g, m, v, lr, b1, b2, eps, wd, step) {
    const bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      p[i] = p[i]! * (1 - lr * wd) - (lr / bc1) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps);
    }
  },

  embeddingFwd(W, ids, D, out) {
    const V = W.length / D;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i]! < 0 || ids[i]! >= V) throw new RangeError(`embedding: token id ${ids[i]} at ${i} is outside the vocabulary (${V})`);
      out.set(W.subarray(ids[i]! * D, ids[i]! * D + D), i * D);
    }
  },

  embeddingBwd(d, ids, D, dW) {
    for (let i = 0; i < ids.length; i++) for (let j = 0; j < D; j++) dW[ids[i]! * D + j]! += d[i * D + j]!;
  },

  round(x, out, mode: RoundMode) {
    const fn = mode === 'bf16' ? roundBf16 : roundFp16;
    for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!);
  },

  firstNonFinite(x) {
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
    return -1;
  },

  sumSquares(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
    return s;
  },
};
