import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelevoError } from '../core/errors.js';
import { decodeResult, encodeResult, jobIdOf, parseJobData, PROTOCOL_VERSION } from './protocol.js';

test('jobIdOf: BullMQ-valid (no colon, never a plain integer) and one id per (run, key) pair', () => {
  assert.equal(jobIdOf('run-1', 'a:b'), 'run-1|a%3Ab');
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (r1, k1, r2, k2) => {
      const id = jobIdOf(r1, k1);
      assert.ok(!id.includes(':') && !/^\d+$/.test(id));
      // injective: equal ids only for equal pairs ('|' is encoded inside the parts)
      assert.equal(id === jobIdOf(r2, k2), r1 === r2 && k1 === k2);
    }),
  );
});

test('encodeResult/decodeResult: NaN fitness and metrics survive JSON as null; Infinity is refused', () => {
  const encoded = encodeResult({ fitness: NaN, failure: 'boom', metrics: { loss: NaN, acc: 0.5 } }, 1.25, 'w1');
  const roundTrip = decodeResult(JSON.parse(JSON.stringify(encoded)));
  assert.ok(Number.isNaN(roundTrip.fitness));
  assert.equal(roundTrip.failure, 'boom');
  assert.ok(Number.isNaN(roundTrip.metrics!['loss']!));
  assert.equal(roundTrip.metrics!['acc'], 0.5);
  assert.deepEqual([roundTrip.seconds, roundTrip.worker], [1.25, 'w1']);
  assert.equal(decodeResult(encodeResult({ fitness: -3.5 }, 0, 'w')).fitness, -3.5);
  assert.throws(() => encodeResult({ fitness: Infinity }, 0, 'w'), ModelevoError);
});

test('parseJobData accepts a complete job and names the first bad field otherwise', () => {
  const job = { protocol: PROTOCOL_VERSION, runId: 'r', key: 'k', candidate: { recipe: { merge_method: 'linear' } }, fitness: { command: {} }, models: { refs: ['a'] }, cwd: '/data' };
  assert.deepEqual(parseJobData(job), job);
  assert.throws(() => parseJobData({ ...job, protocol: 99 }), /job data at 'protocol'/);
  assert.throws(() => parseJobData({ ...job, models: { refs: [] } }), /job data at 'models\.refs'/);
  assert.throws(() => parseJobData({ ...job, extra: 1 }), (error: unknown) => error instanceof ModelevoError && error.code === 'VALUE_INVALID');
});
