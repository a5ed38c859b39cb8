import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import { initialGwnWeights, type GwnWeights } from '../gwn-config.js';
import { DEFAULT_COMS2T, evaluateComS2T, runComS2TStages, runStageZero, setupComS2T, type ComS2TOptions, type StageZeroResult } from './pipeline.js';
import { periodOfStep } from './split.js';
import { PROJECTION_PREFIX, initialPromptWeights, isEncoderTensor } from './prompt-encoder.js';
import { trainPromptEncoder } from './prompt-training.js';

const DAY = 96; // 15-minute steps: train 08–16 = 32 steps → 9 windows a day

function network(): TrafficNetwork {
  const nodes = 4;
  const steps = 3 * DAY;
  const values = new Float64Array(steps * nodes);
  for (let t = 0; t < steps; t++) for (let n = 0; n < nodes; n++) values[t * nodes + n] = 40 + 5 * n + 10 * Math.sin((2 * Math.PI * t) / DAY + n) + ((t * 7 + n * 3) % 5);
  const adjacency = Float64Array.from([1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1]);
  return { sensorIds: ['a', 'b', 'c', 'd'], steps, values, adjacency, source: 'synthetic' };
}

const OPTIONS: ComS2TOptions = {
  ...DEFAULT_COMS2T,
  seed: 1,
  config: { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 16 },
  stage0Epochs: 3,
  stage1Epochs: 1,
  promptEpochs: 2,
  batchSize: 8,
  learningRate: 1e-2,
  promptLearningRate: 1e-2,
};

let setup: ReturnType<typeof setupComS2T>;
let stageZero: StageZeroResult;

before(async () => {
  setup = setupComS2T(network(), DAY);
  stageZero = await runStageZero(setup, OPTIONS);
});

const same = (a: GwnWeights[string], b: GwnWeights[string]): boolean => a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));

test('Stage 0 keeps one checkpoint per epoch and trains on training windows only', () => {
  assert.equal(stageZero.checkpoints.length, 3);
  assert.ok(setup.split.train.every((s) => periodOfStep(s, setup.split) === 'train' && periodOfStep(s + 23, setup.split) === 'train'));
  assert.ok(setup.split.prompt.every((s) => Array.from({ length: 24 }, (_, t) => periodOfStep(s + t, setup.split)).every((p) => p === 'val' || p === 'prompt')));
});

test('full ComS2T: stable tensors bit-identical through Stage 1b, Stage 2 changes only the prompt encoder', async () => {
  const result = await runComS2TStages(setup, stageZero, OPTIONS, 'none');
  const start = stageZero.trained.weights;
  const after1b = result.beforeAdaptation.weights;
  assert.equal(result.frozen.length, result.weightSplit.stable.length);
  assert.equal(result.weightSplit.dynamic.length, Math.floor(0.5 * result.weightSplit.eligible.length));
  for (const name of result.frozen) assert.ok(same(start[name]!, after1b[name]!), `${name} moved although frozen`);
  assert.ok(result.weightSplit.dynamic.some((name) => !same(start[name]!, after1b[name]!)), 'no dynamic tensor moved');
  assert.equal(result.promptPretrainLosses.length, 2);
  const changed = Object.keys(after1b).filter((name) => !same(after1b[name]!, result.model.weights[name]!));
  assert.ok(changed.length > 0 && changed.every(isEncoderTensor), `Stage 2 changed ${changed.join(', ')}`);
  assert.ok(result.promptObjective && result.promptObjective.after < result.promptObjective.before, 'TTA lowers the prompt objective on the prompt windows');
  const report = await evaluateComS2T(setup, result.model, setup.split.test);
  assert.ok(Number.isFinite(report.all.mae) && report.all.mae > 0);
  assert.equal(report.all.count, setup.split.test.length * 12 * 4);
});

