import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelevoError } from '../../core/errors.js';
import { makeMergeInput } from '../test-support.js';
import { passthrough } from './passthrough.js';

const x = Float32Array.from([1.5, -0, 3.4028234663852886e38, 1e-45, -7.25]);

describe('passthrough (§3.12)', () => {
  test('scale 1 (the default) copies the tensor bit-exactly, into a new array', () => {
    const out = passthrough.mergeTensor(makeMergeInput(passthrough, { models: [x] }));
    assert.notEqual(out, x);
    assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(x.buffer));
  });

  test('scale multiplies every element', () => {
    const out = passthrough.mergeTensor(makeMergeInput(passthrough, { models: [x], modelParams: [{ scale: 0.5 }] }));
    assert.deepEqual(Array.from(out), Array.from(x, (v) => Math.fround(0.5 * v)));
  });

  test('more than one input is an error naming the tensor', () => {
    assert.throws(
      () => passthrough.mergeTensor(makeMergeInput(passthrough, { models: [x, x] })),
      (e: unknown) => e instanceof ModelevoError && e.code === 'VALUE_INVALID' && e.message.includes("'test.weight'"),
    );
  });
});
