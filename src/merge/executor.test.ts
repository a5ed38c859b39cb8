import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCheckpoint } from '../io/memory-checkpoint.js';
import { tinyModel } from '../../test/merge/tiny-models.js';
import { parseMergeConfig } from './config.js';
import { createStreamProgress, executePlan, prepareModelTrim } from './executor.js';
import { runMerge } from './index.js';
import { ties } from './methods/ties.js';
import { buildMergePlan, type PlanModels } from './plan.js';
import { TRIM_THRESHOLD_KEY, TRIM_TIE_QUOTA_KEY } from './trim-scope.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns: 80, write: (chunk: string) => (chunks.push(chunk), true), text: () => chunks.join('') } as unknown as NodeJS.WriteStream & {
    text: () => string;
  };
}

test('progress: sparse lines at 10 % steps off a TTY; one rewritten line on a TTY', () => {
  const plain = fakeStream(false);
  const progress = createStreamProgress(plain);
  for (let i = 1; i <= 57; i++) progress.update(i, 57, `t${i}`);
  progress.finish();
  const lines = plain.text().trim().split('\n');
  assert.equal(lines.length, 11);
  assert.match(lines[0]!, /^merging: 1\/57 tensors \(1%\)/);
  assert.match(lines[10]!, /^merging: 57\/57 tensors \(100%\)/);
  const tty = fakeStream(true);
  const bar = createStreamProgress(tty);
  for (let i = 1; i <= 3; i++) bar.update(i, 3, `tensor-${i}`);
  bar.finish();
  const text = tty.text();
  assert.equal(text.split('\r').length - 1, 3);
  assert.equal(text.split('\n').length - 1, 1);
  assert.match(text, /\[#{24}\] 3\/3 .*tensor-3\n$/);
});

test('dtype: inputs are rounded to float16 before merging (decode → encode → decode)', async () => {
  const values = [1 / 3, 0.1, 65519, 1e-8, -2.0009765625];
  const model = MemoryCheckpoint.fromFloat32(
    { 'model.norm.weight': { shape: [5], values } },
    { source: 'm', config: { model_type: 'llama', num_hidden_layers: 0 } },
  );
  const config = { merge_method: 'passthrough', models: [{ model: 'm' }], dtype: 'float16', out_dtype: 'float32' };
  const result = await runMerge(config, undefined, { models: new Map([['m', model]]), inMemory: true, progress: 'none' });
  const got = [...result.checkpoint!.readFloat32('model.norm.weight')];
  // binary16 neighbours, computed by hand: 1/3 → 0x3555, 0.1 → 0x2E66, 65519 → 65504, 1e-8 → 0 (below 2⁻²⁵), −2.0009765625 → −2 (tie to even)
  assert.deepEqual(got, [0.333251953125, 0.0999755859375, 65504, 0, -2]);
  assert.equal(result.checkpoint!.info('model.norm.weight').dtype, 'F32');
});

test('trim_scope: model keeps exactly ⌊density·N⌋ task-vector entries over the whole model — the largest ones', async () => {
  const base = tinyModel(0);
  const expert = tinyModel(3);
  const models: PlanModels = { keyOf: (r) => r, get: (k) => (k === 'base' ? base : expert) };
  const config = parseMergeConfig({
    merge_method: 'ties',
    base_model: 'base',
    models: [{ model: 'expert', parameters: { weight: 1, density: 0.3 } }],
    parameters: { trim_scope: 'model' },
  });
  const plan = await prepareModelTrim(buildMergePlan(config, ties, models), models, undefined);
  const deltas: { name: string; index: number; magnitude: number }[] = [];
  for (const tensor of plan.tensors) {
    const b = base.readFloat32(tensor.name);
    const x = expert.readFloat32(tensor.name);
    for (let i = 0; i < b.length; i++) deltas.push({ name: tensor.name, index: i, magnitude: Math.abs(Math.fround(x[i]! - b[i]!)) });
    assert.equal(typeof tensor.modelParams[0]![TRIM_THRESHOLD_KEY], 'number');
    assert.equal(typeof tensor.modelParams[0]![TRIM_TIE_QUOTA_KEY], 'number');
  }
  const k = Math.floor(0.3 * deltas.length);
  const expected = new Set(
    [...deltas]
      .sort((a, b) => b.magnitude - a.magnitude)
      .slice(0, k)
      .map((d) => `${d.name}#${d.index}`),
  );
  const changed = new Set<string>();
  executePlan(plan, models, {
    writeTensor: (name, bytes) => {
      const out = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const b = base.readFloat32(name);
      out.forEach((v, i) => {
        if (v !== b[i]) changed.add(`${name}#${i}`);
      });
    },
  });
  assert.equal(changed.size, k);
  assert.deepEqual([...changed].sort(), [...expected].sort());
});