test('ablations: hip freezes nothing, ssl skips 1a and 2, pmt has no prompt tensors, ttf stops before Stage 2', async () => {
  const hip = await runComS2TStages(setup, stageZero, OPTIONS, 'hip');
  assert.deepEqual(hip.frozen, []);
  assert.ok(hip.weightSplit.stable.some((name) => !same(stageZero.trained.weights[name]!, hip.beforeAdaptation.weights[name]!)), 'without freezing the stable tensors train too');
  const ssl = await runComS2TStages(setup, stageZero, OPTIONS, 'ssl');
  assert.deepEqual(ssl.promptPretrainLosses, []);
  assert.equal(ssl.promptObjective, undefined);
  assert.equal(ssl.model, ssl.beforeAdaptation);
  const pmt = await runComS2TStages(setup, stageZero, OPTIONS, 'pmt');
  assert.ok(!Object.keys(pmt.model.weights).some((name) => name.startsWith('prompt.')));
  assert.equal(pmt.model.prompts, false);
  const ttf = await runComS2TStages(setup, stageZero, OPTIONS, 'ttf');
  assert.equal(ttf.model, ttf.beforeAdaptation);
  assert.ok(ttf.promptPretrainLosses.length > 0);
});

test('reinit (the code\'s --retrain 1) starts from the seed\'s fresh init, prompt networks included, and skips Stage 1a; element-variance restores stable elements exactly', async () => {
  const reinit = await runComS2TStages(setup, stageZero, { ...OPTIONS, stage1Init: 'reinit' }, 'none');
  const fresh = initialGwnWeights(stageZero.trained.config, 2, `${OPTIONS.seed}-reinit`);
  for (const name of reinit.frozen) assert.ok(same(fresh[name]!, reinit.beforeAdaptation.weights[name]!), `${name} is not at the fresh init`);
  assert.ok(reinit.frozen.some((name) => !same(fresh[name]!, stageZero.trained.weights[name]!)), 'the fresh init must differ from Stage 0');
  // the code's set_model re-creates the prompt networks as well: Stage 1a is skipped (its result would be thrown
  // away) and the encoder's output heads, which Stage 1b never updates, are still at the seed's fresh init
  assert.deepEqual(reinit.promptPretrainLosses, []);
  const freshPrompts = initialPromptWeights(`${OPTIONS.seed}-reinit`, OPTIONS.promptDim);
  const heads = Object.keys(freshPrompts).filter((name) => name.includes('.out.'));
  assert.equal(heads.length, 4);
  for (const name of heads) assert.ok(same(freshPrompts[name]!, reinit.beforeAdaptation.weights[name]!), `${name} is not at the fresh init`);
  // δ at the median element variance makes some tensors partly stable
  const elementwise = await runComS2TStages(setup, stageZero, { ...OPTIONS, split: { method: 'element-variance', ratio: 50, delta: 1e-5 } }, 'none');
  const masks = Object.entries(elementwise.weightSplit.elementMasks);
  assert.ok(masks.length > 0, 'expected a partly stable tensor');
  for (const [name, mask] of masks) {
    const before = stageZero.trained.weights[name]!.data;
    const after = elementwise.beforeAdaptation.weights[name]!.data;
    mask.forEach((dynamic, i) => { if (!dynamic) assert.ok(Object.is(before[i], after[i]), `${name}[${i}] moved although stable`); });
  }
  for (const name of elementwise.frozen) assert.ok(same(stageZero.trained.weights[name]!, elementwise.beforeAdaptation.weights[name]!));
});

/** |Δ| / lr of every element of `names` that moved between `start` and `after` */
function stepRatios(start: GwnWeights, after: GwnWeights, names: readonly string[], lr: number): number[] {
  const ratios: number[] = [];
  for (const name of names) {
    start[name]!.data.forEach((v, i) => {
      const delta = Math.abs(after[name]!.data[i]! - v);
      if (delta > 0) ratios.push(delta / lr);
    });
  }
  return ratios;
}

/** Adam's first step from zero moments is lr·g/(|g| + ε) = ±lr for every element with a gradient */
function assertFreshAdamStep(ratios: readonly number[], what: string, minimum: number): void {
  assert.ok(ratios.length >= minimum, `${what}: only ${ratios.length} elements moved`);
  assert.ok(Math.max(...ratios) < 1.001, `${what}: a step larger than lr: ${Math.max(...ratios)}`);
  const nearLr = ratios.filter((r) => Math.abs(r - 1) < 0.01).length;
  assert.ok(nearLr / ratios.length > 0.9, `${what}: ${nearLr} of ${ratios.length} steps are ≈ lr`);
}

