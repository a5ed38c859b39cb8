/**
 * Choosing the elastic schedule's p₀ and λ₀ (synevo.md §2.2, Eq. 10–11) on validation data (issue #14): the
 * paper's p₀ 0.5, λ₀ 0.05 were tuned on NYC/SIP at convergence, and at our short budgets the static ablation
 * beat them. For every (p₀, λ₀) of a small grid the full SynEVO container is trained and scored on the pooled
 * validation windows of the TRAINING groups; the lowest validation MAE wins (ties: the earlier grid point).
 * The held-out domain is never read, so the choice does not peek at what is reported.
 */
import { ModelevoError } from '../../core/errors.js';
import type { CurriculumResult } from './group-scoring.js';
import { synevoValidationMae, type SynevoOptions } from './loop.js';
import type { ElasticParams } from './schedule.js';
import type { DomainSetup } from './setup.js';

export interface ElasticGrid {
  readonly p0: readonly number[];
  readonly lambda0: readonly number[];
}

/** A small slice of the paper's grid (p₀ ∈ {0.1 … 1}, λ₀ ∈ {0.01 … 0.1}), its ends and its chosen point. */
export const DEFAULT_ELASTIC_GRID: ElasticGrid = { p0: [0.1, 0.5], lambda0: [0.01, 0.05] };

export interface ElasticGridPoint extends ElasticParams {
  readonly validationMae: number;
}

export interface ElasticSelection {
  readonly chosen: ElasticParams;
  readonly points: readonly ElasticGridPoint[];
}

/** Picks the lowest validation MAE from already scored points. */
export function chooseElastic(points: readonly ElasticGridPoint[]): ElasticParams {
  if (points.length === 0) throw new ModelevoError('CONFIG_INVALID', 'chooseElastic: expected at least one scored (p₀, λ₀) grid point, got none', { hint: 'give the grid at least one p₀ and one λ₀ value' });
  let best = points[0]!;
  for (const p of points) if (p.validationMae < best.validationMae) best = p;
  return { p0: best.p0, lambda0: best.lambda0 };
}

/**
 * Scores every grid point (`known` points, e.g. from a cache, are not rerun; `onPoint` sees each new one, so a
 * caller can store progress) and returns the choice.
 */
export async function selectElastic(
  setup: DomainSetup,
  options: SynevoOptions,
  curriculum: CurriculumResult,
  grid: ElasticGrid = DEFAULT_ELASTIC_GRID,
  hooks: { readonly known?: readonly ElasticGridPoint[]; readonly onPoint?: (point: ElasticGridPoint) => void; readonly log?: (line: string) => void } = {},
): Promise<ElasticSelection> {
  const points: ElasticGridPoint[] = [];
  for (const p0 of grid.p0) {
    for (const lambda0 of grid.lambda0) {
      const known = hooks.known?.find((k) => k.p0 === p0 && k.lambda0 === lambda0);
      if (known) {
        points.push(known);
        continue;
      }
      const validationMae = await synevoValidationMae(setup, { ...options, ablation: 'none', elastic: { p0, lambda0 } }, curriculum, hooks.log);
      const point = { p0, lambda0, validationMae };
      hooks.log?.(`elastic grid: p₀ ${p0}, λ₀ ${lambda0} → validation MAE ${validationMae.toFixed(3)}`);
      hooks.onPoint?.(point);
      points.push(point);
    }
  }
  return { chosen: chooseElastic(points), points };
}
