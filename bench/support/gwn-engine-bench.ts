/** The engine half of bench:nn-train's GWN rows, without tfjs (its RSS child loads only this). */
import { createRng } from '../../src/core/rng.js';
import { Model } from '../../src/nn/model.js';
import { DataParallelTrainer } from '../../src/nn/data-parallel.js';
import { Trainer } from '../../src/nn/trainer.js';
import { defaultGwnConfig, transitionMatrices, type GraphWaveNetConfig } from '../../src/spatiotemporal/gwn-config.js';
import { gwnModelSpec, setGwnSupports } from '../../src/spatiotemporal/gwn-engine.js';

export interface GwnBenchPlan {
  readonly nodes: number;
  readonly residual: number;
  readonly skip: number;
  readonly end: number;
  readonly batch: number;
  readonly warmup: number;
  readonly steps: number;
}

export const STEPS_IN = 12;
export const SCALER = { mean: 55, std: 18 };

export function benchConfig(plan: GwnBenchPlan): GraphWaveNetConfig {
  return defaultGwnConfig(plan.nodes, { residualChannels: plan.residual, dilationChannels: plan.residual, skipChannels: plan.skip, endChannels: plan.end });
}

export function randomData(plan: GwnBenchPlan): { x: Float32Array; labels: Float32Array; supports: [Float32Array, Float32Array] } {
  const rng = createRng('bench-gwn', plan.nodes);
  const n = plan.nodes;
  const adjacency = Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : rng.next() < 0.05 ? rng.next() : 0));
  const x = Float32Array.from({ length: plan.batch * 2 * n * STEPS_IN }, () => rng.normal());
  const labels = Float32Array.from({ length: plan.batch * 12 * n }, () => (rng.next() < 0.1 ? 0 : SCALER.mean + SCALER.std * rng.normal()));
  return { x, labels, supports: transitionMatrices(adjacency, n) };
}

export function compileBenchModel(plan: GwnBenchPlan): { trainer: Trainer; x: Float32Array; labels: Float32Array } {
  const config = benchConfig(plan);
  const model = Model.compile(gwnModelSpec(config, 2, SCALER, STEPS_IN), { batch: plan.batch, kernels: 'wasm', optimizer: { kind: 'adam', weightDecay: 1e-4 }, seed: 0 });
  const { x, labels, supports } = randomData(plan);
  setGwnSupports(model, supports);
  return { trainer: new Trainer(model, { lr: 1e-3, clipNorm: 5 }), x, labels };
}


/**
 * The same step data-parallel over 2 replicas (this thread + one worker, batch 8 + 8, src/nn/data-parallel.ts):
 * per-replica BN statistics and dropout masks, so the steps follow single-thread ones in distribution.
 */
export async function openDataParallelBench(plan: GwnBenchPlan): Promise<{ trainer: DataParallelTrainer; x: Float32Array; labels: Float32Array }> {
  const config = benchConfig(plan);
  const trainer = await DataParallelTrainer.open(gwnModelSpec(config, 2, SCALER, STEPS_IN), { batch: plan.batch, optimizer: { kind: 'adam', weightDecay: 1e-4 }, seed: 0, lr: 1e-3, clipNorm: 5 });
  const { x, labels, supports } = randomData(plan);
  // set on replica 0's model; the trainer copies state (the supports) to replica 1 before each step
  setGwnSupports(trainer.model, supports);
  return { trainer, x, labels };
}
