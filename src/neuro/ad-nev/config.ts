/**
 * AD-NEv run configuration (one zod schema; ad-nev.md §1–3). Budget presets scale the search: `paper` uses
 * the spec's numbers where known (25 epochs per candidate, final re-training 70, level 3 at 24 × 64), `small` and `tiny` are
 * reduced budgets for laptops and tests; every results table states the preset used.
 */
import { z } from 'zod';
import { DEFAULT_WEIGHT_TUNING } from '../../evolve/strategies/weight-tuning.js';

const gaSchema = z.object({
  population: z.number().int().min(1),
  offspring: z.number().int().min(1),
  generations: z.number().int().min(0),
});

export const adNevConfigSchema = z.object({
  seed: z.number().int().default(0),
  /** ensemble members k (the paper's final ensembles have 5) */
  members: z.number().int().min(1).default(5),
  /** training-series median downsampling factor (AD-NEv uses 5) */
  downsample: z.number().int().min(1).default(5),
  /** last fraction of each training series held out for label-free fitness (§3.1) */
  validationFraction: z.number().gt(0).lt(1).default(0.2),
  scaler: z.enum(['minmax', 'zscore']).default('minmax'),
  /**
   * per-feature weighting of the label-free fitness (fitness.ts): `variance` divides each feature's held-out
   * error by its variance on the fitting part (constant features: 0 when watched, 1 when not); `none` is the
   * raw mean error
   */
  fitnessNormalisation: z.enum(['variance', 'none']).default('variance'),
  epochs: z.number().int().min(1).default(25),
  /**
   * final re-training (AD-NEv Appendix Table I: 70 epochs on SMAP and MSL): after level 2 the members of the
   * baseline, level 1 and level 2 are trained afresh for this many epochs and level 3 tunes the re-trained
   * level-2 members; 0 = off (the selected candidates are used as trained during the search)
   */
  finalEpochs: z.number().int().min(0).default(0),
  batchSize: z.number().int().min(1).default(32),
  level1: gaSchema.default({ population: 8, offspring: 8, generations: 4 }),
  /**
   * level 1 per `channel` (each channel evolves its own subspaces) or per `dataset` (one set shared by every
   * channel, the form of the paper's appendix; fitness = mean over channels of each channel's ensemble fitness)
   */
  subspaceScope: z.enum(['channel', 'dataset']).default('channel'),
  /**
   * optional cap on every autoencoder's code as a fraction of its input (W·F), enforced by an extra FC layer
   * (operators.ts `enforceBottleneck`); absent = the spec's architectures as they are
   */
  bottleneck: z.number().gt(0).max(1).optional(),
  level2: gaSchema
    .extend({ maxChannels: z.number().int().min(16).default(256), maxLayers: z.number().int().min(1).max(6).default(4) })
    .default({ population: 8, offspring: 8, generations: 4, maxChannels: 256, maxLayers: 4 }),
  level3: z
    .object({
      population: z.number().int().min(1),
      iterations: z.number().int().min(0),
      mutationProbability: z.number().min(0).max(1),
      step: z.number().positive(),
      multiplicative: z.boolean(),
    })
    .default({
      population: DEFAULT_WEIGHT_TUNING.populationSize,
      iterations: DEFAULT_WEIGHT_TUNING.iterations,
      mutationProbability: DEFAULT_WEIGHT_TUNING.mutationProbability,
      step: DEFAULT_WEIGHT_TUNING.step,
      multiplicative: DEFAULT_WEIGHT_TUNING.multiplicative,
    }),
  threshold: z
    .object({
      method: z.enum(['pot', 'percentile']),
      q: z.number().gt(0).lt(1),
      level: z.number().gt(0).lt(1),
      percentile: z.number().gt(0).lt(100),
    })
    .default({ method: 'pot', q: 1e-3, level: 0.98, percentile: 1 }),
  /**
   * how members combine (ensemble.ts): `any` member alarming (default), `majority`, or `mean` of normalised
   * scores against one threshold. Defaults of `vote` and `fitnessNormalisation` chosen together on dev
   * channels only (docs/results/ad-nev-design.md): `variance` + `any` had the highest final POT F1 there
   * (0.251 vs 0.249 for `none` + `majority`, the spec's earlier default — a near tie)
   */
  vote: z.enum(['majority', 'any', 'mean']).default('any'),
  convention: z.enum(['inclusive', 'exclusive']).default('inclusive'),
});

export type AdNevConfig = z.infer<typeof adNevConfigSchema>;

export const BUDGETS = {
  paper: { finalEpochs: 70 },
  small: {
    members: 3,
    epochs: 8,
    level1: { population: 6, offspring: 6, generations: 2 },
    level2: { population: 6, offspring: 6, generations: 2, maxChannels: 128, maxLayers: 3 },
    level3: { population: 24, iterations: 32, mutationProbability: 0.02, step: 1 / 256, multiplicative: false },
  },
  tiny: {
    members: 2,
    epochs: 2,
    level1: { population: 3, offspring: 2, generations: 1 },
    level2: { population: 2, offspring: 2, generations: 1, maxChannels: 32, maxLayers: 2 },
    level3: { population: 4, iterations: 3, mutationProbability: 0.02, step: 1 / 256, multiplicative: false },
  },
} as const satisfies Record<string, Partial<z.input<typeof adNevConfigSchema>>>;

export type BudgetName = keyof typeof BUDGETS;
