import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../../core/errors.js';
import { loadTrafficNetwork, parseAdjacencyCsv, parseSeriesCsv, validateTrafficNetwork, type TrafficNetwork } from './csv-loader.js';
import { chronologicalSplit, sampleCount } from './windows.js';

const FIXTURE = 'test/fixtures/metr-la-subset';

function seriesText(steps: number, sensors: number, cell: (t: number, n: number) => string): string {
  const rows = [Array.from({ length: sensors }, (_, n) => `s${n}`).join(',')];
  for (let t = 0; t < steps; t++) rows.push(Array.from({ length: sensors }, (_, n) => cell(t, n)).join(','));
  return rows.join('\n');
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ModelevoError);
    return error.code;
  }
  assert.fail('expected an error');
}

test('METR-LA subset loads 207 sensors × 2016 steps with a square adjacency', () => {
  const net = loadTrafficNetwork(FIXTURE);
  assert.equal(net.sensorIds.length, 207);
  assert.equal(net.steps, 2016);
  assert.equal(net.values.length, 207 * 2016);
  assert.equal(net.adjacency.length, 207 * 207);
  assert.equal(net.sensorIds[0], '773869');
  assert.equal(net.values[0], 64.375);
  assert.equal(net.adjacency[0], 1);
  assert.equal(net.adjacency[13], 0.260935932);
});

test('windows: n − 23 samples and the DCRNN 7:1:2 sizes (1993 → 1395 / 199 / 399)', () => {
  assert.equal(sampleCount(2016), 1993);
  const split = chronologicalSplit(2016);
  assert.deepEqual([split.train.end - split.train.start, split.val.end - split.val.start, split.test.end - split.test.start], [1395, 199, 399]);
  assert.equal(split.val.start, split.train.end);
  assert.equal(split.test.start, split.val.end);
  assert.equal(split.test.end, 1993);
  assert.equal(split.trainStepEnd, 1394 + 24);
});

test('bad input: adjacency size, non-finite values and short series are typed errors', () => {
  const good = seriesText(30, 3, () => '50');
  assert.equal(parseSeriesCsv(good).steps, 30);
  assert.equal(codeOf(() => parseSeriesCsv(seriesText(23, 3, () => '50'))), 'VALUE_INVALID');
  assert.match(String((() => { try { parseSeriesCsv(seriesText(23, 3, () => '50'), 'x.csv'); } catch (e) { return (e as Error).message; } return ''; })()), /at least 24 time steps.*found 23/);
  assert.equal(codeOf(() => parseSeriesCsv(seriesText(30, 3, (t, n) => (t === 5 && n === 1 ? 'NaN' : '50')))), 'VALUE_INVALID');
  assert.equal(codeOf(() => parseSeriesCsv(seriesText(30, 3, (t) => (t === 7 ? 'Infinity' : '50')))), 'VALUE_INVALID');
  assert.equal(codeOf(() => parseAdjacencyCsv('1,0\n0,1', 3)), 'SHAPE_MISMATCH');
  assert.equal(codeOf(() => parseAdjacencyCsv('1,0,0\n0,1,0\n0,0,inf', 3)), 'VALUE_INVALID');
  assert.deepEqual([...parseAdjacencyCsv('1,0.5,0\n0,1,0\n0,0.25,1', 3)], [1, 0.5, 0, 0, 1, 0, 0, 0.25, 1]);
});

test('a user network folder with speed.csv + adj.csv loads; mismatched sizes name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-'));
  writeFileSync(join(dir, 'speed.csv'), seriesText(24, 2, (t, n) => String(t + n)));
  writeFileSync(join(dir, 'adj.csv'), '1,0.3\n0.3,1\n');
  const net = loadTrafficNetwork(dir);
  assert.equal(net.steps, 24);
  assert.equal(net.values[2 * 5 + 1], 6);
  writeFileSync(join(dir, 'adj.csv'), '1,0.3,0\n0.3,1,0\n0,0,1\n');
  assert.throws(() => loadTrafficNetwork(dir), (e: unknown) => e instanceof ModelevoError && e.code === 'SHAPE_MISMATCH' && /adj\.csv.*2×2.*found 3×3/.test(e.message));
});

