/**
 * (μ/μ_w, λ)-CMA-ES with the default parameters of N. Hansen, "The CMA Evolution Strategy: A Tutorial"
 * (arXiv:1604.00772), Table 1 and Appendix B; spec: evolutionary-merging.md §6. Basic algorithm (no active
 * covariance update), box bounds by clipped evaluation plus a quadratic penalty (§6.4), optional IPOP
 * restarts (§6.3). State is plain data: a run resumes bit-identically from any stored state.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { rngFromState, createRng } from '../../core/rng.js';
import { ModelevoError } from '../../core/errors.js';
import { type BaseParams, type Strategy, toCost, trackBest } from '../strategy.js';

export interface CmaEsParams extends BaseParams {
  readonly x0: readonly number[];
  readonly sigma0: number;
  /** λ; default 4 + ⌊3 ln n⌋ */
  readonly populationSize?: number;
  readonly lowerBounds?: readonly number[];
  readonly upperBounds?: readonly number[];
  /** coefficient c of the penalty c·‖x − clip(x)‖² added to the cost (§6.4); default 1 */
  readonly boundPenalty?: number;
  readonly maxEvaluations?: number;
  /** stop when a fitness at least this good is seen */
  readonly targetFitness?: number;
  readonly tolFun?: number;
  /** default 1e-12·σ0 */
  readonly tolX?: number;
  /** 'ipop' restarts with λ doubled after a stop other than target or budget */
  readonly restarts?: 'none' | 'ipop';
  readonly maxRestarts?: number;
}

export interface CmaEsState {
  readonly n: number;
  readonly lambda: number;
  readonly generation: number;
  readonly evaluations: number;
  readonly mean: number[];
  readonly sigma: number;
  readonly pathSigma: number[];
  readonly pathC: number[];
  readonly C: number[][];
  readonly B: number[][];
  readonly D: number[];
  readonly eigenGeneration: number;
  readonly rng: [number, number, number, number];
  /** best cost per generation (for TolFun and stagnation), most recent last */
  readonly bestCostHistory: number[];
  readonly medianCostHistory: number[];
  readonly lastGenerationCosts: number[];
  readonly best: { genome: number[]; fitness: number } | null;
  readonly restartsDone: number;
  /** null while running (JSON has no undefined) */
  readonly stop: string | null;
}

interface Derived {
  mu: number;
  weights: number[];
  muEff: number;
  cSigma: number;
  dSigma: number;
  cC: number;
  c1: number;
  cMu: number;
  chiN: number;
}

function derive(n: number, lambda: number): Derived {
  const mu = Math.floor(lambda / 2);
  const raw = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const sum = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / sum);
  const muEff = 1 / weights.reduce((a, w) => a + w * w, 0);
  const cSigma = (muEff + 2) / (n + muEff + 5);
  const dSigma = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
  const cC = (4 + muEff / n) / (n + 4 + (2 * muEff) / n);
  const c1 = 2 / ((n + 1.3) ** 2 + muEff);
  const cMu = Math.min(1 - c1, (2 * (muEff - 2 + 1 / muEff)) / ((n + 2) ** 2 + muEff));
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return { mu, weights, muEff, cSigma, dSigma, cC, c1, cMu, chiN };
}

export function defaultPopulationSize(n: number): number {
  return 4 + Math.floor(3 * Math.log(n));
}

