/**
 * Fitting scaling laws the way Chinchilla's Approach 3 and Ziya2 §7 do: a Huber loss on log
 * loss (delta 1e-3), L-BFGS from every point of a grid of starts, the best local minimum kept,
 * and percentile bootstrap intervals for every constant (each resample refitted from the best
 * fit and a spread of grid starts).
 *
 *   Ziya2:      L = D^-alpha + E,  D = (A*CH + B*RA + C*SIM)*V + F
 *               log L = LSE(-alpha*log D, log E)
 *   Chinchilla: L = E + A/N^alpha + B/D^beta
 *               log L = LSE(log A - alpha*log N, log B - beta*log D, log E)
 */
import { lbfgs } from './lbfgs.js';

export class FitError extends Error {}

export interface Ziya2Point {
  CH: number;
  RA: number;
  SIM: number;
  /** continual pre-training volume (tokens) */
  V: number;
  /** observed test loss */
  L: number;
}

export interface ChinchillaPoint {
  N: number;
  D: number;
  L: number;
}

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface FitResult {
  law: 'ziya2' | 'chinchilla';
  constants: Record<string, number>;
  intervals: Record<string, Interval>;
  /** mean Huber loss at the optimum */
  objective: number;
  /** root mean square of log L residuals */
  rmseLog: number;
  residuals: { observed: number; predicted: number }[];
  starts: number;
  converged: number;
  bootstrap: number;
  seconds: number;
}

export function huber(r: number, delta: number): { h: number; dh: number } {
  const a = Math.abs(r);
  return a <= delta ? { h: 0.5 * r * r, dh: r } : { h: delta * (a - 0.5 * delta), dh: delta * Math.sign(r) };
}

export const ZIYA2_GRID = {
  alpha: [0, 0.67, 1.33, 2],
  A: Array.from({ length: 8 }, (_, i) => (2 * i) / 7),
  B: Array.from({ length: 8 }, (_, i) => (2 * i) / 7),
  C: Array.from({ length: 8 }, (_, i) => (2 * i) / 7),
  E: [0, 0.67, 1.33, 2],
  F: [1e12, 1.67e12, 2.33e12, 3e12],
};

/** alpha, A, B, C and E are not negative; log F is free */
const ZIYA2_LOWER = [0, 0, 0, 0, 0, -Infinity];

export const ZIYA2_PUBLISHED = { alpha: 0.06, E: 0.31, A: 1.66, B: 1.98, C: 0.7, F: 1.24e10 };

/** L = D^-alpha + E with D = (A*CH + B*RA + C*SIM)*V + F */
export function ziya2Predict(c: { alpha: number; A: number; B: number; C: number; E: number; F: number }, p: Omit<Ziya2Point, 'L'>): number {
  const D = (c.A * p.CH + c.B * p.RA + c.C * p.SIM) * p.V + c.F;
  return Math.pow(D, -c.alpha) + c.E;
}

function checkZiya2(points: Ziya2Point[]): void {
  if (points.length < 12) throw new FitError(`${points.length} points for 6 constants: the Ziya2 law needs at least 12 (two per constant) for a fit that means anything`);
  points.forEach((p, i) => {
    for (const k of ['CH', 'RA', 'SIM', 'V', 'L'] as const) if (!Number.isFinite(p[k])) throw new FitError(`point ${i}: ${k} is ${p[k]}`);
    for (const k of ['CH', 'RA', 'SIM'] as const) if (p[k] < 0 || p[k] > 1) throw new FitError(`point ${i}: ${k} = ${p[k]} is outside [0, 1] (attributes are shares)`);
    if (p.V < 0) throw new FitError(`point ${i}: volume ${p.V} is negative`);
    if (!(p.L > 0)) throw new FitError(`point ${i}: loss ${p.L} is not positive (the law is fitted on log loss)`);
  });
  for (const k of ['CH', 'RA', 'SIM', 'V'] as const) {
    const v = points.map((p) => p[k]);
    if (Math.max(...v) - Math.min(...v) < 1e-12) throw new FitError(`${k} is the same (${v[0]}) in every point: its ${k === 'V' ? 'effect' : 'coefficient'} cannot be told apart from the others; vary it or leave it out of the experiment`);
  }
}

/**
 * mean Huber loss of log-space residuals and its gradient, theta = [alpha, A, B, C, E, log F]:
 * log L = log(D^-alpha + E) = LSE(-alpha log D, log E). E enters directly rather than as log E so
 * that the grid's E = 0 starts have a gradient in E (in log E they would sit at -infinity, stuck).
 */
