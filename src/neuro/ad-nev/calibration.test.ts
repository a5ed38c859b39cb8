import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adNevConfigSchema } from './config.js';
import { prepareChannel } from './channel.js';

test('calibration series: the held-out time span at full resolution, one-step spikes kept (issue #13 item 2)', () => {
  // 500 raw rows of 0 with a one-step spike of 10 at row 463; ×5 median downsampling removes the spike
  const values = new Float64Array(500);
  values[463] = 10;
  const config = adNevConfigSchema.parse({ downsample: 5, validationFraction: 0.2, scaler: 'minmax' });
  const prepared = prepareChannel('spike', { values, rows: 500, columns: 1, names: ['x'] }, config);
  // min–max to [−1, 1]: 0 ↦ −1, 10 ↦ 1. Downsampled: 100 rows, the last 20 held out = raw rows 400–499
  assert.deepEqual([prepared.fit.rows, prepared.heldOut.rows, prepared.calibration.rows], [80, 20, 100]);
  assert.ok(prepared.heldOut.values.every((v) => v === -1), 'the median removed the spike from the fitting resolution');
  const expected = Array.from({ length: 100 }, (_, i) => (i === 63 ? 1 : -1));
  assert.deepEqual([...prepared.calibration.values], expected);
});

test('calibration series with a short final block: the span still starts where the held-out block starts', () => {
  // 503 raw rows → 101 downsampled (the last block holds 3 rows); fit = round(101·0.8) = 81 rows = raw rows 0–404
  const values = Float64Array.from({ length: 503 }, (_, i) => i);
  const config = adNevConfigSchema.parse({ downsample: 5, validationFraction: 0.2, scaler: 'zscore' });
  const prepared = prepareChannel('ramp', { values, rows: 503, columns: 1, names: ['x'] }, config);
  assert.deepEqual([prepared.fit.rows, prepared.heldOut.rows, prepared.calibration.rows], [81, 20, 98]);
  const { offset, scale } = prepared.scaler;
  assert.equal(prepared.calibration.values[0], (405 - offset[0]!) * scale[0]!);
  assert.equal(prepared.calibration.values[97], (502 - offset[0]!) * scale[0]!);
});