function identity(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

function freshState(params: CmaEsParams, lambda: number, rng: [number, number, number, number], base?: CmaEsState): CmaEsState {
  const n = params.x0.length;
  return {
    n,
    lambda,
    generation: 0,
    evaluations: base?.evaluations ?? 0,
    mean: [...params.x0],
    sigma: params.sigma0,
    pathSigma: new Array(n).fill(0),
    pathC: new Array(n).fill(0),
    C: identity(n),
    B: identity(n),
    D: new Array(n).fill(1),
    eigenGeneration: 0,
    rng,
    bestCostHistory: [],
    medianCostHistory: [],
    lastGenerationCosts: [],
    best: base?.best ?? null,
    restartsDone: base?.restartsDone ?? 0,
    stop: null,
  };
}

/** The point to evaluate for a sampled candidate: clipped into the box when bounds are set (§6.4). */
export function evaluationPoint(params: CmaEsParams, x: readonly number[]): number[] {
  return x.map((v, i) => {
    const lo = params.lowerBounds?.[i] ?? -Infinity;
    const hi = params.upperBounds?.[i] ?? Infinity;
    return Math.min(hi, Math.max(lo, v));
  });
}

function validate(params: CmaEsParams): void {
  const n = params.x0.length;
  const problems: string[] = [];
  if (n < 1) problems.push('x0 must have at least one coordinate');
  if (!(params.sigma0 > 0)) problems.push(`sigma0 must be > 0, got ${params.sigma0}`);
  if (params.populationSize !== undefined && !(params.populationSize >= 2)) problems.push('populationSize must be ≥ 2');
  for (const [key, bounds] of [['lowerBounds', params.lowerBounds], ['upperBounds', params.upperBounds]] as const) {
    if (bounds && bounds.length !== n) problems.push(`${key} has ${bounds.length} entries, expected ${n}`);
  }
  if (problems.length > 0) {
    throw new ModelevoError('VALUE_INVALID', `invalid CMA-ES parameters: ${problems.join('; ')}`, {
      hint: 'check the strategy section of the run configuration',
    });
  }
}

export const cmaEs: Strategy<CmaEsParams, CmaEsState, number[]> = {
  name: 'cma-es',
  title: 'CMA-ES (μ/μ_w, λ), basic algorithm with optional IPOP restarts',
  reference: 'Hansen, The CMA Evolution Strategy: A Tutorial, arXiv:1604.00772',

  init(params, seed) {
    validate(params);
    const lambda = params.populationSize ?? defaultPopulationSize(params.x0.length);
    return freshState(params, lambda, createRng('cma-es', seed).state());
  },

  ask(params, state) {
    const { n, lambda, B, D, mean, sigma } = state;
    const rng = rngFromState(state.rng);
    const candidates: number[][] = [];
    for (let k = 0; k < lambda; k++) {
      const z = Array.from({ length: n }, () => rng.normal());
      const x = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        let y = 0;
        for (let j = 0; j < n; j++) y += B[i]![j]! * D[j]! * z[j]!;
        x[i] = mean[i]! + sigma * y;
      }
      candidates.push(x);
    }
    return { candidates, state: { ...state, rng: rng.state() } };
  },

  tell(params, state, candidates, fitness) {
    const { n, lambda } = state;
    if (candidates.length !== lambda || fitness.length !== lambda) {
      throw new ModelevoError('VALUE_INVALID', `cma-es tell expected ${lambda} candidates and fitness values, got ${candidates.length} and ${fitness.length}`);
    }
    for (const x of candidates) {
      if (x.length !== n) throw new ModelevoError('VALUE_INVALID', `cma-es tell expected genomes of dimension ${n}, got ${x.length}`);
    }
    const d = derive(n, lambda);
    const penalty = params.boundPenalty ?? 1;
    const costs = candidates.map((x, k) => {
      const clipped = evaluationPoint(params, x);
      let outside = 0;
      for (let i = 0; i < n; i++) outside += (x[i]! - clipped[i]!) ** 2;
      return toCost(params.objective, fitness[k]!) + penalty * outside;
    });
    // NaN → worst of the generation; ties broken by index (stable sort)
    const order = costs.map((c, k) => ({ c, k })).sort((a, b) => a.c - b.c || a.k - b.k).map((e) => e.k);

    // the best is recorded at the point actually evaluated (clipped into the bounds)
    const best = trackBest(params.objective, state.best, candidates.slice(0, lambda).map((x) => evaluationPoint(params, x)), fitness.slice(0, lambda));

    const oldMean = state.mean;
    const ys = order.slice(0, d.mu).map((k) => candidates[k]!.map((v, i) => (v - oldMean[i]!) / state.sigma));
    const yw = new Array<number>(n).fill(0);
    ys.forEach((y, r) => y.forEach((v, i) => (yw[i]! += d.weights[r]! * v)));
    const mean = oldMean.map((m, i) => m + state.sigma * yw[i]!); // c_m = 1

    // C^{-1/2}·⟨y⟩_w = B·D⁻¹·Bᵀ·⟨y⟩_w
    const { B, D } = state;
    const bty = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) bty[j]! += B[i]![j]! * yw[i]!;
    const invSqrtY = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) invSqrtY[i]! += (B[i]![j]! * bty[j]!) / D[j]!;
    const sigmaCoefficient = Math.sqrt(d.cSigma * (2 - d.cSigma) * d.muEff);
    const pathSigma = state.pathSigma.map((p, i) => (1 - d.cSigma) * p + sigmaCoefficient * invSqrtY[i]!);
    const psNorm = Math.hypot(...pathSigma);
    const g = state.generation;
    const hSigma = psNorm / Math.sqrt(1 - (1 - d.cSigma) ** (2 * (g + 1))) < (1.4 + 2 / (n + 1)) * d.chiN ? 1 : 0;
    const cCoefficient = Math.sqrt(d.cC * (2 - d.cC) * d.muEff);
    const pathC = state.pathC.map((p, i) => (1 - d.cC) * p + hSigma * cCoefficient * yw[i]!);

    const decay = 1 - d.c1 - d.cMu + (1 - hSigma) * d.c1 * d.cC * (2 - d.cC);
    const C = state.C.map((row, i) =>
      row.map((c, j) => {
        let rankMu = 0;
        ys.forEach((y, r) => (rankMu += d.weights[r]! * y[i]! * y[j]!));
        return decay * c + d.c1 * pathC[i]! * pathC[j]! + d.cMu * rankMu;
      }),
    );
    const sigma = state.sigma * Math.exp((d.cSigma / d.dSigma) * (psNorm / d.chiN - 1));

    let { B: newB, D: newD, eigenGeneration } = state;
    const eigenInterval = Math.max(1, Math.floor(1 / (10 * n * (d.c1 + d.cMu))));
    if (g + 1 - eigenGeneration >= eigenInterval) {
      ({ B: newB, D: newD } = eigen(C));
      eigenGeneration = g + 1;
    }

    const sortedCosts = order.map((k) => costs[k]!);
    const next: CmaEsState = {
      ...state,
      generation: g + 1,
      evaluations: state.evaluations + lambda,
      mean,
      sigma,
      pathSigma,
      pathC,
      C,
      B: newB,
      D: newD,
      eigenGeneration,
      bestCostHistory: [...state.bestCostHistory, sortedCosts[0]!].slice(-1000),
      medianCostHistory: [...state.medianCostHistory, sortedCosts[Math.floor(lambda / 2)]!].slice(-1000),
      lastGenerationCosts: sortedCosts,
      best,
      stop: null,
    };
    const reason = stopCriterion(params, next);
    const restarted = reason ? maybeRestart(params, next, reason) : undefined;
    const finalState = restarted ?? { ...next, stop: reason ?? null };
    return {
      state: finalState,
      metrics: {
        generation: g + 1,
        evaluations: next.evaluations,
        sigma,
        bestCost: sortedCosts[0]!,
        medianCost: sortedCosts[Math.floor(lambda / 2)]!,
        restarts: finalState.restartsDone,
      },
    };
  },

  stopReason(_params, state) {
    return state.stop ?? undefined;
  },

  best(state) {
    return state.best ?? undefined;
  },
};

