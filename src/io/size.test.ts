import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelevoError } from '../core/errors.js';
import { formatBytes, formatCount, parseByteSize } from './size.js';

test('parseByteSize reads decimal k/K/M/B/G suffixes', () => {
  assert.equal(parseByteSize('1000'), 1000);
  assert.equal(parseByteSize('2k'), 2000);
  assert.equal(parseByteSize('2K'), 2000);
  assert.equal(parseByteSize('500M'), 500_000_000);
  assert.equal(parseByteSize('5B'), 5_000_000_000);
  assert.equal(parseByteSize('3G'), 3_000_000_000);
  assert.equal(parseByteSize('1.5M'), 1_500_000);
  assert.equal(parseByteSize(' 7 k '), 7000);
});

test('parseByteSize rejects junk with a VALUE_INVALID error and a hint', () => {
  for (const bad of ['', 'abc', '5MB', '5 Mi', '-3', '0', '1e6', '5T', '0.0001']) {
    assert.throws(
      () => parseByteSize(bad, '--out-shard-size'),
      (error: unknown) => {
        assert.ok(error instanceof ModelevoError);
        assert.equal(error.code, 'VALUE_INVALID');
        assert.match(error.message, /--out-shard-size/);
        assert.match(error.message, new RegExp(`'${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
        assert.match(error.hint ?? '', /500M/);
        return true;
      },
      `expected '${bad}' to be rejected`,
    );
  }
});

test('formatBytes and formatCount use decimal units', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(4_002_304), '4.00 MB');
  assert.equal(formatBytes(118_760), '119 kB');
  assert.equal(formatBytes(12_345), '12.3 kB');
  assert.equal(formatBytes(5e9), '5.00 GB');
  assert.equal(formatCount(1_000_576), '1.00M');
  assert.equal(formatCount(42), '42');
  assert.equal(formatCount(7_000_000_000), '7.00B');
});
