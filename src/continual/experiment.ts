/**
 * Several seeds of one method on one stream, with mean ± std of the summary metrics (the unit behind
 * `modelevo continual run` and scripts/results-continual.ts). Each seed draws its own permutations, training
 * subsets, initial weights and batch order.
 */
import { buildStream, loadFashionMnist, type FashionMnist } from '../tasks/fashion-mnist/streams.js';
import type { KernelsName } from '../nn/kernels/kernels.js';
import { parseContinualConfig, type ContinualConfigInput } from './config.js';
import { meanStd } from './metrics.js';
import { runContinual, type ContinualRunResult, type RunHooks } from './run.js';
import { runJoint } from './joint.js';

export interface ExperimentOptions {
  config: Omit<ContinualConfigInput, 'seed'>;
  seeds: number;
  /** first seed; seeds are firstSeed, firstSeed + 1, ... */
  firstSeed?: number;
  dataDir?: string;
  /** engine kernels: 'wasm' (SIMD, the default) or 'cpu' (the engine's plain-TypeScript reference kernels) */
  backend?: ContinualBackend;
  /** already loaded data (the results script loads it once) */
  data?: FashionMnist;
  hooks?: (seed: number) => RunHooks;
  /** the joint (multitask) upper bound instead of `config.method` (joint.ts; uses lr, epochs, batch size) */
  joint?: boolean;
  /** a seed's result kept from an earlier, interrupted session: that seed is not trained again (resume) */
  completed?: (seed: number) => ContinualRunResult | undefined;
  /** after each seed that was trained in this session */
  onSeed?: (result: ContinualRunResult) => void;
}

export type ContinualBackend = 'wasm' | 'cpu';
const KERNELS: Readonly<Record<ContinualBackend, KernelsName>> = { wasm: 'wasm', cpu: 'reference' };

export interface MeanStd {
  mean: number;
  std: number;
}

export interface ExperimentResult {
  method: string;
  benchmark: string;
  runs: ContinualRunResult[];
  acc: MeanStd;
  bwt: MeanStd;
  bwtAll: MeanStd;
  forgetting: MeanStd;
  /** mean wall seconds per task over all runs */
  secondsPerTask: number;
}

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const kernels = KERNELS[options.backend ?? 'wasm'];
  // loaded lazily: a resume whose seeds are all stored reads no data
  let loaded = options.data;
  const dataOnce = (): FashionMnist => (loaded ??= loadFashionMnist(options.dataDir));
  const runs: ContinualRunResult[] = [];
  const first = options.firstSeed ?? 0;
  for (let seed = first; seed < first + options.seeds; seed++) {
    const kept = options.completed?.(seed);
    if (kept) {
      runs.push(kept);
      continue;
    }
    const config = parseContinualConfig({ ...options.config, seed });
    const stream = buildStream(config.benchmark, dataOnce(), { seed, trainPerTask: config.trainPerTask, testPerTask: config.testPerTask });
    const result = options.joint ? runJoint(stream, config, kernels) : runContinual(stream, config, options.hooks?.(seed), kernels);
    options.onSeed?.(result);
    runs.push(result);
  }
  const pick = (f: (r: ContinualRunResult) => number): MeanStd => meanStd(runs.map(f));
  const seconds = runs.flatMap((r) => r.secondsPerTask);
  return {
    method: runs[0]!.method,
    benchmark: runs[0]!.benchmark,
    runs,
    acc: pick((r) => r.summary.acc),
    bwt: pick((r) => r.summary.bwt),
    bwtAll: pick((r) => r.summary.bwtAll),
    forgetting: pick((r) => r.summary.forgetting),
    secondsPerTask: seconds.reduce((a, b) => a + b, 0) / seconds.length,
  };
}

/** "72.3 ± 1.2" in percent */
export function formatPercent(value: MeanStd, digits = 2): string {
  return `${(100 * value.mean).toFixed(digits)} ± ${(100 * value.std).toFixed(digits)}`;
}
