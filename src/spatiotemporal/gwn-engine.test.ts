/**
 * Issue #22 acceptance for Graph WaveNet: the engine's `graph_wavenet` model, given the tfjs implementation's
 * weights by name (gwn-engine.ts), computes the same forecasts, the same masked-MAE loss, the same gradients of
 * every trainable tensor and the same BatchNorm running statistics as gwnForward + tf.variableGrads (tfjs cpu
 * backend, float32). The paper's structure at small widths: 3 blocks with dilations 1, 2, 1, two fixed supports,
 * the adaptive adjacency, a left-padded input, missing labels.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../../test/support/tfjs/tf.js';
import { createRng } from '../core/rng.js';
import { Model } from '../nn/model.js';
import { defaultGwnConfig, gwnForward, initialGwnWeights, parameterSpecs, transitionMatrices, isTrainable, type GwnWeights } from '../../test/support/gwn-tfjs.js';
import { maskedMaeLoss } from '../../test/support/gwn-tfjs-session.js';
import { getGwnWeights, gwnModelSpec, setGwnSupports, setGwnWeights } from './gwn-engine.js';

before(async () => {
  await useBackend('cpu');
});

const [NODES, BATCH, STEPS, HORIZONS] = [5, 3, 4, 3];
const CONFIG = defaultGwnConfig(NODES, { residualChannels: 4, dilationChannels: 3, skipChannels: 6, endChannels: 7, horizons: HORIZONS, dilations: [1, 2, 1], embeddingRank: 3, dropout: 0 });
const SCALER = { mean: 50, std: 12 };

function assertClose(ours: ArrayLike<number>, theirs: ArrayLike<number>, what: string, tol = 2e-5): void {
  assert.equal(ours.length, theirs.length, `${what} length`);
  let scale = 1e-3;
  for (let i = 0; i < theirs.length; i++) scale = Math.max(scale, Math.abs(theirs[i]!));
  for (let i = 0; i < ours.length; i++) {
    assert.ok(Math.abs(ours[i]! - theirs[i]!) <= tol * scale, `${what}[${i}]: engine ${ours[i]} vs tfjs ${theirs[i]} (scale ${scale})`);
  }
}

function fixture() {
  const rng = createRng('gwn-engine-vs-tfjs');
  const adjacency = Float32Array.from({ length: NODES * NODES }, () => (rng.next() < 0.5 ? rng.next() : 0));
  const supports = transitionMatrices(adjacency, NODES);
  const weights = initialGwnWeights(CONFIG, 2, 7) as Record<string, { shape: readonly number[]; data: Float32Array }>;
  // non-trivial BatchNorm affine parameters and running statistics
  for (const spec of parameterSpecs(CONFIG, 2)) {
    if (spec.kind === 'bn-scale' || spec.kind === 'bn-shift' || spec.kind === 'running-mean') weights[spec.name]!.data.forEach((_, i, a) => (a[i] = 2 * rng.next() - 0.5));
    if (spec.kind === 'running-var') weights[spec.name]!.data.forEach((_, i, a) => (a[i] = 0.5 + rng.next()));
  }
  // tfjs layout [N, B, T, C]; the engine's [B, C, N, T]
  const tfjsInput = Float32Array.from({ length: NODES * BATCH * STEPS * 2 }, () => 2 * rng.next() - 1);
  const engineInput = new Float32Array(tfjsInput.length);
  for (let n = 0; n < NODES; n++) for (let b = 0; b < BATCH; b++) for (let t = 0; t < STEPS; t++) for (let c = 0; c < 2; c++) {
    engineInput[((b * 2 + c) * NODES + n) * STEPS + t] = tfjsInput[((n * BATCH + b) * STEPS + t) * 2 + c]!;
  }
  // labels [B, H, N] around the scaler's mean, a fifth of them missing (0)
  const labels = Float32Array.from({ length: BATCH * HORIZONS * NODES }, () => (rng.next() < 0.2 ? 0 : SCALER.mean + SCALER.std * (2 * rng.next() - 1)));
  return { supports, weights: weights as GwnWeights, tfjsInput, engineInput, labels };
}

function engineModel(f: ReturnType<typeof fixture>): Model {
  const model = Model.compile(gwnModelSpec(CONFIG, 2, SCALER, STEPS), { batch: BATCH, kernels: 'wasm', seed: 1 });
  const skipped = setGwnWeights(model, CONFIG, 2, f.weights);
  // the last block's graph convolution and BatchNorm are not built (they reach no output)
  assert.deepEqual(skipped.sort(), ['layers.2.bn.bias', 'layers.2.bn.running_mean', 'layers.2.bn.running_var', 'layers.2.bn.weight', 'layers.2.gconv.bias', 'layers.2.gconv.weight']);
  setGwnSupports(model, f.supports);
  model.view(model.input).set(f.engineInput);
  model.view(model.target).set(f.labels);
  return model;
}

test('engine Graph WaveNet = tfjs gwnForward on the same weights: forecasts, loss, every gradient, BN statistics (training mode)', () => {
  const f = fixture();
  const model = engineModel(f);
  model.forward(true, 1);
  const engineLoss = model.loss();
  model.backward();
  const engineForecast = Float32Array.from(model.view(model.output));
  const engineGrads = getGwnWeights(model, CONFIG, 2, { grad: true });
  const engineStats = getGwnWeights(model, CONFIG, 2);

  const specs = parameterSpecs(CONFIG, 2);
  const variables = new Map<string, tf.Variable>();
  const constants = new Map<string, tf.Tensor>();
  for (const spec of specs) {
    const t = tf.tensor(f.weights[spec.name]!.data, [...spec.shape]);
    if (isTrainable(spec)) variables.set(spec.name, tf.variable(t, true, `gwn-eq-${spec.name}`));
    else constants.set(spec.name, t);
  }
  const param = (name: string): tf.Tensor => variables.get(name) ?? constants.get(name)!;
  const supports = f.supports.map((s) => tf.tensor2d(s, [NODES, NODES]));
  const x = tf.tensor4d(f.tfjsInput, [NODES, BATCH, STEPS, 2]);
  const y = tf.tensor3d(f.labels, [BATCH, HORIZONS, NODES]);
  const stats = new Map<string, Float32Array>();
  let forecast: Float32Array | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const predicted = gwnForward(CONFIG, param, supports, x, {
      training: true,
      onBatchStats: (layer, mean, variance, count) => {
        const m = mean.dataSync();
        const v = variance.dataSync();
        const old = (n: string): Float32Array => f.weights[`layers.${layer}.bn.${n}`]!.data;
        stats.set(`layers.${layer}.bn.running_mean`, Float32Array.from(m, (b, i) => 0.9 * old('running_mean')[i]! + 0.1 * b));
        stats.set(`layers.${layer}.bn.running_var`, Float32Array.from(v, (b, i) => 0.9 * old('running_var')[i]! + (0.1 * b * count) / (count - 1)));
      },
    });
    forecast = tf.add(tf.mul(predicted, SCALER.std), SCALER.mean).dataSync() as Float32Array;
    return maskedMaeLoss(predicted, y, { scaler: SCALER });
  }, [...variables.values()]);

  assertClose(engineForecast, forecast!, 'forecast');
  assert.ok(Math.abs(engineLoss - value.dataSync()[0]!) < 1e-5 * Math.abs(engineLoss), `loss: engine ${engineLoss} vs tfjs ${value.dataSync()[0]}`);
  let compared = 0;
  for (const [name, v] of variables) {
    const g = grads[v.name];
    if (!g) {
      // tfjs gives no gradient to the dead tail; the engine does not build it
      assert.ok(!(name in engineGrads), `${name}: tfjs has no gradient but the engine does`);
      continue;
    }
    assertClose(engineGrads[name]!.data, g.dataSync(), `d/d ${name}`, 1e-4);
    compared++;
  }
  assert.equal(compared, specs.filter(isTrainable).length - 4);
  for (const [name, expected] of stats) if (name in engineStats) assertClose(engineStats[name]!.data, expected, name);
  assert.equal([...stats.keys()].filter((n) => n in engineStats).length, 2 * (CONFIG.dilations.length - 1));
  tf.dispose([value, x, y, ...supports, ...Object.values(grads), ...variables.values(), ...constants.values()]);
});

test('engine Graph WaveNet = tfjs gwnForward in inference mode (running statistics), and weights round-trip by name', () => {
  const f = fixture();
  const model = engineModel(f);
  model.forward(false);
  const specs = parameterSpecs(CONFIG, 2);
  const tensors = new Map(specs.map((s) => [s.name, tf.tensor(f.weights[s.name]!.data, [...s.shape])]));
  const supports = f.supports.map((s) => tf.tensor2d(s, [NODES, NODES]));
  const x = tf.tensor4d(f.tfjsInput, [NODES, BATCH, STEPS, 2]);
  const predicted = tf.tidy(() => tf.add(tf.mul(gwnForward(CONFIG, (n) => tensors.get(n)!, supports, x, { training: false }), SCALER.std), SCALER.mean));
  assertClose(model.view(model.output), predicted.dataSync(), 'forecast');
  const back = getGwnWeights(model, CONFIG, 2, { rest: f.weights });
  for (const spec of specs) assert.deepEqual(Array.from(back[spec.name]!.data), Array.from(f.weights[spec.name]!.data), spec.name);
  tf.dispose([predicted, x, ...supports, ...tensors.values()]);
});
