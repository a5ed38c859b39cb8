/**
 * Golden test for the gradient position of end-of-model tensors (docs/mergekit-compat.md, item 0 of issue #21):
 * current mergekit reads `model.norm.weight` and `lm_head.weight` at t = 0 (the FIRST gradient value), the older
 * convention (`mergekit_compat: false`) at t = 1 (the last value). Expected tensors are float64 loops over the
 * fixture weights: linear without normalisation, out = Σ w_i(t)·X_i, and TIES with weight gradients.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import type { Checkpoint } from '../../src/io/checkpoint.js';
import { runMerge } from '../../src/merge/index.js';
import { readFixtureTensor } from '../../src/merge/test-support.js';
import { FIXTURES } from './workspace.js';

const BASE = join(FIXTURES, 'base');
const CODE = join(FIXTURES, 'expert-code');
const MATH = join(FIXTURES, 'expert-math');

function linearConfig(compat: boolean | undefined): string {
  return [
    'merge_method: linear',
    'models:',
    `  - model: ${CODE}`,
    '    parameters: {weight: [0.2, 0.5, 0.9]}',
    `  - model: ${MATH}`,
    '    parameters: {weight: [1.0, 0.6, 0.1]}',
    'parameters: {normalize: false}',
    ...(compat === undefined ? [] : [`mergekit_compat: ${compat}`]),
  ].join('\n');
}

/** one in-memory merge per config text, shared by the tests that read its tensors */
const merged = new Map<string, Promise<Checkpoint>>();
async function mergedTensor(yaml: string, name: string): Promise<Float32Array> {
  let checkpoint = merged.get(yaml);
  if (checkpoint === undefined) {
    checkpoint = runMerge(yaml, undefined, { inMemory: true, progress: 'none', kernels: 'reference' }).then((r) => r.checkpoint!);
    merged.set(yaml, checkpoint);
  }
  return (await checkpoint).readFloat32(name);
}

function assertClose(actual: Float32Array, expected: Float64Array, label: string): void {
  assert.equal(actual.length, expected.length);
  for (let j = 0; j < expected.length; j++) {
    assert.ok(Math.abs(actual[j]! - expected[j]!) <= 1e-6 * Math.max(1, Math.abs(expected[j]!)), `${label}[${j}]: ${actual[j]} vs ${expected[j]}`);
  }
}

test('linear, no normalisation: lm_head and the final norm take the FIRST gradient value by default, the last with mergekit_compat: false', async () => {
  for (const name of ['lm_head.weight', 'model.norm.weight']) {
    const code = readFixtureTensor('expert-code', name).data;
    const math = readFixtureTensor('expert-math', name).data;
    const expectedAt = (wCode: number, wMath: number): Float64Array => Float64Array.from(code, (c, j) => wCode * c + wMath * math[j]!);
    const first = expectedAt(0.2, 1.0);
    const last = expectedAt(0.9, 0.1);
    assertClose(await mergedTensor(linearConfig(undefined), name), first, `${name} default`);
    assertClose(await mergedTensor(linearConfig(true), name), first, `${name} compat`);
    assertClose(await mergedTensor(linearConfig(false), name), last, `${name} old convention`);
    // the two conventions are far apart on the fixtures (this is what changed a published config's loss)
    let gap = 0;
    for (let j = 0; j < first.length; j++) gap = Math.max(gap, Math.abs(first[j]! - last[j]!));
    assert.ok(gap > 0.1, `${name}: conventions differ by ${gap}`);
  }
});

test('linear: a layer tensor is unaffected by the switch (t = idx/(L−1) inside the stack)', async () => {
  const name = 'model.layers.3.mlp.down_proj.weight'; // last of 4 layers: t = 1
  const code = readFixtureTensor('expert-code', name).data;
  const math = readFixtureTensor('expert-math', name).data;
  const expected = Float64Array.from(code, (c, j) => 0.9 * c + 0.1 * math[j]!);
  assertClose(await mergedTensor(linearConfig(undefined), name), expected, 'default');
  assertClose(await mergedTensor(linearConfig(false), name), expected, 'old');
});

test('TIES with weight gradients: lm_head at the first value (density 1: no trimming; float64 sign election by hand)', async () => {
  const yaml = (compat: boolean | undefined) =>
    [
      'merge_method: ties',
      `base_model: ${BASE}`,
      'models:',
      `  - model: ${CODE}`,
      '    parameters: {weight: [0.3, 1.0], density: 1.0}',
      `  - model: ${MATH}`,
      '    parameters: {weight: [0.8, 0.2], density: 1.0}',
      'parameters: {normalize: false}',
      ...(compat === undefined ? [] : [`mergekit_compat: ${compat}`]),
    ].join('\n');
  const name = 'lm_head.weight';
  const base = readFixtureTensor('base', name).data;
  const code = readFixtureTensor('expert-code', name).data;
  const math = readFixtureTensor('expert-math', name).data;
  const expected = (wCode: number, wMath: number): Float64Array =>
    Float64Array.from(base, (b, j) => {
      const d = [wCode * (code[j]! - b), wMath * (math[j]! - b)];
      const sign = d[0]! + d[1]! >= 0 ? 1 : -1; // elected sign of the weighted sum, 0 → +1
      let sum = 0;
      for (const v of d) if (Math.sign(v) === sign) sum += v;
      return b + sum;
    });
  assertClose(await mergedTensor(yaml(undefined), name), expected(0.3, 0.8), 'default');
  assertClose(await mergedTensor(yaml(false), name), expected(1.0, 0.2), 'old');
});
