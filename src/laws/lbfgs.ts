/**
 * L-BFGS (Liu & Nocedal 1989): the two-loop recursion over the last m steps, a backtracking
 * line search that enforces the Armijo condition (and skips curvature pairs that break
 * s·y > 0), for smooth unconstrained objectives given as value-and-gradient.
 */
export interface Minimum {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

export interface LbfgsOptions {
  m?: number;
  maxIter?: number;
  gtol?: number;
  ftol?: number;
  /** lower bounds (projected: a variable at its bound whose gradient pushes it out stays put) */
  lower?: ArrayLike<number>;
  /** length of the first step as a multiple of 1/|g| (small values keep the first step local) */
  firstStep?: number;
}

export function lbfgs(fg: (x: Float64Array, g: Float64Array) => number, x0: ArrayLike<number>, o: LbfgsOptions = {}): Minimum {
  const n = x0.length, m = o.m ?? 10, maxIter = o.maxIter ?? 500, gtol = o.gtol ?? 1e-10, ftol = o.ftol ?? 1e-14;
  const lower = o.lower;
  const x = Float64Array.from(x0);
  if (lower) for (let i = 0; i < n; i++) if (x[i]! < lower[i]!) x[i] = lower[i]!;
  const free = (i: number, gi: number) => !lower || x[i]! > lower[i]! || gi < 0;
  const g = new Float64Array(n);
  let f = fg(x, g);
  if (!Number.isFinite(f)) return { x, f, iterations: 0, converged: false };
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const d = new Float64Array(n), xn = new Float64Array(n), gn = new Float64Array(n);
  const alpha = new Float64Array(m);
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
    return s;
  };
  let it = 0;
  const pg = new Float64Array(n);
  for (; it < maxIter; it++) {
    // projected gradient: components that would push a variable below its bound are dropped
    for (let i = 0; i < n; i++) pg[i] = free(i, g[i]!) ? g[i]! : 0;
    if (Math.sqrt(dot(pg, pg)) < gtol) return { x, f, iterations: it, converged: true };
    // two-loop recursion: d = -H g
    for (let i = 0; i < n; i++) d[i] = -pg[i]!;
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(S[k]!, d);
      for (let i = 0; i < n; i++) d[i]! -= alpha[k]! * Y[k]![i]!;
    }
    if (S.length) {
      const last = S.length - 1;
      const gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let i = 0; i < n; i++) d[i]! *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k]! * dot(Y[k]!, d);
      for (let i = 0; i < n; i++) d[i]! += S[k]![i]! * (alpha[k]! - beta);
    }
    for (let i = 0; i < n; i++) if (!free(i, g[i]!)) d[i] = 0;
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // not a descent direction: restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -pg[i]!;
      slope = dot(g, d);
    }
    let step = S.length ? 1 : (o.firstStep ?? 1) / Math.max(1e-300, Math.sqrt(dot(pg, pg)));
    let fn = NaN;
    let ok = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xn[i] = lower ? Math.max(lower[i]!, x[i]! + step * d[i]!) : x[i]! + step * d[i]!;
      fn = fg(xn, gn);
      if (Number.isFinite(fn) && fn <= f + 1e-4 * step * slope) {
        ok = true;
        break;
      }
      step *= 0.5;
    }
    if (!ok) return { x, f, iterations: it, converged: false };
    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xn[i]! - x[i]!;
      y[i] = gn[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-300) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const df = f - fn;
    x.set(xn);
    g.set(gn);
    f = fn;
    if (df <= ftol * Math.max(1, Math.abs(f))) return { x, f, iterations: it + 1, converged: true };
  }
  return { x, f, iterations: it, converged: false };
}
