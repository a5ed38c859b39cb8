/**
 * Seed statistics for the search table: mean ± sample standard deviation, wins out of n, and a verdict
 * decided by the seed spread: a difference counts only when its mean is more than two standard errors
 * from zero (seed-independent strategies have zero spread, so their sign decides).
 */

export interface Spread {
  readonly mean: number;
  /** sample standard deviation (n − 1); 0 for a single value */
  readonly sd: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

export type Verdict = 'beats' | 'ties' | 'loses';

/** `differences` are (strategy − reference) losses, one per seed: negative is better */
export function verdict(differences: readonly number[]): Verdict {
  const { mean, sd, n } = spread(differences);
  const margin = 2 * (sd / Math.sqrt(n));
  if (mean + margin < 0) return 'beats';
  if (mean - margin > 0) return 'loses';
  return 'ties';
}

/** how many of the differences are strictly negative (the strategy's loss was lower) */
export function wins(differences: readonly number[]): number {
  return differences.filter((d) => d < 0).length;
}

export const formatSpread = (s: Spread, digits = 4): string => `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;

/** best-so-far (lowest) value after each evaluation; failures (NaN) keep the previous best */
export function bestSoFar(curve: readonly number[]): number[] {
  let best = Infinity;
  return curve.map((v) => (best = Number.isFinite(v) && v < best ? v : best));
}

/** element-wise mean of best-so-far curves, over the evaluations every curve has */
export function meanCurve(curves: readonly (readonly number[])[]): number[] {
  const length = Math.min(...curves.map((c) => c.length));
  const running = curves.map(bestSoFar);
  return Array.from({ length }, (_, i) => running.reduce((a, c) => a + c[i]!, 0) / curves.length);
}
