/**
 * bench:nn-train — training steps/s of the engine (src/nn, build/nn.wasm, one thread) beside tfjs-wasm (one
 * thread, the previous implementation) and PyTorch 1.13 (2 threads, OPENBLAS_NUM_THREADS=1) on the same model,
 * batch and optimiser, measured in the same run. Rows: the continual MLP 784-100-100-10 (ReLU, no biases,
 * softmax CE, SGD) at batch 10 and 64; the AD-NEv baseline conv autoencoder (10 × 25 window, channels 32/64,
 * batch 128, Adam, MSE) against bench/train_torch.py, one thread, on 2 data-parallel workers, and as a
 * population of 2 models trained concurrently on the AD-NEv engine pool (2 workers; total steps/s, in a child
 * process whose peak RSS, workers included, is reported: bench/support/ad-nev-population.ts). GFLOP/s counts
 * the GEMM flops of a step (forward, dW, dX except the
 * first layer's), beside the single-core 128-bit peak (16 flop/cycle × cpu MHz, see bench/nn-gemm.ts; twice that for
 * the rows on 2 data-parallel workers, src/nn/data-parallel.ts, which also print both threads' µs per step by
 * phase: input copy, compute = forward/loss/backward, wait, reduce, update, copy, idle = replica 1 between steps).
 * One line measures the synchronisation cost of a data-parallel step on a 1-parameter model.
 *
 * Graph WaveNet (bench/support/gwn-bench.ts): ms per training step at the results' width (8/32/64), batch 16,
 * 12 steps in and out, on the engine (1 thread, and 2 data-parallel workers), tfjs-wasm (the previous gwnForward
 * path) and PyTorch (bench/gwn_torch.py), and the peak RSS of an engine GWN run in a child process.
 *
 * Usage: npm run bench:nn-train [-- --seconds 2 --python /usr/bin/python3 --batches 10,64 --population-steps N
 *   --only mlp|ae|gwn|overhead --gwn-nodes 207 --gwn-steps 10]; `--only mlp --batches 64` gives just the MLP b64 rows
 *   (1 thread, 2 data-parallel workers with their phase line, tfjs, PyTorch).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CONTINUAL_MLP } from '../src/nn/models/continual-mlp.js';
import { Model } from '../src/nn/model.js';
import { Trainer } from '../src/nn/trainer.js';
import { DataParallelTrainer, type DataParallelProfile } from '../src/nn/data-parallel.js';
import { createRng } from '../src/core/rng.js';
import { tf, useBackend } from '../test/support/tfjs/tf.js';
import { BASELINE_AUTOENCODER, convAutoencoderSpec } from '../src/nn/models/conv-autoencoder.js';
import type { ModelSpec } from '../src/nn/model.js';
import type { OptimizerSpec } from '../src/nn/optim/registry.js';
import { initTfMlpWeights as initMlpWeights, mlpForward, maskedCrossEntropy, classMask } from '../test/support/tfjs-continual-mlp.js';
import { runChild } from './support/child-run.js';
import { gwnEngineDataParallelMs, gwnEngineMs, gwnEngineRss, gwnTfjsMs, gwnTorch, type GwnBenchPlan } from './support/gwn-bench.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const SECONDS = Number(flag('seconds', '2'));
const PYTHON = flag('python', '/usr/bin/python3');
const BATCHES = flag('batches', '10,64').split(',').map(Number);
const ONLY = flag('only', ''); // 'mlp', 'ae', 'gwn' or 'overhead' (data-parallel synchronisation cost)
const SIZES = [784, 100, 100, 10];
const LR = 0.01;

function bestRate(step: () => void): number {
  for (let i = 0; i < 50; i++) step();
  let best = 0;
  for (let repeat = 0; repeat < 3; repeat++) {
    let steps = 0;
    const start = performance.now();
    while (performance.now() - start < (SECONDS * 1000) / 3) {
      for (let i = 0; i < 10; i++) step();
      steps += 10;
    }
    best = Math.max(best, steps / ((performance.now() - start) / 1000));
  }
  return best;
}

function batchData(batch: number): { x: Float32Array; y: Float32Array } {
  const rng = createRng('bench-nn-train', batch);
  return { x: Float32Array.from({ length: batch * 784 }, () => rng.next()), y: Float32Array.from({ length: batch }, () => rng.int(10)) };
}

function engineRate(batch: number): number {
  const model = Model.compile(
    CONTINUAL_MLP,
    { batch, kernels: 'wasm', optimizer: { kind: 'sgd' }, seed: 0 },
  );
  const trainer = new Trainer(model, { lr: LR });
  const { x, y } = batchData(batch);
  return bestRate(() => trainer.step(x, y));
}

/** data-parallel over 2 replicas (this thread + one worker); also the replica-0 profile per step */
async function dataParallelRate(spec: ModelSpec, batch: number, optimizer: OptimizerSpec, lr: number, x: Float32Array, y: Float32Array): Promise<{ rate: number; perStep: string }> {
  const trainer = await DataParallelTrainer.open(spec, { batch, optimizer, lr, seed: 0 });
  try {
    const before = trainer.profile();
    const stepsBefore = trainer.steps;
    const rate = bestRate(() => trainer.step(x, y));
    const after = trainer.profile();
    const steps = trainer.steps - stepsBefore;
    return { rate, perStep: phaseLine(before, after, steps) };
  } finally {
    await trainer.close();
  }
}