function eigen(C: number[][]): { B: number[][]; D: number[] } {
  const n = C.length;
  const symmetric = C.map((row, i) => row.map((_, j) => (C[i]![j]! + C[j]![i]!) / 2));
  const decomposition = new EigenvalueDecomposition(new Matrix(symmetric), { assumeSymmetric: true });
  const vectors = decomposition.eigenvectorMatrix.to2DArray();
  const values = decomposition.realEigenvalues;
  // keep C positive definite against rounding: eigenvalues floored at a tiny positive value
  const D = values.map((v) => Math.sqrt(Math.max(v, 1e-300)));
  return { B: vectors.map((row) => row.slice(0, n)), D };
}

function range(values: readonly number[]): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi >= lo ? hi - lo : Infinity;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function stopCriterion(params: CmaEsParams, s: CmaEsState): string | undefined {
  const { n, lambda } = s;
  if (params.targetFitness !== undefined && s.best) {
    if (toCost(params.objective, s.best.fitness) <= toCost(params.objective, params.targetFitness)) return 'target';
  }
  if (params.maxEvaluations !== undefined && s.evaluations >= params.maxEvaluations) return 'budget';
  const historyLength = 10 + Math.ceil((30 * n) / lambda);
  if (s.bestCostHistory.length >= historyLength) {
    const recent = [...s.bestCostHistory.slice(-historyLength), ...s.lastGenerationCosts];
    const spread = range(recent);
    if (spread === 0) return 'equalfunvals';
    if (spread < (params.tolFun ?? 1e-11)) return 'tolfun';
  }
  const tolX = params.tolX ?? 1e-12 * params.sigma0;
  if (s.C.every((row, i) => s.sigma * Math.sqrt(row[i]!) < tolX) && s.pathC.every((p) => s.sigma * Math.abs(p) < tolX)) {
    return 'tolx';
  }
  const axis = s.generation % n;
  if (s.mean.every((m, i) => m + 0.1 * s.sigma * s.D[axis]! * s.B[i]![axis]! === m)) return 'noeffectaxis';
  if (s.mean.some((m, i) => m + 0.2 * s.sigma * Math.sqrt(s.C[i]![i]!) === m)) return 'noeffectcoord';
  const maxD = Math.max(...s.D);
  const minD = Math.min(...s.D);
  if ((maxD / minD) ** 2 > 1e14) return 'conditioncov';
  const window = Math.max(120 + (30 * n) / lambda, 0.2 * s.generation);
  if (s.generation >= window && s.bestCostHistory.length >= window) {
    const span = Math.floor(window);
    const slice = (h: number[]) => h.slice(-span);
    const part = Math.max(1, Math.floor(0.3 * span));
    const stagnant = (h: number[]) => median(h.slice(-part)) >= median(h.slice(0, part));
    if (stagnant(slice(s.bestCostHistory)) && stagnant(slice(s.medianCostHistory))) return 'stagnation';
  }
  return undefined;
}

function maybeRestart(params: CmaEsParams, s: CmaEsState, reason: string): CmaEsState | undefined {
  if ((params.restarts ?? 'none') !== 'ipop' || reason === 'target' || reason === 'budget') return undefined;
  if (s.restartsDone >= (params.maxRestarts ?? 9)) return undefined;
  const restarted = freshState(params, s.lambda * 2, s.rng, s);
  return { ...restarted, restartsDone: s.restartsDone + 1 };
}
