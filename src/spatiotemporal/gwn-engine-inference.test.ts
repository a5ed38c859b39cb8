import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INFERENCE_BATCH, InferenceCopies } from './gwn-engine-inference.js';

test('inference copies: one per chunk size clamped to 1..INFERENCE_BATCH, compiled once, an added copy is kept', () => {
  const compiled: number[] = [];
  const copies = new InferenceCopies((batch) => (compiled.push(batch), { batch }));
  copies.add(1, { batch: 1 });
  const probe = copies.for(0);
  assert.deepEqual(probe, { batch: 1 });
  assert.equal(copies.for(1), probe, 'the added batch-1 copy serves chunks of one');
  const big = copies.for(INFERENCE_BATCH + 40);
  assert.equal(big.batch, INFERENCE_BATCH);
  assert.equal(copies.for(INFERENCE_BATCH), big);
  assert.equal(copies.for(3).batch, 3);
  assert.deepEqual(compiled, [INFERENCE_BATCH, 3]);
  copies.clear();
  copies.for(3);
  assert.deepEqual(compiled, [INFERENCE_BATCH, 3, 3], 'cleared copies compile again');
});