/** µs per step in each phase on each thread (DataParallelTrainer.profile), e.g. "thread 0: compute 380, wait 12, …" */
function phaseLine(before: DataParallelProfile, after: DataParallelProfile, steps: number): string {
  const threads = ([0, 1] as const).map((r) => {
    const phases = Object.entries(after.replicas[r])
      .map(([phase, ms]) => [phase, ((ms - before.replicas[r][phase as keyof (typeof before.replicas)[0]]) * 1000) / steps] as const)
      .filter(([, us]) => us >= 0.5)
      .map(([phase, us]) => `${phase} ${us.toFixed(0)}`);
    return `thread ${r}: ${phases.join(', ')}`;
  });
  return `µs per step — ${threads.join('; ')}`;
}

/** Barrier cost: a 1-parameter model at batch 2, where a data-parallel step is almost nothing but synchronisation. */
async function barrierOverhead(): Promise<string> {
  const spec: ModelSpec = { inputShape: [1], layers: [{ kind: 'linear', units: 1, bias: false }], loss: { kind: 'mse' } };
  const x = new Float32Array([1, 2]);
  const single = new Trainer(Model.compile(spec, { batch: 2, kernels: 'wasm', optimizer: { kind: 'sgd' }, seed: 0 }), { lr: 1e-3 });
  const singleRate = bestRate(() => single.step(x, x));
  const { rate } = await dataParallelRate(spec, 2, { kind: 'sgd' }, 1e-3, x, x);
  const overhead = 1e6 / rate - 1e6 / singleRate;
  return `empty step: 1 thread ${(1e6 / singleRate).toFixed(1)} µs, 2 data-parallel replicas ${(1e6 / rate).toFixed(1)} µs → ${overhead.toFixed(1)} µs of synchronisation per step (2 barriers + GO), ≈ ${(overhead / 3).toFixed(1)} µs per barrier`;
}

function tfjsRate(batch: number): number {
  const weights = initMlpWeights(SIZES, 0);
  const { x, y } = batchData(batch);
  const xt = tf.tensor2d(x, [batch, 784]);
  const oneHot = tf.oneHot(tf.tensor1d(y, 'int32'), 10).toFloat() as tf.Tensor2D;
  const mask = tf.tensor2d(classMask(null, 10, batch), [batch, 10]);
  const optimizer = tf.train.sgd(LR);
  const rate = bestRate(() => {
    const cost = optimizer.minimize(() => maskedCrossEntropy(mlpForward(weights, xt).logits, oneHot, mask), true, weights);
    cost?.dataSync();
    cost?.dispose();
  });
  tf.dispose([xt, oneHot, mask, ...weights]);
  optimizer.dispose();
  return rate;
}

