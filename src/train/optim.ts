/**
 * AdamW (decoupled weight decay, as torch.optim.AdamW), global gradient-norm clipping and the
 * warmup + cosine learning-rate schedule of Ziya2 (β = (0.9, 0.95), weight decay 0.1,
 * clipping 1.0, warmup 1%, cosine down to 1e-5).
 */
import { backend } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** parameters that get weight decay: by default matrices and embeddings (not norms), as nanoGPT and Megatron-LM */
  decay?: (name: string, t: Tensor) => boolean;
}

export class AdamW {
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();
  step = 0;
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private decay: (name: string, t: Tensor) => boolean;

  constructor(readonly params: Map<string, Tensor>, opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 3e-4;
    this.betas = opts.betas ?? [0.9, 0.95];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.1;
    this.decay = opts.decay ?? ((_, t) => t.shape.length >= 2);
    for (const [k, t] of params) {
      this.m.set(k, new Float32Array(t.size));
      this.v.set(k, new Float32Array(t.size));
    }
  }

  /** one update with the gradients in the parameters (parameters without a gradient are left alone) */
  update(lr = this.lr): void {
    this.step++;
    const be = backend();
    for (const [k, t] of this.params) {
      if (!t.grad) continue;
      be.adamw(t.data, t.grad, this.m.get(k)!, this.v.get(k)!, lr, this.betas[0], this.betas[1], this.eps, this.decay(k, t) ? this.weightDecay : 0, this.step);
    }
  }

  zeroGrad(): void {
    for (const t of this.params.values()) t.zeroGrad();
  }
}

/** scales all gradients so that their global L2 norm is at most maxNorm; returns the norm before clipping */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const be = backend();
  const list = [...params].filter((t) => t.grad);
  let ss = 0;
  for (const t of list) ss += be.sumSquares(t.grad!);
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const t of list) {
      const g = t.grad!;
      for (let i = 0; i < g.length; i++) g[i]! *= s;
    }
  }
  return norm;
}

export interface Schedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** linear warmup to maxLr, then cosine decay to minLr at totalSteps (step counts from 0) */
export function cosineLr(step: number, s: Schedule): number {
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const t = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (s.maxLr - s.minLr) * (1 + Math.cos(Math.PI * t));
}