test('stage transitions reset the optimiser as the authors\' set_opt: Stage 1b and Stage 2 each start a fresh Adam', async () => {
  // Stage 1b (ablation ssl: the prompt tensors start at their seeded init, no Stage 1a/2 touches them): one step;
  // moments carried over from Stage 0 would give lr·m̂/√v̂ of the accumulated history instead of ±lr
  const lr = 1e-3;
  const result = await runComS2TStages(setup, stageZero, { ...OPTIONS, stage1Epochs: 1, maxStepsPerEpoch: 1, stage1LearningRate: lr }, 'ssl');
  const start = stageZero.trained.weights;
  const after = result.beforeAdaptation.weights;
  assertFreshAdamStep(stepRatios(start, after, result.weightSplit.dynamic, lr), 'Stage 1b backbone', 50);
  for (const name of result.frozen) assert.ok(same(start[name]!, after[name]!), `${name} moved although frozen`);
  const prompts = initialPromptWeights(`${OPTIONS.seed}`, OPTIONS.promptDim);
  const trained = Object.keys(prompts).filter((name) => name.startsWith(PROJECTION_PREFIX) || name.includes('.hidden.'));
  assertFreshAdamStep(stepRatios(prompts, after, trained, lr), 'Stage 1b prompt networks', 100);
  // the encoder's output heads do not reach the forecast: no gradient, no update (PyTorch skips a None grad)
  for (const name of Object.keys(prompts).filter((n) => !trained.includes(n))) assert.ok(same(prompts[name]!, after[name]!), `${name} moved in Stage 1b`);

  // Stage 2 (test-time adaptation) is trainPromptEncoder, which builds a new Trainer: one step on all prompt
  // windows moves the encoder by ±lr again, although Stage 1b's Adam has seen these tensors
  const windows = setup.split.prompt;
  const adapted = await trainPromptEncoder(after, setup.context, windows, { epochs: 1, batchSize: windows.length, learningRate: lr, seed: 'tta' });
  const encoder = Object.keys(prompts).filter(isEncoderTensor);
  assertFreshAdamStep(stepRatios(after, adapted.weights, encoder, lr), 'Stage 2 encoder', 20);
});

test('Stage 1b clips the raw gradient, then adds λ·w at full strength (clip_grad_norm_, then PyTorch Adam weight_decay)', async () => {
  // a clip norm of 1e-12 shrinks the clipped gradient below any decay term, so the gradient Adam sees is ≈ λ·w
  // and its first (fresh) step moves every trained weight by lr towards zero. Decay added before the clip would be
  // clipped with the gradient and leave the direction to sign(g + λ·w), which points away from zero for many
  // weights (|g| ≫ λ|w| at λ = 1e-3).
  const lr = 1e-5;
  const weightDecay = 1e-3;
  const result = await runComS2TStages(setup, stageZero, { ...OPTIONS, stage1Epochs: 1, maxStepsPerEpoch: 1, stage1LearningRate: lr, clipNorm: 1e-12, weightDecay }, 'ssl');
  const start = stageZero.trained.weights;
  const after = result.beforeAdaptation.weights;
  let checked = 0;
  for (const name of result.weightSplit.dynamic) {
    start[name]!.data.forEach((w, i) => {
      if (Math.abs(w) < 1e-3) return; // λ·|w| must dominate the clipped gradient (≤ 1e-12)
      const expected = w - lr * Math.sign(w);
      assert.ok(Math.abs(after[name]!.data[i]! - expected) < 0.02 * lr, `${name}[${i}]: ${w} → ${after[name]!.data[i]}, expected ${expected}`);
      checked++;
    });
  }
  assert.ok(checked > 100, `only ${checked} elements checked`);
  for (const name of result.frozen) assert.ok(same(start[name]!, after[name]!), `${name} moved although frozen`);
});
