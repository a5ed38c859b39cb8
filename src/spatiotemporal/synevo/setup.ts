/**
 * The data and training plumbing shared by SynEVO and its reference models (synevo.md §2.5, §3): training
 * groups and one held-out group on one network (sources concatenated in time for cross-source runs), a
 * z-score scaler fitted only on the training windows of the training groups, step-budgeted training on a
 * sample list, few-shot slices and held-out evaluation (masked MAE/RMSE/MAPE at horizons 3/6/12 and over all
 * twelve). The held-out group's validation and test windows are never trained on or used for selection.
 */
import { ModelevoError } from '../../core/errors.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import type { DomainGroup } from '../../tasks/traffic/domains.js';
import { fitScaler } from '../../tasks/traffic/scaler.js';
import { HORIZON_STEPS, chronologicalSplit } from '../../tasks/traffic/windows.js';
import { targetsOf, type PreparedTraffic } from '../gwn-data.js';
import type { GwnSession } from '../gwn-engine-session.js';
import { fitSamples } from '../gwn-fit.js';
import { horizonMetrics, type ForecastMetrics } from '../metrics.js';

export interface DomainSetup {
  readonly prepared: PreparedTraffic;
  /** the groups trained on, in natural (chronological / source) order */
  readonly groups: readonly DomainGroup[];
  readonly heldOut: DomainGroup;
}

/** Splits off the held-out group and fits the scaler on the other groups' training windows. */
export function buildDomainSetup(network: TrafficNetwork, stepsPerDay: number, groups: readonly DomainGroup[], heldOutId: string): DomainSetup {
  const heldOut = groups.find((g) => g.id === heldOutId);
  if (!heldOut) {
    throw new ModelevoError('UNKNOWN_NAME', `held-out group '${heldOutId}' not found; groups are ${groups.map((g) => g.id).join(', ')}`, { hint: 'check --holdout', details: { heldOutId } });
  }
  const training = groups.filter((g) => g !== heldOut);
  for (const g of groups) {
    if (g.train.length === 0 || g.test.length === 0) {
      throw new ModelevoError('VALUE_INVALID', `group '${g.id}' has ${g.train.length} training and ${g.test.length} test windows; expected at least one of each`, {
        hint: 'the series is too short for this domain split; use fewer periods or a longer series',
        details: { group: g.id },
      });
    }
  }
  const scaler = fitScaler(network, { windows: training.flatMap((g) => g.train) });
  // `splits` is unused by the SynEVO code (it trains on explicit sample lists); kept for the shared type.
  return { prepared: { network, splits: chronologicalSplit(network.steps), scaler, stepsPerDay }, groups: training, heldOut };
}

/** The first `fraction` of the held-out group's training windows (the few-shot adaptation slice). */
export function fewShotSlice(group: DomainGroup, fraction: number): number[] {
  return group.train.slice(0, Math.max(1, Math.round(fraction * group.train.length)));
}

export interface StepBudget {
  readonly steps: number;
  readonly batchSize: number;
  readonly weightDecay: number;
  readonly dropConnect?: number;
  /** dropout on activations at this rate instead of the configured one (the 'activation' drop mode) */
  readonly activationDropout?: number;
}

/**
 * Runs `budget.steps` optimiser steps on random batches of `samples`; returns the first step's loss and the mean.
 * Each step is an epoch of its own (a fresh shuffle of `samples`, its first batch), so a short visit sees
 * batches from the whole group.
 */
export async function trainSteps(session: GwnSession, samples: readonly number[], budget: StepBudget): Promise<{ firstLoss: number; meanLoss: number }> {
  let firstLoss = Number.NaN;
  const { meanLoss } = await fitSamples(session, samples, {
    epochs: budget.steps,
    maxStepsPerEpoch: 1,
    batchSize: budget.batchSize,
    step: { weightDecay: budget.weightDecay, dropConnect: budget.dropConnect, activationDropout: budget.activationDropout },
    // the first loss after a domain switch (quick adaptation, §2.5)
    onStep: (loss, step) => {
      if (step === 1) firstLoss = loss;
    },
  });
  return { firstLoss, meanLoss };
}

export interface HeldOutMetrics {
  readonly h3: ForecastMetrics;
  readonly h6: ForecastMetrics;
  readonly h12: ForecastMetrics;
  readonly all: ForecastMetrics;
}

export async function evaluateOn(session: GwnSession, prepared: PreparedTraffic, samples: readonly number[]): Promise<HeldOutMetrics> {
  const forecast = await session.forecast(samples);
  const truth = targetsOf(prepared, samples);
  const layout = { samples: samples.length, horizons: HORIZON_STEPS, nodes: prepared.network.sensorIds.length };
  return { h3: horizonMetrics(forecast, truth, layout, 3), h6: horizonMetrics(forecast, truth, layout, 6), h12: horizonMetrics(forecast, truth, layout, 12), all: horizonMetrics(forecast, truth, layout, 'all') };
}
