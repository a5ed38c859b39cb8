/**
 * Peaks over threshold (Siffer, Fouque, Termier, Largouët, "Anomaly Detection in Streams with Extreme Value
 * Theory", KDD 2017; ad-nev.md §3.3) with the Generalised Pareto tail fitted by maximum likelihood through
 * Grimshaw's reduction (Grimshaw, "Computing Maximum Likelihood Estimates for the Generalized Pareto
 * Distribution", Technometrics 35(2), 1993).
 *
 * Grimshaw: with x = γ/σ, the likelihood equations reduce to one equation in x,
 *   h(x) = u(x)·v(x) − 1 = 0,  u(x) = mean(1/(1 + x·Yᵢ)),  v(x) = 1 + mean(log(1 + x·Yᵢ)),
 * and each root gives γ = v(x) − 1, σ = γ/x. Roots lie in (−1/Y_max, 0) or (0, 2(Ȳ − Y_min)/Y_min²].
 * Why log-spaced: the positive interval is ~1/Y_min² wide — ~1e7 when the smallest excess is 1e-3 — while
 * the root sits near 1/Ȳ, so a uniform grid puts it in the first cell and misses it (issue #13: the old
 * 200-point uniform grid fell back to γ = 0 on half of the pure-GPD samples and biased every z_q low).
 * Every root found in either interval and the exponential (γ = 0) are candidates; the one with the highest
 * log-likelihood wins.
 */
import { quantile } from './metrics.js';

export interface GpdFit {
  readonly gamma: number;
  readonly sigma: number;
  readonly logLikelihood: number;
}

/** GPD log-likelihood of positive excesses; −∞ outside the support or for σ ≤ 0. */
export function gpdLogLikelihood(excesses: ArrayLike<number>, gamma: number, sigma: number): number {
  const n = excesses.length;
  if (!(sigma > 0)) return -Infinity;
  let sum = 0;
  if (gamma === 0) {
    for (let i = 0; i < n; i++) sum += excesses[i]!;
    return -n * Math.log(sigma) - sum / sigma;
  }
  for (let i = 0; i < n; i++) {
    const z = (gamma / sigma) * excesses[i]!;
    if (!(z > -1)) return -Infinity;
    sum += Math.log1p(z);
  }
  return -n * Math.log(sigma) - (1 + 1 / gamma) * sum;
}

/** grid points per decade of the log-spaced scan (two roots closer than one cell could be missed) */
const POINTS_PER_DECADE = 24;
/** how close to 0 (relative to 1/Ȳ) and to the pole −1/Y_max the scan goes */
const SMALLEST_RELATIVE_STEP = 1e-10;

/** `count` points log-spaced from `from` to `to` (both > 0), inclusive. */
function logSpaced(from: number, to: number): number[] {
  if (!(to > from)) return [from];
  const decades = Math.log10(to / from);
  const count = Math.max(2, Math.ceil(decades * POINTS_PER_DECADE) + 1);
  return Array.from({ length: count }, (_, i) => from * Math.pow(10, (decades * i) / (count - 1)));
}

/**
 * The maximum-likelihood GPD over the Grimshaw roots and γ = 0. Scan points: on (0, x_max] log-spaced from
 * 1e-10/Ȳ; on (−1/Y_max, 0) log-spaced in the distance from 0 and, separately, in the distance from the pole
 * −1/Y_max (the likelihood of γ near −1 lives there). A sign change of h between neighbours is bisected.
 */