function ziya2Objective(points: Ziya2Point[], w: Float64Array, delta: number) {
  const n = points.length;
  const logL = points.map((p) => Math.log(p.L));
  let W = 0;
  for (const x of w) W += x;
  return (t: Float64Array, g: Float64Array): number => {
    const [alpha, A, B, C, E, f] = t as unknown as [number, number, number, number, number, number];
    const F = Math.exp(f);
    g.fill(0);
    if (E < 0) return Infinity;
    let s = 0;
    for (let i = 0; i < n; i++) {
      if (w[i] === 0) continue;
      const p = points[i]!;
      const D = (A * p.CH + B * p.RA + C * p.SIM) * p.V + F;
      if (!(D > 0)) return Infinity;
      const lD = Math.log(D);
      const Dp = Math.exp(-alpha * lD);
      const Lh = Dp + E;
      const pred = Math.log(Lh);
      const { h, dh } = huber(pred - logL[i]!, delta);
      const wi = w[i]! / W;
      s += wi * h;
      const k = (wi * dh) / Lh;
      const dD = (-alpha * Dp) / D;
      g[0]! += k * Dp * -lD;
      g[1]! += k * dD * p.CH * p.V;
      g[2]! += k * dD * p.RA * p.V;
      g[3]! += k * dD * p.SIM * p.V;
      g[4]! += k;
      g[5]! += k * dD * F;
    }
    return s;
  };
}

function ziya2Starts(fScale = 1e12, grid = ZIYA2_GRID): Float64Array[] {
  const out: Float64Array[] = [];
  for (const alpha of grid.alpha) for (const A of grid.A) for (const B of grid.B) for (const C of grid.C) for (const E of grid.E) for (const F of grid.F) out.push(Float64Array.of(alpha, A, B, C, E, Math.log((F / 1e12) * fScale)));
  return out;
}

/**
 * L-BFGS from every start, in two phases: a short run from each (most starts fall into the same
 * few basins within a few dozen iterations), then the 32 best continued to convergence. The
 * objective is scaled by 1/delta^2 inside, so tolerances mean the same whatever delta is.
 */
