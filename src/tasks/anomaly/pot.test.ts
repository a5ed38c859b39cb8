import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGpd, potThreshold } from './pot.js';
import { createRng } from '../../core/rng.js';

/** GPD log-density summed, written from the density f(y) = (1/σ)(1 + γy/σ)^(−1/γ − 1), independent of pot.ts */
function referenceLogLikelihood(ys: Float64Array, gamma: number, sigma: number): number {
  if (!(sigma > 0)) return -Infinity;
  let total = 0;
  for (const y of ys) {
    if (Math.abs(gamma) < 1e-14) {
      total += -Math.log(sigma) - y / sigma;
      continue;
    }
    const z = 1 + (gamma * y) / sigma;
    if (!(z > 0)) return -Infinity;
    total += -Math.log(sigma) - (1 / gamma + 1) * Math.log(z);
  }
  return total;
}

/** Plain Nelder–Mead maximising f over (γ, log σ); restarts from its own optimum until it stops improving. */
function nelderMeadMax(f: (p: [number, number]) => number, start: [number, number], scale: [number, number]): { point: [number, number]; value: number } {
  let simplex: [number, number][] = [start, [start[0] + scale[0], start[1]], [start[0], start[1] + scale[1]]];
  let values = simplex.map(f);
  for (let iteration = 0; iteration < 4000; iteration++) {
    const order = [0, 1, 2].sort((a, b) => values[b]! - values[a]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    if (Math.abs(values[0]! - values[2]!) <= 1e-13 * Math.max(1, Math.abs(values[0]!))) break;
    const centroid: [number, number] = [(simplex[0]![0] + simplex[1]![0]) / 2, (simplex[0]![1] + simplex[1]![1]) / 2];
    const along = (t: number): [number, number] => [centroid[0] + t * (simplex[2]![0] - centroid[0]), centroid[1] + t * (simplex[2]![1] - centroid[1])];
    const reflected = along(-1);
    const fr = f(reflected);
    if (fr > values[0]!) {
      const expanded = along(-2);
      const fe = f(expanded);
      [simplex[2], values[2]] = fe > fr ? [expanded, fe] : [reflected, fr];
    } else if (fr > values[1]!) {
      [simplex[2], values[2]] = [reflected, fr];
    } else {
      const contracted = along(fr > values[2]! ? -0.5 : 0.5);
      const fc = f(contracted);
      if (fc > Math.max(fr, values[2]!)) [simplex[2], values[2]] = [contracted, fc];
      else {
        for (const i of [1, 2]) {
          simplex[i] = [(simplex[i]![0] + simplex[0]![0]) / 2, (simplex[i]![1] + simplex[0]![1]) / 2];
          values[i] = f(simplex[i]!);
        }
      }
    }
  }
  const best = values.indexOf(Math.max(...values));
  return { point: simplex[best]!, value: values[best]! };
}

/** independent maximum-likelihood fit: multi-start Nelder–Mead on γ ∈ (−1, 5), log σ free, each polished by restarts */
function referenceFit(ys: Float64Array): { gamma: number; sigma: number; logLikelihood: number } {
  const mean = ys.reduce((s, y) => s + y, 0) / ys.length;
  const objective = ([gamma, logSigma]: [number, number]): number => (gamma > -1 && gamma < 5 ? referenceLogLikelihood(ys, gamma, Math.exp(logSigma)) : -Infinity);
  let best = { point: [0, Math.log(mean)] as [number, number], value: objective([0, Math.log(mean)]) };
  for (const gamma of [-0.5, -0.2, 0, 0.2, 0.5, 1]) {
    // start inside the support: σ large enough that 1 + γ·y/σ > 0 for every y
    const sigma = gamma < 0 ? Math.max(mean, -gamma * Math.max(...ys) * 1.01) : mean;
    let run = nelderMeadMax(objective, [gamma, Math.log(sigma)], [0.1, 0.1]);
    for (let polish = 0; polish < 5; polish++) {
      const again = nelderMeadMax(objective, run.point, [0.01, 0.01]);
      if (!(again.value > run.value + 1e-12 * Math.abs(run.value))) break;
      run = again;
    }
    if (run.value > best.value) best = run;
  }
  return { gamma: best.point[0], sigma: Math.exp(best.point[1]), logLikelihood: best.value };
}

function sampleGpd(rng: ReturnType<typeof createRng>, n: number, gamma: number, sigma: number): Float64Array {
  // inverse CDF: F(y) = 1 − (1 + γy/σ)^(−1/γ), exponential at γ = 0
  return Float64Array.from({ length: n }, () => {
    const u = rng.next();
    return gamma === 0 ? -sigma * Math.log1p(-u) : (sigma / gamma) * (Math.pow(1 - u, -gamma) - 1);
  });
}

for (const n of [200, 1000, 10000]) {
  test(`Grimshaw GPD fit reaches the independent ML fit's log-likelihood, n = ${n}, γ ∈ {−0.2, 0, 0.1, 0.3, 0.6}`, () => {
    for (const gamma of [-0.2, 0, 0.1, 0.3, 0.6]) {
      const ys = sampleGpd(createRng('gpd-ml', n, gamma), n, gamma, 1.5);
      const fit = fitGpd(ys);
      const reference = referenceFit(ys);
      const own = referenceLogLikelihood(ys, fit.gamma, fit.sigma);
      assert.ok(own >= reference.logLikelihood - 1e-6 * Math.abs(reference.logLikelihood), `γ ${gamma} n ${n}: ours (γ ${fit.gamma}, σ ${fit.sigma}) LL ${own} < reference (γ ${reference.gamma}, σ ${reference.sigma}) LL ${reference.logLikelihood}`);
      assert.ok(Math.abs(own - fit.logLikelihood) <= 1e-9 * Math.abs(own), 'reported log-likelihood is the fitted parameters\' log-likelihood');
      // the same optimum, not just a likelihood as high: parameters agree with the reference
      assert.ok(Math.abs(fit.gamma - reference.gamma) < 2e-3, `γ ${gamma} n ${n}: γ̂ ${fit.gamma} vs reference ${reference.gamma}`);
    }
  });
}

test('GPD fit when the smallest excess is tiny (the issue #13 case): γ > 0 is found, not the exponential fallback', () => {
  const ys = sampleGpd(createRng('gpd-tiny-min'), 1000, 0.3, 1);
  ys[0] = 1e-6; // Grimshaw's positive bound ~2Ȳ/Y_min² = ~3e12
  const fit = fitGpd(ys);
  const reference = referenceFit(ys);
  assert.ok(fit.gamma > 0.1, `γ̂ ${fit.gamma}`);
  assert.ok(fit.logLikelihood >= reference.logLikelihood - 1e-6 * Math.abs(reference.logLikelihood));
});

test('POT: on exponential(1) scores z_q is near the true 1 − q quantile ln(1/q); z_q ≥ t; lower q raises it', () => {
  const rng = createRng('pot-exponential');
  const scores = Float64Array.from({ length: 20000 }, () => -Math.log1p(-rng.next()));
  const pot = potThreshold(scores, { q: 1e-3, level: 0.98 });
  assert.ok(pot.threshold >= pot.initial);
  assert.ok(Math.abs(pot.threshold - Math.log(1000)) < 0.6, `exp(1) 0.999-quantile ${Math.log(1000)} vs POT ${pot.threshold}`);
  const stricter = potThreshold(scores, { q: 1e-4, level: 0.98 });
  assert.ok(stricter.threshold > pot.threshold);
});

test('POT on Pareto-tailed scores: z_q matches the true quantile of a GPD tail (γ = 0.3)', () => {
  // scores = GPD(γ 0.3, σ 1) everywhere: above its own 0.98-quantile t the excesses are GPD(γ, σ + γt),
  // and the true (1 − q) quantile is (σ/γ)(q^(−γ) − 1)
  const [gamma, sigma, q] = [0.3, 1, 1e-3];
  const scores = sampleGpd(createRng('pot-pareto'), 200000, gamma, sigma);
  const truth = (sigma / gamma) * (Math.pow(q, -gamma) - 1);
  const pot = potThreshold(scores, { q, level: 0.98 });
  assert.ok(pot.gpd.gamma > 0.15, `tail index ${pot.gpd.gamma}`);
  assert.ok(Math.abs(pot.threshold / truth - 1) < 0.1, `true quantile ${truth} vs POT ${pot.threshold}`);
});