export function fitGpd(excesses: Float64Array): GpdFit {
  const n = excesses.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const y of excesses) {
    sum += y;
    min = Math.min(min, y);
    max = Math.max(max, y);
  }
  const mean = sum / n;
  let best: GpdFit = { gamma: 0, sigma: mean, logLikelihood: gpdLogLikelihood(excesses, 0, mean) };
  if (n < 2 || !(max > 0)) return best;

  const h = (x: number): { value: number; v: number } => {
    let u = 0;
    let logSum = 0;
    for (const y of excesses) {
      u += 1 / (1 + x * y);
      logSum += Math.log1p(x * y);
    }
    const v = 1 + logSum / n;
    return { value: (u / n) * v - 1, v };
  };
  const consider = (x: number): void => {
    const gamma = h(x).v - 1;
    const sigma = gamma / x;
    const logLikelihood = gpdLogLikelihood(excesses, gamma, sigma);
    if (sigma > 0 && logLikelihood > best.logLikelihood) best = { gamma, sigma, logLikelihood };
  };
  const scan = (points: readonly number[]): void => {
    let previous = h(points[0]!).value;
    for (let i = 1; i < points.length; i++) {
      const current = h(points[i]!).value;
      if (Number.isFinite(previous) && Number.isFinite(current) && previous !== 0 && Math.sign(previous) !== Math.sign(current)) {
        let [lo, hi, fLo] = [points[i - 1]!, points[i]!, previous];
        for (let it = 0; it < 80 && lo !== hi; it++) {
          const mid = (lo + hi) / 2;
          if (mid === lo || mid === hi) break;
          const fMid = h(mid).value;
          if (fMid === 0) [lo, hi] = [mid, mid];
          else if (Math.sign(fMid) === Math.sign(fLo)) [lo, fLo] = [mid, fMid];
          else hi = mid;
        }
        consider((lo + hi) / 2);
      } else if (current === 0) consider(points[i]!);
      previous = current;
    }
  };

  const pole = 1 / max;
  const nearZero = Math.min(SMALLEST_RELATIVE_STEP / mean, pole / 2);
  // negative side, ascending: from just above the pole towards 0
  const fromPole = logSpaced(pole * SMALLEST_RELATIVE_STEP, pole / 2).map((d) => -pole + d);
  const fromZero = logSpaced(nearZero, pole / 2).map((d) => -d).reverse();
  scan([...fromPole, ...fromZero].sort((a, b) => a - b));
  // positive side (Grimshaw's bound; a tiny smallest excess makes it huge, the log grid makes that cheap)
  const upper = min > 0 ? (2 * (mean - min)) / (min * min) : Number.MAX_VALUE / 4;
  if (upper > nearZero) scan(logSpaced(nearZero, Math.min(upper, Number.MAX_VALUE / 4)));
  return best;
}

export interface PotResult {
  readonly threshold: number;
  /** initial threshold t (empirical quantile `level` of the calibration scores) */
  readonly initial: number;
  readonly gpd: GpdFit;
  readonly excesses: number;
}

/**
 * Static POT (Siffer et al. 2017, Eq. for z_q): t = quantile(level), GPD fitted to the excesses over t,
 * z_q = t + (σ/γ)((q·n/N_t)^(−γ) − 1) (γ ≠ 0) or t − σ·ln(q·n/N_t) (γ = 0). Calibrated on training or
 * validation scores only; no streaming update.
 */
export function potThreshold(calibrationScores: ArrayLike<number>, options: { q?: number; level?: number } = {}): PotResult {
  const q = options.q ?? 1e-3;
  const level = options.level ?? 0.98;
  const initial = quantile(calibrationScores, level);
  const excessList: number[] = [];
  for (let i = 0; i < calibrationScores.length; i++) if (calibrationScores[i]! > initial) excessList.push(calibrationScores[i]! - initial);
  const excesses = Float64Array.from(excessList);
  if (excesses.length === 0) return { threshold: initial, initial, gpd: { gamma: 0, sigma: 0, logLikelihood: NaN }, excesses: 0 };
  const gpd = fitGpd(excesses);
  const r = (q * calibrationScores.length) / excesses.length;
  const threshold = Math.abs(gpd.gamma) < 1e-12 ? initial - gpd.sigma * Math.log(r) : initial + (gpd.sigma / gpd.gamma) * (Math.pow(r, -gpd.gamma) - 1);
  return { threshold: Math.max(initial, threshold), initial, gpd, excesses: excesses.length };
}
