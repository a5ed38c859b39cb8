/**
 * SynEVO's options from the flat settings a user or a script chooses (synevo.md §2; issue #18 item 3): the
 * `modelevo st synevo` flags and the results script's budget both go through `synevoOptionsFrom`, so a setting
 * left out takes DEFAULT_SYNEVO's value (loop.ts), the one place each default is written.
 */
import type { GraphWaveNetConfig } from '../gwn-config.js';
import { DEFAULT_SYNEVO, type SynevoOptions } from './loop.js';

export interface SynevoSettings {
  readonly seed: number;
  readonly config: Partial<GraphWaveNetConfig>;
  readonly learningRate?: number;
  /** minibatch size of the container, the references and the curriculum's per-group models */
  readonly batchSize?: number;
  readonly cycles?: number;
  readonly stepsPerGroup?: number;
  /** steps of each group's fresh model when the curriculum scores the groups */
  readonly scoringSteps?: number;
  readonly fewShotSteps?: number;
  readonly fewShotFraction?: number;
  readonly p0?: number;
  readonly lambda0?: number;
  readonly kappa?: number;
  readonly kappaFactor?: number;
  /** contrastive margin of the personality extractor */
  readonly margin?: number;
  readonly extractorIterations?: number;
  readonly dropMode?: SynevoOptions['dropMode'];
  readonly separateInit?: SynevoOptions['separateInit'];
  /** engine threads of every session (default 'auto') */
  readonly workers?: SynevoOptions['workers'];
}

export function synevoOptionsFrom(s: SynevoSettings): SynevoOptions {
  const d = DEFAULT_SYNEVO;
  const batchSize = s.batchSize ?? d.batchSize;
  return {
    ...d,
    seed: s.seed,
    config: s.config,
    learningRate: s.learningRate ?? d.learningRate,
    batchSize,
    cycles: s.cycles ?? d.cycles,
    stepsPerGroup: s.stepsPerGroup ?? d.stepsPerGroup,
    elastic: { p0: s.p0 ?? d.elastic.p0, lambda0: s.lambda0 ?? d.elastic.lambda0 },
    kappa: s.kappa ?? d.kappa,
    ...(s.kappaFactor === undefined ? {} : { kappaFactor: s.kappaFactor }),
    extractor: { ...d.extractor, margin: s.margin ?? d.extractor.margin, iterations: s.extractorIterations ?? d.extractor.iterations },
    dropMode: s.dropMode ?? d.dropMode,
    separateInit: s.separateInit ?? d.separateInit,
    fewShotFraction: s.fewShotFraction ?? d.fewShotFraction,
    fewShotSteps: s.fewShotSteps ?? d.fewShotSteps,
    scoring: { ...d.scoring, steps: s.scoringSteps ?? d.scoring.steps, batchSize },
    ...(s.workers === undefined ? {} : { workers: s.workers }),
  };
}
