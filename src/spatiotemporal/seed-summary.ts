/**
 * Summaries over seeds for the results pages (issue #14): mean ± sample sd, and verdicts decided by the spread:
 * A is called lower (better, for an error) than B only when every seed of A is below every seed of B (the seed
 * ranges do not overlap); otherwise "no clear difference". With 3 seeds this is deliberately conservative; a
 * deterministic method (last value) has a zero-width range.
 */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** "3.162 ± 0.021" (sd over seeds). */
export function meanSd(xs: readonly number[], digits = 3): string {
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) return '—';
  return `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}`;
}

export type SpreadVerdict = 'lower' | 'higher' | 'no clear difference';

/** 'lower' when every value of `a` is below every value of `b`, 'higher' the reverse, else no clear difference. */
export function spreadVerdict(a: readonly number[], b: readonly number[]): SpreadVerdict {
  if (Math.max(...a) < Math.min(...b)) return 'lower';
  if (Math.min(...a) > Math.max(...b)) return 'higher';
  return 'no clear difference';
}