function bestOf(obj: (t: Float64Array, g: Float64Array) => number, starts: Float64Array[], maxIter: number, scale = 1, lower?: number[]): { x: Float64Array; f: number; converged: number } {
  const scaled = (t: Float64Array, g: Float64Array) => {
    const f = obj(t, g) * scale;
    for (let i = 0; i < g.length; i++) g[i]! *= scale;
    return f;
  };
  const first = starts.map((s) => lbfgs(scaled, s, { maxIter: Math.min(40, maxIter), lower, firstStep: 1e-3 })).filter((r) => Number.isFinite(r.f));
  if (!first.length) throw new FitError('no start of the grid gave a finite objective (check the points)');
  first.sort((a, b) => a.f - b.f);
  let best: { x: Float64Array; f: number } | null = null;
  let converged = 0;
  for (const r0 of first.slice(0, 32)) {
    const r = r0.converged ? r0 : lbfgs(scaled, r0.x, { maxIter, lower, firstStep: 1e-3 });
    if (r.converged) converged++;
    if (Number.isFinite(r.f) && (!best || r.f < best.f)) best = { x: r.x, f: r.f };
  }
  return { x: best!.x, f: best!.f / scale, converged };
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * percentile bootstrap: resample the points with replacement (as weights), refit from the best
 * fit and a spread of grid starts, and take the 2.5% and 97.5% points of every constant
 */
function bootstrap(n: number, refit: (w: Float64Array) => Record<string, number>, constants: Record<string, number>, B: number, seed: number): { intervals: Record<string, Interval>; samples: number } {
  const r = rng(seed);
  const samples: Record<string, number>[] = [];
  for (let b = 0; b < B; b++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[Math.floor(r() * n)]!++;
    try {
      samples.push(refit(w));
    } catch {
      // a degenerate resample: skipped
    }
  }
  const intervals: Record<string, Interval> = {};
  for (const [k, v] of Object.entries(constants)) intervals[k] = samples.length >= 10 ? { value: v, lo: percentile(samples.map((s) => s[k]!), 0.025), hi: percentile(samples.map((s) => s[k]!), 0.975) } : { value: v, lo: NaN, hi: NaN };
  return { intervals, samples: samples.length };
}

export interface FitOptions {
  delta?: number;
  /** bootstrap resamples (0 = none) */
  bootstrap?: number;
  seed?: number;
  maxIter?: number;
  /** use only every k-th grid start (1 = the whole grid) */
  gridStride?: number;
  /**
   * scale of the F grid: {1, 1.67, 2.33, 3} x fScale (Ziya2's 10^12 suits volumes of 10^11
   * tokens; experiments at another scale move it with their volumes)
   */
  fScale?: number;
}

export function fitZiya2(points: Ziya2Point[], o: FitOptions = {}): FitResult {
  checkZiya2(points);
  const t0 = performance.now();
  const delta = o.delta ?? 1e-3, maxIter = o.maxIter ?? 3000;
  const starts = ziya2Starts(o.fScale).filter((_, i) => i % (o.gridStride ?? 1) === 0);
  const ones = new Float64Array(points.length).fill(1);
  const best = bestOf(ziya2Objective(points, ones, delta), starts, maxIter, 1 / (delta * delta), ZIYA2_LOWER);
  const toConst = (x: Float64Array) => ({ alpha: x[0]!, A: x[1]!, B: x[2]!, C: x[3]!, E: x[4]!, F: Math.exp(x[5]!) });
  const constants = toConst(best.x);
  // a spread of grid starts (every 257th) besides the best fit, for each resample
  const extra = starts.filter((_, i) => i % 257 === 0);
  const boot = bootstrap(points.length, (w) => toConst(bestOf(ziya2Objective(points, w, delta), [best.x, ...extra], maxIter, 1 / (delta * delta), ZIYA2_LOWER).x), constants, o.bootstrap ?? 200, o.seed ?? 1);
  const intervals = boot.intervals;
  const residuals = points.map((p) => ({ observed: p.L, predicted: ziya2Predict(constants, p) }));
  const rmseLog = Math.sqrt(residuals.reduce((s, x) => s + (Math.log(x.predicted) - Math.log(x.observed)) ** 2, 0) / points.length);
  return { law: 'ziya2', constants, intervals, objective: best.f, rmseLog, residuals, starts: starts.length, converged: best.converged, bootstrap: boot.samples, seconds: (performance.now() - t0) / 1000 };
}

// ------------------------------------------------------------------ Chinchilla
export const CHINCHILLA_GRID = {
  alpha: [0, 0.5, 1, 1.5, 2],
  beta: [0, 0.5, 1, 1.5, 2],
  e: [-1, -0.5, 0, 0.5, 1],
  a: [0, 5, 10, 15, 20, 25],
  b: [0, 5, 10, 15, 20, 25],
};

export function chinchillaPredict(c: { E: number; A: number; B: number; alpha: number; beta: number }, p: Omit<ChinchillaPoint, 'L'>): number {
  return c.E + c.A / Math.pow(p.N, c.alpha) + c.B / Math.pow(p.D, c.beta);
}

export function fitChinchilla(points: ChinchillaPoint[], o: FitOptions = {}): FitResult {
  if (points.length < 10) throw new FitError(`${points.length} points for 5 constants: the Chinchilla form needs at least 10`);
  points.forEach((p, i) => {
    if (!(p.N > 0) || !(p.D > 0)) throw new FitError(`point ${i}: N and D must be positive`);
    if (!(p.L > 0)) throw new FitError(`point ${i}: loss ${p.L} is not positive`);
  });
  for (const k of ['N', 'D'] as const) if (new Set(points.map((p) => p[k])).size < 2) throw new FitError(`${k} is the same in every point: its exponent cannot be fitted`);
  const t0 = performance.now();
  const delta = o.delta ?? 1e-3, maxIter = o.maxIter ?? 3000;
  const lN = points.map((p) => Math.log(p.N)), lD = points.map((p) => Math.log(p.D)), lL = points.map((p) => Math.log(p.L));
  const objective = (w: Float64Array) => {
    let W = 0;
    for (const x of w) W += x;
    return (t: Float64Array, g: Float64Array): number => {
      const [a, b, e, alpha, beta] = t as unknown as [number, number, number, number, number];
      g.fill(0);
      let s = 0;
      for (let i = 0; i < points.length; i++) {
        if (w[i] === 0) continue;
        const x1 = a - alpha * lN[i]!, x2 = b - beta * lD[i]!;
        const m = Math.max(x1, x2, e);
        const e1 = Math.exp(x1 - m), e2 = Math.exp(x2 - m), e3 = Math.exp(e - m), z = e1 + e2 + e3;
        const pred = m + Math.log(z);
        const { h, dh } = huber(pred - lL[i]!, delta);
        const k = (w[i]! / W) * dh;
        s += (w[i]! / W) * h;
        g[0]! += (k * e1) / z;
        g[1]! += (k * e2) / z;
        g[2]! += (k * e3) / z;
        g[3]! += (k * e1 * -lN[i]!) / z;
        g[4]! += (k * e2 * -lD[i]!) / z;
      }
      return s;
    };
  };
  const G = CHINCHILLA_GRID;
  const starts: Float64Array[] = [];
  for (const a of G.a) for (const b of G.b) for (const e of G.e) for (const alpha of G.alpha) for (const beta of G.beta) starts.push(Float64Array.of(a, b, e, alpha, beta));
  const best = bestOf(objective(new Float64Array(points.length).fill(1)), starts, maxIter, 1 / (delta * delta));
  const toConst = (x: Float64Array) => ({ A: Math.exp(x[0]!), B: Math.exp(x[1]!), E: Math.exp(x[2]!), alpha: x[3]!, beta: x[4]! });
  const constants = toConst(best.x);
  const extra = starts.filter((_, i) => i % 97 === 0);
  const boot = bootstrap(points.length, (w) => toConst(bestOf(objective(w), [best.x, ...extra], maxIter, 1 / (delta * delta)).x), constants, o.bootstrap ?? 200, o.seed ?? 1);
  const intervals = boot.intervals;
  const residuals = points.map((p) => ({ observed: p.L, predicted: chinchillaPredict(constants, p) }));
  const rmseLog = Math.sqrt(residuals.reduce((s, x) => s + (Math.log(x.predicted) - Math.log(x.observed)) ** 2, 0) / points.length);
  return { law: 'chinchilla', constants, intervals, objective: best.f, rmseLog, residuals, starts: starts.length, converged: best.converged, bootstrap: boot.samples, seconds: (performance.now() - t0) / 1000 };
}