test('bad input in a data folder: each error names the offending file and says what was expected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-bad-'));
  const seriesPath = join(dir, 'speed.csv');
  const adjacencyPath = join(dir, 'adj.csv');
  const failure = (series: string, adjacency: string): ModelevoError => {
    writeFileSync(seriesPath, series);
    writeFileSync(adjacencyPath, adjacency);
    try {
      loadTrafficNetwork(dir);
    } catch (error) {
      assert.ok(error instanceof ModelevoError);
      return error;
    }
    return assert.fail('expected an error');
  };
  const goodAdjacency = '1,0.5\n0.5,1\n';
  const cases: [string, ModelevoError, string, RegExp][] = [
    ['adjacency size', failure(seriesText(30, 2, () => '50'), '1,0,0\n0,1,0\n0,0,1\n'), adjacencyPath, /expected a 2×2 adjacency.*found 3×3/],
    ['NaN reading', failure(seriesText(30, 2, (t, n) => (t === 4 && n === 1 ? 'NaN' : '50')), goodAdjacency), seriesPath, /finite number at row 6, column 2, found 'NaN'/],
    ['empty reading', failure(seriesText(30, 2, (t) => (t === 9 ? '' : '50')), goodAdjacency), seriesPath, /finite number at row 11, column 1, found ''/],
    ['infinite weight', failure(seriesText(30, 2, () => '50'), '1,Infinity\n0.5,1\n'), adjacencyPath, /finite number at row 1, column 2, found 'Infinity'/],
    ['negative weight', failure(seriesText(30, 2, () => '50'), '1,0.5\n-0.5,1\n'), adjacencyPath, /row 2, column 1 is -0\.5, expected ≥ 0/],
    ['short series', failure(seriesText(23, 2, () => '50'), goodAdjacency), seriesPath, /at least 24 time steps.*found 23/],
  ];
  for (const [what, error, file, pattern] of cases) {
    assert.ok(error.message.startsWith(file), `${what}: '${error.message}' should start with ${file}`);
    assert.match(error.message, pattern, what);
    assert.ok((error.hint ?? '').length > 0, `${what}: a hint`);
  }
  assert.deepEqual(cases.map(([, e]) => e.code), ['SHAPE_MISMATCH', 'VALUE_INVALID', 'VALUE_INVALID', 'VALUE_INVALID', 'VALUE_INVALID', 'VALUE_INVALID']);
});

test('networks built in code are checked like files: steps, sizes, non-finite readings and weights', () => {
  const base: TrafficNetwork = { sensorIds: ['a', 'b'], steps: 24, values: new Float64Array(48).fill(50), adjacency: Float64Array.from([1, 0.5, 0.5, 1]), source: 'synthetic:test' };
  validateTrafficNetwork(base);
  const messageOf = (network: TrafficNetwork): string => {
    try {
      validateTrafficNetwork(network);
    } catch (error) {
      assert.ok(error instanceof ModelevoError);
      return `${error.code}: ${error.message}`;
    }
    return 'no error';
  };
  const withValue = (at: number, value: number): Float64Array => Float64Array.from(base.values, (v, i) => (i === at ? value : v));
  assert.equal(messageOf({ ...base, steps: 23, values: new Float64Array(46) }), 'VALUE_INVALID: synthetic:test: expected at least 24 time steps (12 inputs + 12 targets), found 23');
  assert.equal(messageOf({ ...base, values: new Float64Array(47) }), 'SHAPE_MISMATCH: synthetic:test: expected 24 × 2 = 48 readings, found 47');
  assert.equal(messageOf({ ...base, adjacency: new Float64Array(9) }), 'SHAPE_MISMATCH: synthetic:test: expected a 2×2 adjacency (one row and column per sensor), found 9 weights');
  assert.equal(messageOf({ ...base, values: withValue(7, Number.NaN) }), "VALUE_INVALID: synthetic:test: expected finite readings, found NaN at step 3, sensor 'b'");
  assert.equal(messageOf({ ...base, values: withValue(0, Infinity) }), "VALUE_INVALID: synthetic:test: expected finite readings, found Infinity at step 0, sensor 'a'");
  assert.equal(messageOf({ ...base, adjacency: Float64Array.from([1, Number.NaN, 0.5, 1]) }), 'VALUE_INVALID: synthetic:test: expected finite non-negative adjacency weights, found NaN at row 1, column 2');
});
