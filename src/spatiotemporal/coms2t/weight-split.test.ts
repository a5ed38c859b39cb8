import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GwnWeights } from '../gwn-config.js';
import { isSplitEligible, lastCheckpoints, splitWeights } from './weight-split.js';

/** Checkpoints where tensor `name` moves by `step[name]` per epoch (every element alike). */
function checkpoints(steps: Record<string, number>, epochs: number): GwnWeights[] {
  return Array.from({ length: epochs }, (_, e) => {
    const weights: GwnWeights = {};
    for (const [name, step] of Object.entries(steps)) weights[name] = { shape: [2], data: Float32Array.from([1 + step * e, -1 - step * e]) };
    return weights;
  });
}

test('tensor-ratio: mean element std ranks tensors; ⌊ratio·eligible⌋ dynamic; BN, embeddings and prompts skipped', () => {
  const steps = { 'start.weight': 0.1, 'layers.0.tcn.weight': 0.3, 'layers.0.skip.weight': 0.2, 'end1.weight': 0.05, 'end2.weight': 0, 'layers.0.bn.weight': 9, node_emb1: 9, 'prompt.encoder.temporal.out.weight': 9 };
  const split = splitWeights(checkpoints(steps, 3), { method: 'tensor-ratio', ratio: 50, delta: 1e-6 });
  assert.deepEqual(split.eligible, ['end1.weight', 'end2.weight', 'layers.0.skip.weight', 'layers.0.tcn.weight', 'start.weight']);
  // values a + step·e over e = 0,1,2: unbiased std = step
  assert.ok(Math.abs(split.scores['layers.0.tcn.weight']! - 0.3) < 1e-6);
  assert.ok(Math.abs(split.scores['end1.weight']! - 0.05) < 1e-6);
  // 50% of 5 eligible = 2.5 → 2 dynamic (rounded down)
  assert.deepEqual([...split.dynamic].sort(), ['layers.0.skip.weight', 'layers.0.tcn.weight']);
  assert.deepEqual([...split.stable].sort(), ['end1.weight', 'end2.weight', 'start.weight']);
  assert.equal(splitWeights(checkpoints(steps, 3), { method: 'tensor-ratio', ratio: 100, delta: 0 }).dynamic.length, 5);
  assert.equal(splitWeights(checkpoints(steps, 3), { method: 'tensor-ratio', ratio: 0, delta: 0 }).dynamic.length, 0);
  // the code's pool also holds its 12 never-updated prompt tensors: ⌊0.5 · (5 + 1)⌋ = 3, ⌊0.5 · (5 + 12)⌋ = 8 → all 5
  assert.deepEqual([...splitWeights(checkpoints(steps, 3), { method: 'tensor-ratio', ratio: 50, delta: 0, idleTensors: 1 }).dynamic].sort(), ['layers.0.skip.weight', 'layers.0.tcn.weight', 'start.weight']);
  assert.equal(splitWeights(checkpoints(steps, 3), { method: 'tensor-ratio', ratio: 50, delta: 0, idleTensors: 12 }).dynamic.length, 5);
  assert.ok(!isSplitEligible('layers.3.bn.running_mean') && !isSplitEligible('node_emb2') && isSplitEligible('layers.3.gconv.bias'));
});

test('only the last 10 checkpoints count, ties go by name, fewer than 2 checkpoints is an error', () => {
  // tensor a moves only in the first 5 of 15 epochs: invisible in the last 10
  const cps = Array.from({ length: 15 }, (_, e) => ({
    'a.weight': { shape: [1], data: Float32Array.from([e < 5 ? e : 5]) },
    'b.weight': { shape: [1], data: Float32Array.from([0.01 * e]) },
    'c.weight': { shape: [1], data: Float32Array.from([0.01 * e]) },
  }));
  assert.equal(lastCheckpoints(cps).length, 10);
  const split = splitWeights(cps, { method: 'tensor-ratio', ratio: 34, delta: 0 });
  assert.equal(split.scores['a.weight'], 0);
  // b and c tie; ⌊0.34·3⌋ = 1 dynamic → the first by name
  assert.deepEqual(split.dynamic, ['b.weight']);
  assert.throws(() => splitWeights(cps.slice(0, 1)), (e: unknown) => (e as { code: string }).code === 'VALUE_INVALID');
});

test('element-variance: elements with population variance < δ are stable; masks and scores', () => {
  const cps: GwnWeights[] = [0, 1, 2].map((e) => ({
    'start.weight': { shape: [3], data: Float32Array.from([0.5, 0.5 + 0.01 * e, 0.25]) },
    'end1.weight': { shape: [2], data: Float32Array.from([1 + e, 2 - e]) },
    'end2.weight': { shape: [1], data: Float32Array.from([3]) },
  }));
  // variances: start [0, (2/3)·1e-4, 0], end1 [2/3, 2/3], end2 [0]
  const split = splitWeights(cps, { method: 'element-variance', ratio: 50, delta: 1e-6 });
  assert.deepEqual([...split.dynamic].sort(), ['end1.weight', 'start.weight']);
  assert.deepEqual(split.stable, ['end2.weight']);
  assert.deepEqual([...split.elementMasks['start.weight']!], [0, 1, 0]);
  assert.equal(split.elementMasks['end1.weight'], undefined, 'a wholly dynamic tensor needs no mask');
  assert.deepEqual(split.scores, { 'end1.weight': 1, 'end2.weight': 0, 'start.weight': 1 / 3 });
});
