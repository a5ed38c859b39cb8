import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, rngFromState } from './rng.js';

test('same key gives the same stream; different keys differ', () => {
  const a = createRng(0, 'model.layers.0.mlp.up_proj.weight', 'expert-code');
  const b = createRng(0, 'model.layers.0.mlp.up_proj.weight', 'expert-code');
  const c = createRng(0, 'model.layers.0.mlp.up_proj.weight', 'expert-math');
  const seqA = Array.from({ length: 8 }, () => a.nextUint32());
  const seqB = Array.from({ length: 8 }, () => b.nextUint32());
  const seqC = Array.from({ length: 8 }, () => c.nextUint32());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
});

test('key parts are not ambiguous under concatenation', () => {
  assert.notEqual(createRng('ab', 'c').nextUint32(), createRng('a', 'bc').nextUint32());
  assert.notEqual(createRng(1).nextUint32(), createRng('1').nextUint32());
});

test('uniform draws have mean 1/2 and variance 1/12 within 4 sigma', () => {
  const rng = createRng(42);
  const n = 200_000;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  assert.ok(Math.abs(sumSq / n - mean * mean - 1 / 12) < 0.002);
});

test('normal draws have mean 0 and variance 1', () => {
  const rng = createRng(7);
  const n = 100_000;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = rng.normal();
    sum += x;
    sumSq += x * x;
  }
  assert.ok(Math.abs(sum / n) < 4 / Math.sqrt(n));
  assert.ok(Math.abs(sumSq / n - 1) < 0.02);
});

test('state round-trips: a resumed stream continues identically', () => {
  const rng = createRng(3, 'x');
  rng.next();
  const saved = rng.state();
  const expected = Array.from({ length: 5 }, () => rng.nextUint32());
  const resumed = rngFromState(saved);
  assert.deepEqual(
    Array.from({ length: 5 }, () => resumed.nextUint32()),
    expected,
  );
});
