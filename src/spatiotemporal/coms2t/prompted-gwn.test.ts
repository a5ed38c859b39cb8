/**
 * The prompt-conditioned Graph WaveNet on the engine (prompted-gwn.ts) against independent references:
 * - its forecast equals a plain 13-step engine GWN fed with an input built by the tfjs-era code path (buildInputs'
 *   [N, B, 12, 2] layout, left-padded by hand) plus the tfjs prompt signal (test/support), i.e. the layout
 *   translations and the prompt's placement on the value channel;
 * - zero projections (prompt tanh(0) + tanh(0) = 0) forecast exactly like the plain engine session;
 * - the gradients of the whole chain (backbone input gradient → prompt signal → encoder and projections) equal
 *   central finite differences of the training-mode loss in float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReferenceKernels } from '../../nn/kernels/reference/index.js';
import { Model } from '../../nn/model.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import { INPUT_STEPS } from '../../tasks/traffic/windows.js';
import { defaultGwnConfig, initialGwnWeights, transitionMatrices, type GwnWeights } from '../gwn-config.js';
import { buildInputs, prepareTraffic } from '../gwn-data.js';
import { gwnModelSpec, setGwnSupports, setGwnWeights } from '../gwn-engine.js';
import { GwnEngineSession } from '../gwn-engine-session.js';
import type { PromptFeatureContext } from './features.js';
import { PROJECTION_PREFIX, PROMPT_STEPS, initialPromptWeights } from './prompt-encoder.js';
import { PromptedGwn } from './prompted-gwn.js';
import { tfPromptSignalValues } from '../../../test/support/tfjs-coms2t-prompt.js';

const NODES = 3;
const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 16, dropout: 0 };
const samples = [0, 5, 30];

function setup() {
  const steps = 96;
  const values = new Float64Array(steps * NODES);
  for (let t = 0; t < steps; t++) for (let n = 0; n < NODES; n++) values[t * NODES + n] = 50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8) + ((t * 5 + n) % 3);
  const network: TrafficNetwork = { sensorIds: ['a', 'b', 'c'], steps, values, adjacency: Float64Array.from([1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1]), source: 'synthetic' };
  const prepared = prepareTraffic(network, 24);
  const config = defaultGwnConfig(NODES, TINY);
  const context: PromptFeatureContext = { network: prepared.network, scaler: prepared.scaler, stepsPerDay: 24, coordinates: Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) };
  const weights: GwnWeights = { ...initialGwnWeights(config, 2, 3), ...initialPromptWeights(4, 5) };
  return { prepared, config, context, weights };
}

test('the prompted forecast equals a 13-step GWN on buildInputs, left-padded, plus the tfjs prompt signal', async () => {
  const { prepared, config, context, weights } = setup();
  const pair = new PromptedGwn({ prepared, context, config, weights, prompts: true, batch: samples.length, training: false, seed: 0 });
  pair.load(samples);
  const ours = Float64Array.from(pair.forecast());

  const prompt = await tfPromptSignalValues(weights, context, samples); // [N, B, 13]
  const plain = buildInputs(prepared, samples); // [N, B, 12, 2]
  const B = samples.length;
  const input = new Float32Array(B * 2 * NODES * PROMPT_STEPS); // [B, 2, N, 13]
  for (let n = 0; n < NODES; n++) {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < PROMPT_STEPS; t++) {
        const padded = t === 0 ? [0, 0] : [plain[((n * B + b) * INPUT_STEPS + t - 1) * 2]!, plain[((n * B + b) * INPUT_STEPS + t - 1) * 2 + 1]!];
        input[((b * 2 + 0) * NODES + n) * PROMPT_STEPS + t] = padded[0]! + prompt[(n * B + b) * PROMPT_STEPS + t]!;
        input[((b * 2 + 1) * NODES + n) * PROMPT_STEPS + t] = padded[1]!;
      }
    }
  }
  const reference = Model.compile(gwnModelSpec(config, 2, prepared.scaler, PROMPT_STEPS), { batch: B, kernels: 'wasm' });
  setGwnSupports(reference, transitionMatrices(prepared.network.adjacency, NODES));
  setGwnWeights(reference, config, 2, weights);
  reference.view(reference.input).set(input);
  reference.forward(false);
  const theirs = reference.view(reference.output);
  assert.equal(ours.length, theirs.length);
  // the prompt changes the forecast, so agreement tests its placement (signal equal to 1e-5: prompt-engine.test.ts)
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-3, `forecast ${i}: ${ours[i]} vs ${theirs[i]}`);
});

test('zero projections forecast exactly like the plain engine session; real prompts change the forecast', async () => {
  const { prepared, config, context, weights } = setup();
  const zeroed: GwnWeights = { ...weights };
  for (const name of Object.keys(weights)) if (name.startsWith(PROJECTION_PREFIX)) zeroed[name] = { shape: weights[name]!.shape, data: new Float32Array(weights[name]!.data.length) };
  const session = new GwnEngineSession(prepared, { seed: 0, learningRate: 0, clipNorm: 1, config: TINY, initialWeights: initialGwnWeights(config, 2, 3), frozen: () => true });
  const plain = await session.forecast(samples);
  const forecastOf = (w: GwnWeights): Float64Array => {
    const pair = new PromptedGwn({ prepared, context, config, weights: w, prompts: true, batch: samples.length, training: false, seed: 0 });
    pair.load(samples);
    return Float64Array.from(pair.forecast());
  };
  const zero = forecastOf(zeroed);
  for (let i = 0; i < plain.length; i++) assert.ok(Math.abs(zero[i]! - plain[i]!) <= 1e-5 * Math.max(1, Math.abs(plain[i]!)), `forecast ${i}: ${zero[i]} vs plain ${plain[i]}`);
  const prompted = forecastOf(weights);
  assert.ok(prompted.some((v, i) => Math.abs(v - plain[i]!) > 1e-3), 'a non-zero prompt must change the forecast');
});

test('chain gradients (backbone → prompt signal → encoder and projections) equal float64 finite differences', () => {
  const { prepared, config, context, weights } = setup();
  const float64 = (floats: number) => createReferenceKernels(floats, 'float64');
  const pair = new PromptedGwn({ prepared, context, config, weights, prompts: true, batch: samples.length, training: true, seed: 0, kernels: float64 });
  const lossAt = (): number => {
    pair.load(samples);
    pair.gwn.forward(true, 1);
    return pair.gwn.loss();
  };
  pair.load(samples);
  pair.lossAndGradients(true, 1);
  const models = [pair.gwn, pair.prompt!.model];
  const entries = models.flatMap((model) => model.params.map((p) => ({ model, p, grad: Float64Array.from(model.view(p.grad)) })));
  let worst = 0;
  let where = '';
  let checked = 0;
  const h = 1e-6;
  for (const { model, p, grad } of entries) {
    const data = model.kernels.data;
    const step = Math.max(1, Math.floor(p.size / 6));
    for (let i = 0; i < p.size; i += step) {
      const saved = data[p.offset + i]!;
      data[p.offset + i] = saved + h;
      const plus = lossAt();
      data[p.offset + i] = saved - h;
      const minus = lossAt();
      data[p.offset + i] = saved;
      const numeric = (plus - minus) / (2 * h);
      const error = Math.abs(grad[i]! - numeric) / Math.max(1, Math.abs(grad[i]!), Math.abs(numeric));
      checked++;
      if (error > worst) [worst, where] = [error, `${p.name}[${i}]: analytic ${grad[i]}, numeric ${numeric}`];
    }
  }
  assert.ok(checked > 100, `only ${checked} entries checked`);
  assert.ok(entries.some((e) => e.model === pair.prompt!.model && e.grad.some((g) => Math.abs(g) > 1e-6)), 'the prompt networks receive a gradient');
  assert.ok(worst < 1e-5, `worst relative error ${worst} at ${where}`);
});
