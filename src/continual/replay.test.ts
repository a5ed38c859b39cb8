import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { ReservoirBuffer } from './replay.js';

test('reservoir keeps everything until full, then each example with probability capacity/seen', () => {
  const runs = 400;
  const capacity = 10;
  const offered = 50;
  const kept = new Array<number>(offered).fill(0);
  for (let run = 0; run < runs; run++) {
    const buffer = new ReservoirBuffer(capacity, 2);
    const rng = createRng('reservoir', run);
    for (let i = 0; i < offered; i++) buffer.offer([i, -i], i % 3, Math.floor(i / 10), rng);
    assert.equal(buffer.size, capacity);
    assert.equal(buffer.seen, offered);
    for (let s = 0; s < capacity; s++) {
      const i = buffer.x[2 * s]!;
      assert.equal(buffer.x[2 * s + 1], -i);
      assert.equal(buffer.y[s], i % 3);
      assert.equal(buffer.task[s], Math.floor(i / 10));
      kept[i]!++;
    }
  }
  // expected 400·10/50 = 80 per example; binomial sd ≈ 8 → a 5-sd band
  for (const count of kept) assert.ok(count > 40 && count < 120, `kept ${count} times`);
  // early and late examples are held equally often on average
  const early = kept.slice(0, 25).reduce((a, b) => a + b, 0);
  const late = kept.slice(25).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(early - late) < 0.15 * (early + late));
});

test('samples index filled slots; distinct sampling has no repeats', () => {
  const buffer = new ReservoirBuffer(8, 1);
  const rng = createRng('fill');
  for (let i = 0; i < 5; i++) buffer.offer([i], 0, 0, rng);
  const drawn = buffer.sample(100, createRng('draw'));
  assert.equal(drawn.length, 100);
  for (const slot of drawn) assert.ok(slot >= 0 && slot < 5);
  const distinct = buffer.sampleDistinct(10, createRng('distinct'));
  assert.deepEqual([...distinct].sort(), [0, 1, 2, 3, 4]);
  assert.equal(new ReservoirBuffer(3, 1).sample(4, rng).length, 0);
});
