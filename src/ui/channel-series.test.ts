import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasChannelSeries, onRanges, readChannelSeries, writeChannelSeries } from './channel-series.js';

test('onRanges: maximal runs of 1 as [start, end), including runs touching either end', () => {
  assert.deepEqual(onRanges(Uint8Array.from([1, 1, 0, 0, 1, 0, 1, 1, 1])), [[0, 2], [4, 5], [6, 9]]);
  assert.deepEqual(onRanges(new Uint8Array(5)), []);
  assert.deepEqual(onRanges(new Uint8Array(0)), []);
});

test('written series read back: every value when the buckets cover it, label and alarm ranges, chosen features only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ui-series-'));
  try {
    const steps = 40;
    const features = [0, 1].map((f) => Float64Array.from({ length: steps }, (_, t) => t * (f + 1) + 0.25));
    const labels = new Uint8Array(steps).fill(1, 10, 15);
    const score = Float64Array.from({ length: steps }, (_, t) => (t % 7) / 4);
    const alarms = new Uint8Array(steps).fill(1, 11, 13).fill(1, 30, 31);
    assert.equal(hasChannelSeries(join(dir, 'C-1')), false);
    writeChannelSeries(join(dir, 'C-1'), { features, featureNames: ['a', 'b'], labels, levels: [{ level: 'level1', score, alarms: { pot: alarms }, thresholds: { pot: 1.2 } }] });
    assert.equal(hasChannelSeries(join(dir, 'C-1')), true);
    const view = readChannelSeries(join(dir, 'C-1'), 100, [1]);
    assert.equal(view.steps, steps);
    assert.deepEqual(view.selected, [1]);
    // stored as float32: these values are exact in float32
    assert.deepEqual(view.features[0]!.y, [...features[1]!]);
    assert.deepEqual(view.levels[0]!.score.y, [...score]);
    assert.deepEqual(view.levels[0]!.alarms, { pot: [[11, 13], [30, 31]] });
    assert.deepEqual(view.levels[0]!.thresholds, { pot: 1.2 });
    assert.deepEqual(view.labelRanges, [[10, 15]]);
    // downsampled to 5 buckets: at most 2 points each, and the series' maximum survives
    const small = readChannelSeries(join(dir, 'C-1'), 5);
    assert.deepEqual(small.selected, [0, 1]);
    assert.ok(small.features[1]!.y.length <= 10);
    assert.equal(Math.max(...small.features[1]!.y), 2 * 39 + 0.25);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
