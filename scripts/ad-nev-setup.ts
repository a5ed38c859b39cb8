/**
 * Shared set-up of the AD-NEv scripts (results-ad-nev.ts, ad-nev-design-study.ts): channels, the reduced
 * budget, and pooled metrics.
 *
 * Channels were fixed before any result of this set-up was looked at:
 * - `documented`: the subset of the first results (shortest series; kept for continuity);
 * - `extra` (2 per dataset) and `dev` (3 per dataset): a seeded shuffle of the remaining labelled channels.
 * `dev` channels serve design choices only (the design study looks at their test labels); the report uses
 * every other labelled channel (`reportChannels`), disjoint from `dev`.
 */
import { createRng } from '../src/core/rng.js';
import type { AdNevConfig, adNevConfigSchema } from '../src/neuro/ad-nev/config.js';
import type { ChannelOutputs } from '../src/neuro/ad-nev/run.js';
import type { LevelName } from '../src/neuro/ad-nev/pipeline.js';
import type { ThresholdMethod } from '../src/neuro/ad-nev/ensemble.js';
import { pointAdjustedPrf, prf, rangePrf, type Prf } from '../src/tasks/anomaly/metrics.js';
import { affiliationPr, poolAffiliation } from '../src/tasks/anomaly/affiliation.js';
import type { z } from 'zod';

export type Dataset = 'SMAP' | 'MSL';

export const DOCUMENTED: Record<Dataset, readonly string[]> = { SMAP: ['A-5', 'A-6', 'D-12'], MSL: ['T-9', 'T-8', 'C-2'] };

export function drawChannels(known: readonly string[], dataset: Dataset): { dev: string[]; extra: string[] } {
  const pool = [...new Set(known)].filter((c) => !DOCUMENTED[dataset].includes(c)).sort();
  const rng = createRng('ad-nev-channel-split-v1', dataset);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return { extra: pool.slice(0, 2), dev: pool.slice(2, 5) };
}

/** every labelled channel except the dev channels, each once (P-2 is listed twice in the label file), in file order */
export function reportChannels(known: readonly string[], dataset: Dataset): string[] {
  const dev = drawChannels(known, dataset).dev;
  return [...new Set(known)].filter((c) => !dev.includes(c));
}

/** the reduced budget of the report and the design study (paper: 25 epochs per candidate, level 3 at 24 × 64) */
export const REDUCED_BUDGET = {
  seed: 0,
  members: 5,
  epochs: 5,
  level1: { population: 6, offspring: 6, generations: 2 },
  level2: { population: 4, offspring: 4, generations: 2, maxChannels: 32, maxLayers: 3 },
  level3: { population: 24, iterations: 16, mutationProbability: 0.02, step: 1 / 256, multiplicative: false },
} as const satisfies Partial<z.input<typeof adNevConfigSchema>>;

export const LEVELS: readonly LevelName[] = ['untrained', 'baseline', 'level1', 'level2', 'level3'];

export function concat(arrays: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

export interface PooledRow {
  readonly plain: Prf;
  readonly pa: Prf;
  readonly range: Prf;
  /** affiliation P/R over the zones of every channel (zones never span two channels) */
  readonly affiliation: { precision: number; recall: number };
}

/** P/R/F1 (plain, point-adjusted, range) of predictions concatenated over channels; affiliation pooled over zones. */
export function pooled(channels: readonly string[], outputs: Map<string, ChannelOutputs>, level: LevelName, vote: AdNevConfig['vote'], method: ThresholdMethod): PooledRow {
  const perChannel = channels.map((c) => ({ labels: outputs.get(c)!.labels, predictions: outputs.get(c)!.levels.get(level)!.decisions[vote][method] }));
  const labels = concat(perChannel.map((p) => p.labels));
  const predictions = concat(perChannel.map((p) => p.predictions));
  const affiliation = poolAffiliation(perChannel.map((p) => affiliationPr(p.predictions, p.labels)));
  return { plain: prf(predictions, labels), pa: pointAdjustedPrf(predictions, labels), range: rangePrf(predictions, labels), affiliation };
}

export const fixed3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');
