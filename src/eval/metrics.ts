/** Accuracy with standard errors, micro and macro averages, and the unbiased pass@k estimator. */

export interface Summary {
  mean: number;
  /** standard error of the mean */
  stderr: number;
  n: number;
}

/** mean and its standard error (sample standard deviation / sqrt(n), as the harness's `mean_stderr`) */
export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  if (n === 0) return { mean: NaN, stderr: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, stderr: NaN, n };
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return { mean, stderr: Math.sqrt(ss / (n - 1) / n), n };
}

/** micro average: every item counts once (the harness's weight_by_size), with the pooled standard error */
export function micro(groups: readonly Summary[]): Summary {
  const gs = groups.filter((g) => g.n > 0);
  const N = gs.reduce((a, g) => a + g.n, 0);
  if (N === 0) return { mean: NaN, stderr: NaN, n: 0 };
  const mean = gs.reduce((a, g) => a + g.mean * g.n, 0) / N;
  // lm-evaluation-harness's pooled_sample_stderr
  const k = gs.length;
  const pooledVar = gs.reduce((a, g) => a + (g.n - 1) * (Number.isFinite(g.stderr) ? g.stderr : 0) ** 2 * g.n, 0) / Math.max(1, N - k);
  return { mean, stderr: Math.sqrt(pooledVar / N), n: N };
}

/** macro average: every group counts once; its standard error treats the group means as independent */
export function macro(groups: readonly Summary[]): Summary {
  const gs = groups.filter((g) => g.n > 0);
  const k = gs.length;
  if (k === 0) return { mean: NaN, stderr: NaN, n: 0 };
  const mean = gs.reduce((a, g) => a + g.mean, 0) / k;
  const v = gs.reduce((a, g) => a + (Number.isFinite(g.stderr) ? g.stderr : 0) ** 2, 0) / (k * k);
  return { mean, stderr: Math.sqrt(v), n: gs.reduce((a, g) => a + g.n, 0) };
}

/** Chen et al.'s unbiased pass@k for n samples of which c passed: 1 - C(n-c, k) / C(n, k) */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@${k} needs at least ${k} samples per problem (have ${n})`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}
