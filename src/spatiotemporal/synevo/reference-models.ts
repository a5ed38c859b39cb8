/**
 * The comparators of SynEVO's cross-domain protocol (issue #7; synevo.md §3): the plain Graph WaveNet
 * backbone trained (a) jointly on the union of all training groups, (b) fine-tuned sequentially through the
 * groups in natural (chronological / source) order. Both get the same optimiser-step budget as SynEVO's
 * container (cycles × groups × steps per group), the same learning rate and a constant weight decay, and
 * are evaluated like SynEVO: zero-shot on the held-out group's test windows, and few-shot after the same
 * adaptation budget on the held-out few-shot slice.
 */
import type { GraphWaveNetConfig } from '../gwn-config.js';
import { GwnEngineSession, type GwnSession, type GwnWorkers } from '../gwn-engine-session.js';
import { trainGwn, type EpochRecord, type StopReason } from '../gwn-trainer.js';
import { evaluateOn, fewShotSlice, trainSteps, type DomainSetup, type HeldOutMetrics } from './setup.js';

export interface ReferenceOptions {
  readonly seed: number;
  readonly config: Partial<GraphWaveNetConfig>;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly batchSize: number;
  readonly weightDecay: number;
  /** total training steps (SynEVO's cycles × groups × steps per group) */
  readonly totalSteps: number;
  readonly fewShotFraction: number;
  readonly fewShotSteps: number;
  /** engine threads (default 'auto') */
  readonly workers?: GwnWorkers;
}

export interface ReferenceResult {
  readonly method: 'gwn-joint' | 'gwn-sequential';
  readonly zeroShot: HeldOutMetrics;
  readonly fewShot: HeldOutMetrics;
  readonly seconds: number;
}

async function zeroAndFewShot(session: GwnSession, setup: DomainSetup, options: ReferenceOptions): Promise<{ zeroShot: HeldOutMetrics; fewShot: HeldOutMetrics }> {
  const zeroShot = await evaluateOn(session, setup.prepared, setup.heldOut.test);
  await trainSteps(session, fewShotSlice(setup.heldOut, options.fewShotFraction), { steps: options.fewShotSteps, batchSize: options.batchSize, weightDecay: options.weightDecay });
  return { zeroShot, fewShot: await evaluateOn(session, setup.prepared, setup.heldOut.test) };
}

export async function runReference(method: ReferenceResult['method'], setup: DomainSetup, options: ReferenceOptions, log: (line: string) => void = () => {}): Promise<ReferenceResult> {
  const started = performance.now();
  const session = new GwnEngineSession(setup.prepared, { seed: options.seed, learningRate: options.learningRate, clipNorm: options.clipNorm, config: options.config, ...(options.workers === undefined ? {} : { workers: options.workers }) });
  const budget = { batchSize: options.batchSize, weightDecay: options.weightDecay };
  try {
    if (method === 'gwn-joint') {
      const { meanLoss } = await trainSteps(session, setup.groups.flatMap((g) => g.train), { ...budget, steps: options.totalSteps });
      log(`${method}: ${options.totalSteps} steps on all training groups, mean loss ${meanLoss.toFixed(3)}`);
    } else {
      const per = Math.floor(options.totalSteps / setup.groups.length);
      for (const [i, g] of setup.groups.entries()) {
        const steps = i === setup.groups.length - 1 ? options.totalSteps - per * i : per;
        const { meanLoss } = await trainSteps(session, g.train, { ...budget, steps });
        log(`${method}: ${g.id} ${steps} steps, mean loss ${meanLoss.toFixed(3)}`);
      }
    }
    const { zeroShot, fewShot } = await zeroAndFewShot(session, setup, options);
    log(`${method}: held-out zero-shot MAE ${zeroShot.all.mae.toFixed(3)}, few-shot ${fewShot.all.mae.toFixed(3)}`);
    return { method, zeroShot, fewShot, seconds: (performance.now() - started) / 1000 };
  } finally {
    await session.dispose();
  }
}

export interface ConvergedReferenceResult extends Omit<ReferenceResult, 'method'> {
  readonly method: 'gwn-joint-converged';
  /** the learning curve: train / validation MAE per epoch (validation = the training groups' val windows) */
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly stopReason: StopReason;
}

/**
 * The backbone trained jointly on the training groups until its validation MAE stops improving (early stopping
 * on the training groups' validation windows, best epoch restored; the held-out group is never read), then
 * scored like the other rows. Not budget-matched: it shows how far the step-matched rows are from a converged
 * backbone (issue #14: "nothing built on an unconverged backbone can be judged").
 */
export async function runConvergedJointReference(setup: DomainSetup, options: ReferenceOptions & { readonly epochs: number; readonly patience: number; readonly trainScoreWindows: number }, log: (line: string) => void = () => {}): Promise<ConvergedReferenceResult> {
  const started = performance.now();
  const trained = await trainGwn(setup.prepared, {
    epochs: options.epochs,
    patience: options.patience,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    seed: options.seed,
    config: options.config,
    trainSamples: setup.groups.flatMap((g) => g.train),
    valSamples: setup.groups.flatMap((g) => g.val),
    trainScoreWindows: options.trainScoreWindows,
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    onEpoch: (r) => log(`gwn-joint-converged: epoch ${r.epoch} val MAE ${r.valMae.toFixed(3)}`),
  });
  const session = new GwnEngineSession(setup.prepared, { seed: options.seed, learningRate: options.learningRate, clipNorm: options.clipNorm, config: trained.config, initialWeights: trained.weights, ...(options.workers === undefined ? {} : { workers: options.workers }) });
  try {
    const { zeroShot, fewShot } = await zeroAndFewShot(session, setup, options);
    log(`gwn-joint-converged: best epoch ${trained.bestEpoch} of ${trained.history.length} (${trained.stopReason}); held-out zero-shot MAE ${zeroShot.all.mae.toFixed(3)}, few-shot ${fewShot.all.mae.toFixed(3)}`);
    return { method: 'gwn-joint-converged', zeroShot, fewShot, seconds: (performance.now() - started) / 1000, history: trained.history, bestEpoch: trained.bestEpoch, stopReason: trained.stopReason };
  } finally {
    await session.dispose();
  }
}
