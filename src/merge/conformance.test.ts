/** Runs the conformance suite (conformance.case.ts) against every registry entry, and checks the registry. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelevoError, UnknownNameError } from '../core/errors.js';
import { mergeMethodConformance } from './conformance.case.js';
import { MERGE_METHOD_NAMES, MERGE_METHODS, getMergeMethod, isMergeMethodName } from './registry.js';

for (const name of MERGE_METHOD_NAMES) {
  describe(`merge method conformance: ${name}`, () => mergeMethodConformance(name, MERGE_METHODS[name]));
}

describe('merge method registry', () => {
  test('names are the map keys, and lookups return the registered method', () => {
    assert.deepEqual([...MERGE_METHOD_NAMES], Object.keys(MERGE_METHODS));
    for (const name of MERGE_METHOD_NAMES) {
      assert.equal(getMergeMethod(name), MERGE_METHODS[name]);
      assert.ok(isMergeMethodName(name));
    }
  });

  test('every spec table name owned by part 1 is registered', () => {
    for (const name of ['linear', 'slerp', 'nuslerp', 'multislerp', 'karcher', 'model_stock', 'nearswap', 'arcee_fusion', 'ram', 'ramplus_tl', 'passthrough', 'magmax']) {
      assert.ok(isMergeMethodName(name), name);
    }
  });

  test('an unknown name throws UnknownNameError naming the closest method', () => {
    assert.throws(
      () => getMergeMethod('modle_stock'),
      (error: unknown) => {
        assert.ok(error instanceof UnknownNameError);
        assert.ok(error instanceof ModelevoError);
        assert.equal(error.code, 'UNKNOWN_NAME');
        assert.equal(error.message, "unknown merge method 'modle_stock'");
        assert.match(error.hint ?? '', /^did you mean 'model_stock'\? valid merge methods: linear, /);
        return true;
      },
    );
    assert.ok(!isMergeMethodName('toString'), 'prototype keys are not method names');
  });
});
