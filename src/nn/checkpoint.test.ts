/** A saved model loads back bit-exactly into a fresh model of the same architecture; shape mismatches are refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model, type ModelSpec } from './model.js';
import { loadModel, saveModel } from './checkpoint.js';
import { SafetensorsFile } from '../io/safetensors/reader.js';

const SPEC: ModelSpec = {
  inputShape: [3, 8],
  layers: [{ kind: 'conv1d', channels: 4, kernel: 3, padding: 1 }, { kind: 'batch_norm' }, { kind: 'activation', fn: 'relu' }],
  loss: { kind: 'mse' },
};

test('save → load restores parameters and running statistics exactly, under layer-qualified names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-checkpoint-'));
  try {
    const a = Model.compile(SPEC, { batch: 2, kernels: 'wasm', seed: 1 });
    a.view(a.input).set(Array.from({ length: a.input.size }, (_, i) => Math.sin(i)));
    a.forward(true, 1); // moves the running statistics away from their init
    const path = join(dir, 'model.safetensors');
    saveModel(a, path);
    const file = SafetensorsFile.open(path);
    assert.deepEqual(file.names().sort(), ['0.conv1d.bias', '0.conv1d.weight', '1.batch_norm.bias', '1.batch_norm.running_mean', '1.batch_norm.running_var', '1.batch_norm.weight']);
    file.close();
    const b = Model.compile(SPEC, { batch: 5, kernels: 'reference', seed: 2 });
    assert.notDeepEqual(Array.from(b.param('0.conv1d.weight')), Array.from(a.param('0.conv1d.weight')));
    loadModel(b, path);
    for (const v of [...a.params, ...a.stateViews]) assert.deepEqual(Array.from(b.view(b.params.find((p) => p.name === v.name) ?? b.stateViews.find((s) => s.name === v.name)!)), Array.from(a.view(v)), v.name);
    const other = Model.compile({ ...SPEC, layers: [{ kind: 'conv1d', channels: 5, kernel: 3, padding: 1 }, ...SPEC.layers.slice(1)] }, { batch: 2, kernels: 'reference' });
    assert.throws(() => loadModel(other, path), (e: Error & { code?: string }) => e.code === 'SHAPE_MISMATCH');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
