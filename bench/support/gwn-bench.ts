/**
 * The Graph WaveNet rows of bench:nn-train: one training step (forward, masked MAE on inverse-scaled forecasts,
 * backward, clip to global norm 5, Adam lr 1e-3 with L2 1e-4) at the results' width on random data, timed on
 * the engine (src/nn, one thread), on tfjs-wasm through the previous implementation (gwnForward +
 * tf.variableGrads, as gwn-session.ts stepped it before the port) and on PyTorch (bench/gwn_torch.py). The same
 * network everywhere: see src/nn/layers/graph-wavenet.ts.
 */
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tf } from '../../test/support/tfjs/tf.js';
import { gwnForward, initialGwnWeights, isTrainable, parameterSpecs } from '../../test/support/gwn-tfjs.js';
import { maskedMaeLoss } from '../../test/support/gwn-tfjs-session.js';
import { benchConfig, compileBenchModel, openDataParallelBench, randomData, SCALER, STEPS_IN, type GwnBenchPlan } from './gwn-engine-bench.js';
import { runChild, type ChildRun } from './child-run.js';

export type { GwnBenchPlan } from './gwn-engine-bench.js';

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function timeSteps(plan: GwnBenchPlan, step: () => void): number {
  for (let i = 0; i < plan.warmup; i++) step();
  const ms: number[] = [];
  for (let i = 0; i < plan.steps; i++) {
    const started = performance.now();
    step();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

/** median ms per engine training step */
export function gwnEngineMs(plan: GwnBenchPlan): number {
  const { trainer, x, labels } = compileBenchModel(plan);
  return timeSteps(plan, () => trainer.step(x, labels));
}

/**
 * median ms per engine training step, data-parallel on 2 workers, and thread 0's mean wait / sync / copy ms per
 * step (DataParallelTrainer.profile, warm-up included); the worker is closed before returning
 */
export async function gwnEngineDataParallelMs(plan: GwnBenchPlan): Promise<{ ms: number; perStep: string }> {
  const { trainer, x, labels } = await openDataParallelBench(plan);
  try {
    const ms = timeSteps(plan, () => trainer.step(x, labels));
    const p = trainer.profile();
    const mean = (total: number): string => (total / trainer.steps).toFixed(1);
    return { ms, perStep: `per step on thread 0: ${mean(p.waitedMs)} ms waiting at barriers, ${mean(p.syncMs)} ms all-reduce + sharded update, ${mean(p.pushMs)} ms state copy to replica 1 (parameters are shared)` };
  } finally {
    await trainer.close();
  }
}

/** median ms per tfjs training step (the backend set by the caller) */
export function gwnTfjsMs(plan: GwnBenchPlan): number {
  const config = benchConfig(plan);
  const weights = initialGwnWeights(config, 2, 0);
  const specs = parameterSpecs(config, 2);
  const variables = specs.filter(isTrainable).map((s) => tf.variable(tf.tensor(weights[s.name]!.data, [...s.shape]), true, `bench-gwn-${s.name}`));
  const constants = new Map(specs.filter((s) => !isTrainable(s)).map((s) => [s.name, tf.tensor(weights[s.name]!.data, [...s.shape])]));
  const byName = new Map(specs.filter(isTrainable).map((s, i) => [s.name, variables[i]! as tf.Tensor]));
  const param = (name: string): tf.Tensor => byName.get(name) ?? constants.get(name)!;
  const { x, labels, supports } = randomData(plan);
  const n = plan.nodes;
  // the engine's [B, C, N, T] batch in tfjs's node-major [N, B, T, C]
  const xt = tf.tidy(() => tf.transpose(tf.tensor4d(x, [plan.batch, 2, n, STEPS_IN]), [2, 0, 3, 1]) as tf.Tensor4D);
  const yt = tf.tensor3d(labels, [plan.batch, 12, n]);
  const supportTensors = supports.map((s) => tf.tensor2d(s, [n, n]));
  const optimizer = tf.train.adam(1e-3);
  const ms = timeSteps(plan, () => {
    const { value, grads } = tf.variableGrads(() => maskedMaeLoss(gwnForward(config, param, supportTensors, xt, { training: true }), yt, { scaler: SCALER }), variables);
    const clipped = tf.tidy(() => {
      const decayed = variables.filter((v) => grads[v.name]).map((v) => ({ name: v.name, tensor: tf.add(grads[v.name]!, tf.mul(v, 1e-4)) }));
      const norm = tf.sqrt(tf.addN(decayed.map((g) => tf.sum(tf.square(g.tensor))))).dataSync()[0]!;
      const scale = norm > 5 ? 5 / norm : 1;
      return decayed.map((g) => ({ name: g.name, tensor: tf.mul(g.tensor, scale) }));
    });
    optimizer.applyGradients(clipped);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads), ...clipped.map((c) => c.tensor)]);
  });
  tf.dispose([xt, yt, ...supportTensors, ...variables, ...constants.values()]);
  optimizer.dispose();
  return ms;
}

export function gwnTorch(plan: GwnBenchPlan, python: string): { ms: number; version: string; maxRssBytes: number } | { error: string } {
  const config = benchConfig(plan);
  const payload = {
    nodes: plan.nodes, in_channels: 2, residual: plan.residual, dilation: plan.residual, skip: plan.skip, end: plan.end, horizons: 12, steps_in: STEPS_IN,
    dilations: config.dilations, order: config.order, rank: config.embeddingRank, dropout: config.dropout, batch: plan.batch, threads: 2, warmup: plan.warmup, steps: plan.steps,
  };
  const script = fileURLToPath(new URL('../gwn_torch.py', import.meta.url));
  const result = spawnSync(python, [script, JSON.stringify(payload)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' } });
  if (result.status !== 0) return { error: (result.stderr || result.error?.message || 'failed').trim().split('\n').slice(-1)[0]! };
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { ms_per_step: number; torch: string; max_rss_bytes: number };
  return { ms: parsed.ms_per_step, version: parsed.torch, maxRssBytes: parsed.max_rss_bytes };
}

/** the engine's GWN training run in a child process of its own, for its peak RSS */
export function gwnEngineRss(plan: GwnBenchPlan): ChildRun {
  const child = fileURLToPath(new URL('./gwn-rss-child.ts', import.meta.url));
  return runChild(process.execPath, ['--import', 'tsx', child, JSON.stringify(plan)]);
}
