/**
 * Merging checkpoints that have no layout description (a single .safetensors file, no config.json): modelevo's
 * own AD-NEv conv autoencoders. Every tensor is merged with the tensor of the same name; the output keeps the
 * donor's metadata, so it loads as an autoencoder again. Layer-based features (slices, gradients) are refused
 * with the path of the offending key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { runMerge } from '../../src/merge/index.js';
import { BASELINE_GENOME, initialWeights, planAutoencoder, type AutoencoderPlan } from '../../src/neuro/ad-nev/conv-autoencoder.js';
import { loadModel, saveModel } from '../../src/neuro/ad-nev/model-io.js';
import { runCli } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'modelevo-merge-flat-'));
after(() => rmSync(root, { recursive: true, force: true }));

const FEATURES = 4;
const plan = planAutoencoder(BASELINE_GENOME, FEATURES) as AutoencoderPlan;
assert.ok(!('invalid' in plan));

function member(name: string, seed: number): string {
  const path = join(root, `${name}.safetensors`);
  saveModel(path, { genome: BASELINE_GENOME, features: FEATURES, weights: initialWeights(plan, seed), extra: { feature_indices: '[0,1,2,3]' } });
  return path;
}

const a = member('a', 1);
const b = member('b', 2);
const base = member('base', 3);

test('linear merge of two conv autoencoder files: every tensor averaged by name, metadata kept, loads as a model', async () => {
  const out = join(root, 'linear');
  const config = { merge_method: 'linear', models: [{ model: a, parameters: { weight: 0.5 } }, { model: b, parameters: { weight: 0.5 } }] };
  const result = await runMerge(config, out, { progress: 'none', copyTokenizer: false });
  assert.equal(result.plan.layout, 'tensor-by-tensor');
  assert.equal(existsSync(join(out, 'config.json')), false, 'no config.json is invented');
  const merged = loadModel(join(out, 'model.safetensors'));
  const [ma, mb] = [loadModel(a), loadModel(b)];
  assert.deepEqual(merged.genome, BASELINE_GENOME);
  assert.equal(merged.features, FEATURES);
  assert.equal(merged.extra.feature_indices, '[0,1,2,3]');
  assert.deepEqual(Object.keys(merged.weights).sort(), Object.keys(ma.weights).sort());
  for (const [name, { shape, data }] of Object.entries(merged.weights)) {
    assert.deepEqual(shape, ma.weights[name]!.shape);
    const x = ma.weights[name]!.data;
    const y = mb.weights[name]!.data;
    // 0.5·x and 0.5·y are exact in float32, so float32 and float64 summation both round the exact sum once
    for (let i = 0; i < data.length; i++) assert.equal(data[i], Math.fround(0.5 * x[i]! + 0.5 * y[i]!), `${name}[${i}]`);
  }

  // the other commands read the merged detector like any checkpoint
  const inspected = await runCli(['inspect', out, '--json']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal((JSON.parse(inspected.stdout) as { tensors: number }).tensors, Object.keys(ma.weights).length);
  // relative to b, the merge's task vector is half of a's: Pearson correlation 1
  const kin = await runCli(['kinship', out, a, '--base', b, '--metric', 'pcc', '--json']);
  assert.equal(kin.code, 0, kin.stderr);
  const pcc = (JSON.parse(kin.stdout) as { metrics: { pcc: number[][] } }).metrics.pcc;
  assert.ok(Math.abs(pcc[0]![1]! - 1) < 1e-6, `pcc ${pcc[0]![1]}`);
});

test('task_arithmetic with a base file: base + λ·Σ(model − base), tensor by tensor', async () => {
  const out = join(root, 'task-arithmetic');
  const config = { merge_method: 'task_arithmetic', base_model: base, models: [{ model: a, parameters: { weight: 1 } }, { model: b, parameters: { weight: 1 } }], parameters: { lambda: 0.5 } };
  await runMerge(config, out, { progress: 'none', copyTokenizer: false, kernels: 'reference' });
  const merged = loadModel(join(out, 'model.safetensors'));
  const [ma, mb, mbase] = [loadModel(a), loadModel(b), loadModel(base)];
  let checked = 0;
  for (const [name, { data }] of Object.entries(merged.weights)) {
    const [x, y, z] = [ma.weights[name]!.data, mb.weights[name]!.data, mbase.weights[name]!.data];
    for (let i = 0; i < data.length; i++) {
      const expected = z[i]! + 0.5 * ((x[i]! - z[i]!) + (y[i]! - z[i]!));
      assert.ok(Math.abs(data[i]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${name}[${i}]: ${data[i]} vs ${expected}`);
      checked++;
    }
  }
  assert.ok(checked > 1000);
});

test('slices and gradients need layers: refused with the offending key for a file without model_type', async () => {
  const sliced = { merge_method: 'linear', slices: [{ sources: [{ model: a, layer_range: [0, 1] }] }] };
  await assert.rejects(runMerge(sliced, join(root, 'sliced'), { progress: 'none' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /has no model_type/);
    return true;
  });
  const gradient = { merge_method: 'linear', models: [{ model: a, parameters: { weight: [0.2, 0.8] } }, { model: b, parameters: { weight: 0.5 } }] };
  await assert.rejects(runMerge(gradient, join(root, 'gradient'), { progress: 'none' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /models\.0\.parameters\.weight|models\[0\]/);
    assert.match(error.message, /gradient across layers/);
    return true;
  });
  const filtered = {
    merge_method: 'linear',
    models: [{ model: a, parameters: { weight: [{ filter: 'encoder', value: [0.1, 0.9] }, { value: 0.5 }] } }, { model: b, parameters: { weight: 0.5 } }],
  };
  await assert.rejects(runMerge(filtered, join(root, 'filtered'), { progress: 'none' }), /gradient across layers/);
  assert.equal(existsSync(join(root, 'sliced')) || existsSync(join(root, 'gradient')) || existsSync(join(root, 'filtered')), false, 'no output folder appears');
});

test('a scalar filter list still applies per tensor name without layers', async () => {
  const out = join(root, 'filter-scalar');
  const config = {
    merge_method: 'linear',
    models: [{ model: a, parameters: { weight: [{ filter: 'encoder', value: 1 }, { value: 0 }] } }, { model: b, parameters: { weight: [{ filter: 'encoder', value: 0 }, { value: 1 }] } }],
  };
  await runMerge(config, out, { progress: 'none', copyTokenizer: false });
  const merged = loadModel(join(out, 'model.safetensors'));
  const [ma, mb] = [loadModel(a), loadModel(b)];
  for (const [name, { data }] of Object.entries(merged.weights)) {
    const expected = name.includes('encoder') ? ma.weights[name]!.data : mb.weights[name]!.data;
    assert.deepEqual(Array.from(data), Array.from(expected), name);
  }
});