function torchRate(batch: number): { rate: number; version: string } | { error: string } {
  const script = fileURLToPath(new URL('./nn_train_torch.py', import.meta.url));
  const payload = JSON.stringify({ model: 'mlp', sizes: SIZES, bias: false, batch, optimizer: 'sgd', lr: LR, threads: 2, seconds: SECONDS / 3, repeats: 3 });
  const result = spawnSync(PYTHON, [script, payload], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' } });
  if (result.status !== 0) return { error: (result.stderr || result.error?.message || 'failed').trim().split('\n').slice(-1)[0]! };
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { steps_per_second: number; torch: string };
  return { rate: parsed.steps_per_second, version: parsed.torch };
}

const AE_BATCH = 128;

function autoencoderEngineRate(): number {
  const model = Model.compile(convAutoencoderSpec(BASELINE_AUTOENCODER), { batch: AE_BATCH, kernels: 'wasm', optimizer: { kind: 'adam' }, seed: 0 });
  const trainer = new Trainer(model, { lr: 1e-3 });
  const rng = createRng('bench-nn-train-ae');
  const x = Float32Array.from({ length: model.input.size }, () => 2 * rng.next() - 1);
  return bestRate(() => trainer.step(x, x));
}

/** bench/train_torch.py's plan format (what src/neuro's planAutoencoder produces for the baseline genome) */
function autoencoderTorchRate(): { rate: number; version: string } | { error: string } {
  const p = BASELINE_AUTOENCODER;
  let inChannels = p.window;
  let length = p.features;
  const encoder = p.encoder.map((e) => {
    const layer = { ...e, inChannels, inLength: length, outLength: Math.floor((length + 2 * e.padding - e.kernel) / e.stride) + 1 };
    inChannels = e.channels;
    length = layer.outLength;
    return layer;
  });
  const decoder = p.decoder.map((d, i) => {
    const layer = { ...d, inChannels, last: i + 1 === p.decoder.length };
    inChannels = d.outChannels;
    return layer;
  });
  const plan = { window: p.window, features: p.features, encoder, decoder, batch: AE_BATCH, threads: 2, seconds: SECONDS / 3, repeats: 3 };
  const script = fileURLToPath(new URL('./train_torch.py', import.meta.url));
  const result = spawnSync(PYTHON, [script, JSON.stringify(plan)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' } });
  if (result.status !== 0) return { error: (result.stderr || result.error?.message || 'failed').trim().split('\n').slice(-1)[0]! };
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { steps_per_second: number; torch: string };
  return { rate: parsed.steps_per_second, version: parsed.torch };
}

/** GEMM flops of one autoencoder step: per conv layer 2·rows·cols·depth for forward, dW and (but the first) dX */
function autoencoderFlops(): number {
  const p = BASELINE_AUTOENCODER;
  let channels = p.window;
  let length = p.features;
  let flops = 0;
  let first = true;
  for (const e of p.encoder) {
    const out = Math.floor((length + 2 * e.padding - e.kernel) / e.stride) + 1;
    flops += 2 * AE_BATCH * out * e.channels * channels * e.kernel * (first ? 2 : 3);
    first = false;
    channels = e.channels;
    length = out;
  }
  for (const d of p.decoder) {
    flops += 2 * AE_BATCH * length * d.outChannels * d.kernel * channels * 3;
    length = (length - 1) * d.stride - 2 * d.padding + d.kernel + d.outputPadding;
    channels = d.outChannels;
  }
  return flops;
}

/** forward Σ 2·B·in·out, dW the same, dX for every layer but the first */
function stepFlops(batch: number): number {
  let flops = 0;
  for (let l = 0; l + 1 < SIZES.length; l++) flops += 2 * batch * SIZES[l]! * SIZES[l + 1]! * (l === 0 ? 2 : 3);
  return flops;
}

const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? NaN);
const peak = (16 * mhz) / 1000;
await useBackend('wasm');
console.log(`bench:nn-train — ${cpus()[0]?.model}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; single-core 128-bit peak ${peak.toFixed(1)} GFLOP/s (2 cores: ${(2 * peak).toFixed(1)})`);
console.log('model                         engine                       steps/s   GFLOP/s   vs PyTorch');
for (const batch of ONLY === '' || ONLY === 'mlp' ? BATCHES : []) {
  const flops = stepFlops(batch);
  const torch = torchRate(batch);
  const torchSteps = 'rate' in torch ? torch.rate : NaN;
  const row = (engine: string, rate: number): void =>
    console.log(`${`MLP 784-100-100-10 b${batch}`.padEnd(29)} ${engine.padEnd(28)} ${rate.toFixed(0).padStart(8)} ${((rate * flops) / 1e9).toFixed(2).padStart(9)}   ${Number.isFinite(torchSteps) ? (rate / torchSteps).toFixed(2) + '×' : 'n/a'}`);
  row('nn (wasm SIMD, 1 thread)', engineRate(batch));
  const { x, y } = batchData(batch);
  const dp = await dataParallelRate(CONTINUAL_MLP, batch, { kind: 'sgd' }, LR, x, y);
  row('nn (2 data-parallel workers)', dp.rate);
  console.log(`${''.padEnd(29)} ${dp.perStep}`);
  row('tfjs-wasm (1 thread)', tfjsRate(batch));
  if ('rate' in torch) row(`PyTorch ${torch.version} (2 threads)`, torch.rate);
  else console.log(`${''.padEnd(29)} PyTorch: not measured (${torch.error})`);
}

if (ONLY === '' || ONLY === 'overhead') console.log(`data-parallel overhead — ${await barrierOverhead()}`);

if (ONLY === '' || ONLY === 'ae') {
  const flops = autoencoderFlops();
  const torch = autoencoderTorchRate();
  const torchSteps = 'rate' in torch ? torch.rate : NaN;
  const row = (engine: string, rate: number): void =>
    console.log(`${`AD-NEv conv AE b${AE_BATCH}`.padEnd(29)} ${engine.padEnd(28)} ${rate.toFixed(1).padStart(8)} ${((rate * flops) / 1e9).toFixed(2).padStart(9)}   ${Number.isFinite(torchSteps) ? (rate / torchSteps).toFixed(2) + '×' : 'n/a'}`);
  const single = autoencoderEngineRate();
  row('nn (wasm SIMD, 1 thread)', single);
  const rng = createRng('bench-nn-train-ae');
  const x = Float32Array.from({ length: AE_BATCH * BASELINE_AUTOENCODER.window * BASELINE_AUTOENCODER.features }, () => 2 * rng.next() - 1);
  const dp = await dataParallelRate(convAutoencoderSpec(BASELINE_AUTOENCODER), AE_BATCH, { kind: 'adam' }, 1e-3, x, x);
  row('nn (2 data-parallel workers)', dp.rate);
  console.log(`${''.padEnd(29)} ${dp.perStep}`);
  const population = populationRun(single);
  row('nn population, 2 workers', population.stepsPerSecond);
  if ('rate' in torch) row(`PyTorch ${torch.version} (2 threads)`, torch.rate);
  else console.log(`${''.padEnd(29)} PyTorch: not measured (${torch.error})`);
  console.log(`AD-NEv population run (2 models × ${population.steps / 2} steps on 2 workers, engine pool): total ${population.stepsPerSecond.toFixed(1)} steps/s, peak RSS ${(population.maxRssBytes / 2 ** 20).toFixed(0)} MiB (whole process, workers included)`);
}

/** 2 AD-NEv models trained concurrently on the engine pool, each about SECONDS of single-thread steps */
function populationRun(singleRate: number): { stepsPerSecond: number; steps: number; maxRssBytes: number } {
  const steps = Number(flag('population-steps', String(Math.max(20, Math.round(singleRate * SECONDS)))));
  const script = fileURLToPath(new URL('./support/ad-nev-population.ts', import.meta.url));
  let best = { stepsPerSecond: 0, steps: 0, maxRssBytes: 0 };
  for (let repeat = 0; repeat < 3; repeat++) {
    const run = runChild(process.execPath, ['--import', 'tsx', script, '--workers', '2', '--models', '2', '--steps', String(steps)]);
    const rate = (2 * steps) / run.seconds;
    if (rate > best.stepsPerSecond) best = { stepsPerSecond: rate, steps: 2 * steps, maxRssBytes: Math.max(best.maxRssBytes, run.maxRssBytes) };
    else best.maxRssBytes = Math.max(best.maxRssBytes, run.maxRssBytes);
  }
  return best;
}

if (ONLY === '' || ONLY === 'gwn') {
  const plan: GwnBenchPlan = { nodes: Number(flag('gwn-nodes', '207')), residual: 8, skip: 32, end: 64, batch: 16, warmup: 2, steps: Number(flag('gwn-steps', '10')) };
  const label = `GWN ${plan.nodes} nodes b${plan.batch}`.padEnd(29);
  const tfjsMs = gwnTfjsMs(plan);
  const torch = gwnTorch(plan, PYTHON);
  const row = (engine: string, ms: number): void =>
    console.log(`${label} ${engine.padEnd(28)} ${(1000 / ms).toFixed(2).padStart(8)}   ms/step ${ms.toFixed(0).padStart(6)}   ×tfjs ${(ms / tfjsMs).toFixed(2)}   ${'ms' in torch ? `×PyTorch ${(ms / torch.ms).toFixed(2)}` : ''}`);
  row('nn (wasm SIMD, 1 thread)', gwnEngineMs(plan));
  const parallel = await gwnEngineDataParallelMs(plan);
  row('nn (2 data-parallel workers)', parallel.ms);
  console.log(`${''.padEnd(29)} ${parallel.perStep}`);
  row('tfjs-wasm (1 thread)', tfjsMs);
  if ('ms' in torch) row(`PyTorch ${torch.version} (2 threads)`, torch.ms);
  else console.log(`${''.padEnd(29)} PyTorch: not measured (${torch.error})`);
  const rss = gwnEngineRss(plan);
  console.log(`${label} peak RSS: engine run ${(rss.maxRssBytes / 2 ** 20).toFixed(0)} MiB (child process, ${plan.warmup + plan.steps} steps)${'ms' in torch ? `, PyTorch ${(torch.maxRssBytes / 2 ** 20).toFixed(0)} MiB` : ''}`);
}
