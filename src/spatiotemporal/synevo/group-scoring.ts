/**
 * SynEVO curriculum scoring (synevo.md §2.1 steps 1–2): for every group a fresh backbone is trained on the
 * group's training windows to a budgeted "convergence" (Adam, lr 0.01, weight decay 0.001 by default; a fixed
 * step budget replaces "until the loss converges" on this machine), then the final loss is back-propagated on
 * a fixed batch of the group's training windows (evenly spaced) to get the per-tensor gradients. Every group's
 * fresh model starts from the same seeded initialisation, so signatures differ by data, not by init.
 */
import type { GraphWaveNetConfig } from '../gwn-config.js';
import type { PreparedTraffic } from '../gwn-data.js';
import { GwnEngineSession, type GwnWorkers } from '../gwn-engine-session.js';
import { curriculumOrder, signatureDistance, type Curriculum, type GroupGradients } from './curriculum.js';
import { trainSteps } from './setup.js';

export interface ScoringOptions {
  readonly seed: number | string;
  readonly config: Partial<GraphWaveNetConfig>;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly batchSize: number;
  /** optimiser steps of the fresh model per group */
  readonly steps: number;
  /** windows in the gradient batch */
  readonly signatureBatch: number;
  /** engine threads of the per-group models (default 'auto') */
  readonly workers?: GwnWorkers;
}

export const DEFAULT_SCORING: Omit<ScoringOptions, 'seed' | 'config'> = { learningRate: 0.01, weightDecay: 0.001, clipNorm: 5, batchSize: 16, steps: 30, signatureBatch: 32 };

export interface ScoredGroup {
  readonly group: string;
  readonly gradients: GroupGradients;
  readonly finalLoss: number;
}

/** `count` evenly spaced entries of `samples` (all of them when there are fewer). */
export function evenlySpaced(samples: readonly number[], count: number): number[] {
  if (samples.length <= count) return [...samples];
  return Array.from({ length: count }, (_, i) => samples[Math.floor((i * samples.length) / count)]!);
}

export async function scoreGroup(prepared: PreparedTraffic, group: string, samples: readonly number[], options: ScoringOptions): Promise<ScoredGroup> {
  const session = new GwnEngineSession(prepared, { seed: options.seed, learningRate: options.learningRate, clipNorm: options.clipNorm, config: options.config, ...(options.workers === undefined ? {} : { workers: options.workers }) });
  try {
    const { meanLoss } = await trainSteps(session, samples, { steps: options.steps, batchSize: options.batchSize, weightDecay: options.weightDecay });
    return { group, gradients: await session.gradients(evenlySpaced(samples, options.signatureBatch)), finalLoss: meanLoss };
  } finally {
    await session.dispose();
  }
}

export interface CurriculumResult {
  readonly curriculum: Curriculum;
  readonly scored: readonly { readonly group: string; readonly finalLoss: number }[];
  /** l(d) of the held-out few-shot slice against the bench (used only for few-shot adaptation) */
  readonly fewShotDistance: number;
  readonly seconds: number;
}

/** Scores the training groups (and the held-out few-shot slice) and orders them easy → hard. */
export async function buildCurriculum(
  prepared: PreparedTraffic,
  groups: readonly { readonly id: string; readonly train: readonly number[] }[],
  fewShotSamples: readonly number[],
  options: ScoringOptions,
  log?: (line: string) => void,
): Promise<CurriculumResult> {
  const started = performance.now();
  const scored: ScoredGroup[] = [];
  for (const g of groups) {
    scored.push(await scoreGroup(prepared, g.id, g.train, options));
    log?.(`curriculum: scored ${g.id} (final loss ${scored.at(-1)!.finalLoss.toFixed(3)})`);
  }
  const curriculum = curriculumOrder(scored);
  const bench = scored.find((s) => s.group === curriculum.bench)!;
  const fewShot = await scoreGroup(prepared, 'held-out few-shot', fewShotSamples, options);
  const fewShotDistance = signatureDistance(fewShot.gradients, bench.gradients);
  return { curriculum, scored: scored.map(({ group, finalLoss }) => ({ group, finalLoss })), fewShotDistance, seconds: (performance.now() - started) / 1000 };
}
