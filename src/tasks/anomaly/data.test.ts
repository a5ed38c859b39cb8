import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { encodeNpy, parseNpy } from './npy.js';
import { listChannels, loadChannel, parseLabelCsv, rangesToLabels, resolveSmapMslRoot } from './smap-msl.js';
import { parseCsvSeries } from './csv-series.js';
import { applyScaler, fitScaler, makeWindows, medianDownsample, splitTail, windowScoresToPoints, type Series } from './series.js';
import { ModelevoError } from '../../core/errors.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/smap-msl-subset', import.meta.url));

function expectError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof ModelevoError && pattern.test(error.message) && error.hint !== undefined);
}

test('npy: versions 1, 2, 3 with <f8 and <f4 round-trip values and shapes', () => {
  const values = [1.5, -2.25, 3e-8, 1e10, 0, -0.5];
  for (const version of [1, 2, 3] as const)
    for (const descr of ['<f8', '<f4'] as const) {
      const parsed = parseNpy(encodeNpy(values, [2, 3], descr, version));
      assert.deepEqual(parsed.shape, [2, 3]);
      assert.equal(parsed.descr, descr);
      const expected = descr === '<f8' ? values : values.map((v) => Math.fround(v));
      assert.deepEqual([...parsed.data], expected);
    }
});

test('npy: unsupported dtype, Fortran order, bad magic and truncation are typed errors', () => {
  const good = encodeNpy([1, 2], [2]);
  const text = new TextDecoder('latin1').decode(good);
  const patch = (from: string, to: string): Uint8Array => Uint8Array.from(text.replace(from, to), (c) => c.charCodeAt(0));
  expectError(() => parseNpy(patch("'<f8'", "'>f8'")), /dtype '>f8' is not supported/);
  expectError(() => parseNpy(patch("'<f8'", "'<i8'")), /dtype '<i8'/);
  expectError(() => parseNpy(patch('False', 'True ')), /Fortran-ordered/);
  expectError(() => parseNpy(good.subarray(0, good.length - 3)), /expected 16 data bytes/);
  expectError(() => parseNpy(new Uint8Array(20)), /magic/);
});

test('SMAP/MSL subset: channels, shapes and labels (inclusive and exclusive ends)', () => {
  const root = resolveSmapMslRoot(FIXTURE);
  assert.deepEqual(listChannels(root, 'SMAP'), ['A-5', 'A-6']);
  assert.deepEqual(listChannels(root, 'MSL'), ['T-9']);
  const t9 = loadChannel(root, 'T-9');
  assert.equal(t9.train.columns, 55);
  assert.equal(t9.test.rows, 400);
  assert.equal(t9.labels.reduce((s, v) => s + v, 0), 31 + 81);
  assert.equal(t9.labels[130], 1);
  assert.equal(t9.labels[160], 1);
  assert.equal(t9.labels[161], 0);
  const exclusive = loadChannel(root, 'T-9', 'exclusive');
  assert.equal(exclusive.labels.reduce((s, v) => s + v, 0), 30 + 80);
  expectError(() => loadChannel(root, 'Z-9'), /no row/);
});

test('labels: a range outside the series is an error; a channel listed twice gets the union', () => {
  expectError(() => rangesToLabels([[5, 10]], 10, 'inclusive', 'x'), /outside the series of 10 rows/);
  assert.equal(rangesToLabels([[5, 10]], 10, 'exclusive', 'x').reduce((s, v) => s + v, 0), 5);
  const csv = 'chan_id,spacecraft,anomaly_sequences,class,num_values\nP-2,SMAP,"[[1, 2]]",[point],9\nP-2,SMAP,"[[1, 3]]",[point],9\n';
  assert.deepEqual(parseLabelCsv(csv).get('P-2')!.ranges, [[1, 2], [1, 3]]);
  assert.deepEqual([...rangesToLabels(parseLabelCsv(csv).get('P-2')!.ranges, 5, 'inclusive', 'x')], [0, 1, 1, 1, 0]);
});

test('CSV: header names kept, timestamp detected, label column split off', () => {
  const parsed = parseCsvSeries('time,temp,pressure,label\n2024-01-01,1,2,0\n2024-01-02,3,4,1\n2024-01-03,5,6,0\n');
  assert.deepEqual(parsed.series.names, ['temp', 'pressure']);
  assert.deepEqual(parsed.timestamps, ['2024-01-01', '2024-01-02', '2024-01-03']);
  assert.deepEqual([...parsed.series.values], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...parsed.labels!], [0, 1, 0]);
  const noTime = parseCsvSeries('a,b\n1,2\n3,4\n');
  assert.equal(noTime.timestamps, undefined);
  assert.deepEqual(noTime.series.names, ['a', 'b']);
});

test('CSV: ragged rows, NaN/Inf and empty cells are rejected with row and column; ffill imputes', () => {
  expectError(() => parseCsvSeries('a,b\n1,2\n3\n', { source: 'my.csv' }), /my\.csv: row 3 has 1 fields, the header has 2/);
  expectError(() => parseCsvSeries('a,b\n1,2\n3,NaN\n'), /row 3, column 'b': 'NaN' is not a finite number/);
  expectError(() => parseCsvSeries('a,b\n1,2\nInf,4\n'), /row 3, column 'a': 'Inf'/);
  expectError(() => parseCsvSeries('a,b\n1,2\n,4\n'), /row 3, column 'a': an empty cell/);
  const filled = parseCsvSeries('a,b\n1,2\n,4\n5,NaN\n', { impute: 'ffill' });
  assert.deepEqual([...filled.series.values], [1, 2, 1, 4, 5, 4]);
  assert.equal(filled.imputed, 2);
  expectError(() => parseCsvSeries('a,b\nNaN,2\n', { impute: 'ffill' }), /row 2, column 'a'/);
});

const series = (values: number[], columns: number): Series => ({ values: Float64Array.from(values), rows: values.length / columns, columns, names: [] });

test('scaling: fitted on training rows only; min-max maps the training range to [-1, 1]', () => {
  const train = series([0, 10, 2, 10, 4, 10], 2);
  const scaler = fitScaler(train, 'minmax');
  assert.deepEqual([...applyScaler(train, scaler).values], [-1, 0, 0, 0, 1, 0]);
  const test = series([8, 10, -4, 11], 2);
  assert.deepEqual([...applyScaler(test, scaler).values], [3, 0, -3, 1], 'test values outside the training range are not clipped');
  const z = fitScaler(train, 'zscore');
  const scaled = applyScaler(train, z).values;
  assert.ok(Math.abs(scaled[0]! + Math.sqrt(1.5)) < 1e-12 && scaled[1] === 0);
});

test('windows, downsampling, tail split and too-short series', () => {
  const s = series([1, 10, 2, 20, 3, 30, 4, 40], 2);
  const w = makeWindows(s, [1], 3);
  assert.equal(w.count, 2);
  assert.deepEqual([...w.data], [10, 20, 30, 20, 30, 40]);
  expectError(() => makeWindows(s, [0], 5, 'train.csv'), /train\.csv has 4 rows, fewer than the window of 5/);
  expectError(() => makeWindows(s, [2], 2), /feature index 2 is outside \[0, 2\)/);
  assert.deepEqual([...medianDownsample(series([5, 1, 3, 9, 7], 1), 3).values], [3, 8]);
  const { fit, heldOut } = splitTail(series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1), 0.2);
  assert.deepEqual([fit.rows, heldOut.rows, heldOut.values[0]], [8, 2, 9]);
  assert.deepEqual([...windowScoresToPoints(Float64Array.from([7, 8]), 4, 3)], [7, 7, 7, 8]);
});
