/**
 * Using the fitted law to choose data. A source brings attributes (CH, RA, SIM) and a number of
 * tokens it really has; training on more tokens than that repeats it, and repeated tokens are
 * worth less: effective data after R repetitions of U unique tokens is U + U*R*(1 - exp(-R/R*))
 * (Muennighoff et al. 2023, R* = 15.4). Under the Ziya2 law the loss falls as
 * D = sum over sources of (A*CH + B*RA + C*SIM) * effective tokens + F grows, a concave
 * separable objective, so handing out the budget chunk by chunk to the source with the largest
 * marginal gain is optimal.
 */
import { ziya2Predict } from './fit.js';

export const R_STAR = 15.4;

export interface Source {
  name: string;
  CH: number;
  RA: number;
  SIM: number;
  /** tokens the source really has */
  tokens: number;
}

export interface LawConstants {
  alpha: number;
  A: number;
  B: number;
  C: number;
  E: number;
  F: number;
}

/** effective tokens of training on v tokens of a source with u unique tokens */
export function effectiveTokens(v: number, u: number): number {
  if (v <= u) return v;
  const R = v / u - 1;
  return u + u * R_STAR * (1 - Math.exp(-R / R_STAR));
}

/** the loss the law predicts for training v_s tokens of each source */
export function predictMixture(c: LawConstants, sources: Source[], volumes: number[]): number {
  const V = volumes.reduce((a, b) => a + b, 0);
  if (V === 0) return ziya2Predict(c, { CH: 0, RA: 0, SIM: 0, V: 0 });
  // D = sum_s q_s * Veff_s + F, written as (A*CH + B*RA + C*SIM)*V + F with effective-token-weighted attributes
  let ch = 0, ra = 0, sim = 0;
  sources.forEach((s, i) => {
    const e = effectiveTokens(volumes[i]!, s.tokens);
    ch += (s.CH * e) / V;
    ra += (s.RA * e) / V;
    sim += (s.SIM * e) / V;
  });
  return ziya2Predict(c, { CH: ch, RA: ra, SIM: sim, V });
}

export interface Recommendation {
  volumes: Record<string, number>;
  shares: Record<string, number>;
  epochs: Record<string, number>;
  predictedLoss: number;
}

/** the mixture of `budget` tokens with the lowest predicted loss, each source repeated at most maxEpochs times */
export function recommend(c: LawConstants, sources: Source[], budget: number, o: { maxEpochs?: number; chunks?: number } = {}): Recommendation {
  if (!sources.length) throw new Error('recommend: no sources');
  const maxEpochs = o.maxEpochs ?? 4;
  const cap = sources.map((s) => s.tokens * maxEpochs);
  const total = cap.reduce((a, b) => a + b, 0);
  if (total < budget) throw new Error(`recommend: the sources hold ${Math.round(total)} tokens at ${maxEpochs} epochs, less than the budget ${budget}`);
  const q = sources.map((s) => c.A * s.CH + c.B * s.RA + c.C * s.SIM);
  const v = new Array(sources.length).fill(0) as number[];
  const chunks = o.chunks ?? 1000;
  const step = budget / chunks;
  for (let k = 0; k < chunks; k++) {
    let best = -1, gain = -Infinity;
    sources.forEach((s, i) => {
      if (v[i]! + step > cap[i]! + 1e-9) return;
      const g = q[i]! * (effectiveTokens(v[i]! + step, s.tokens) - effectiveTokens(v[i]!, s.tokens));
      if (g > gain) { gain = g; best = i; }
    });
    if (best < 0) break;
    v[best]! += step;
  }
  return {
    volumes: Object.fromEntries(sources.map((s, i) => [s.name, v[i]!])),
    shares: Object.fromEntries(sources.map((s, i) => [s.name, v[i]! / budget])),
    epochs: Object.fromEntries(sources.map((s, i) => [s.name, v[i]! / s.tokens])),
    predictedLoss: predictMixture(c, sources, v),
  };
}
