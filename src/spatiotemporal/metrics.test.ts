import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { horizonMetrics, maskedMetrics } from './metrics.js';
import { fitHistoricalAverage, forecastTargets, historicalAverageForecast, lastValueForecast, sensorMeans } from './baselines.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('masked metrics on a hand-computed case: the zero label is ignored', () => {
  // labels 10, 0 (missing), 20, 40; errors +2, (ignored), −4, +8
  const m = maskedMetrics([12, 99, 16, 48], [10, 0, 20, 40]);
  assert.equal(m.count, 3);
  close(m.mae, (2 + 4 + 8) / 3);
  close(m.rmse, Math.sqrt((4 + 16 + 64) / 3));
  close(m.mape, (0.2 + 0.2 + 0.2) / 3);
});

test('masked metrics equal plain metrics without nulls, ignore predictions at null labels, NaN labels too', () => {
  const finite = fc.double({ min: 1, max: 100, noNaN: true });
  fc.assert(
    fc.property(fc.array(fc.tuple(finite, finite), { minLength: 1, maxLength: 30 }), fc.double({ min: -50, max: 50, noNaN: true }), (pairs, junk) => {
      const pred = pairs.map(([p]) => p);
      const truth = pairs.map(([, y]) => y);
      const m = maskedMetrics(pred, truth);
      let abs = 0;
      let sq = 0;
      let rel = 0;
      pairs.forEach(([p, y]) => { abs += Math.abs(p - y); sq += (p - y) ** 2; rel += Math.abs(p - y) / y; });
      close(m.mae, abs / pairs.length, 1e-9);
      close(m.rmse, Math.sqrt(sq / pairs.length), 1e-9);
      close(m.mape, rel / pairs.length, 1e-9);
      const withNull = maskedMetrics([...pred, junk, junk], [...truth, 0, Number.NaN]);
      assert.deepEqual(withNull, m);
    }),
    { numRuns: 100 },
  );
  assert.ok(Number.isNaN(maskedMetrics([1, 2], [0, 0]).mae));
});

test('horizon metrics pick one horizon of [samples, horizons, nodes]', () => {
  // 2 samples × 3 horizons × 2 nodes; prediction = truth + horizon index (1, 2, 3)
  const truth = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120];
  const pred = truth.map((y, i) => y + (Math.floor(i / 2) % 3) + 1);
  const layout = { samples: 2, horizons: 3, nodes: 2 };
  close(horizonMetrics(pred, truth, layout, 1).mae, 1);
  close(horizonMetrics(pred, truth, layout, 3).mae, 3);
  close(horizonMetrics(pred, truth, layout, 'all').mae, 2);
  close(horizonMetrics(pred, truth, layout, 2).mape, (2 / 30 + 2 / 40 + 2 / 90 + 2 / 100) / 4);
});

/** 2 sensors, 4 steps per day, 40 steps: sensor 0 reads 10·(slot+1), sensor 1 reads 5 except step 13 missing. */
function toyNetwork() {
  const steps = 40;
  const values = new Float64Array(steps * 2);
  for (let t = 0; t < steps; t++) {
    values[t * 2] = 10 * ((t % 4) + 1) + (t >= 20 ? 1000 : 0);
    values[t * 2 + 1] = t === 13 ? 0 : 5;
  }
  return { values, sensorIds: ['a', 'b'] };
}

test('targets: sample s reads targets from steps s+12…s+23', () => {
  const net = toyNetwork();
  const targets = forecastTargets(net, { start: 2, end: 3 });
  assert.equal(targets.length, 24);
  assert.equal(targets[0], net.values[14 * 2]);
  assert.equal(targets[23], net.values[25 * 2 + 1]);
});

test('last value repeats the last valid input reading; sample 2 ends at step 13 where sensor b is missing', () => {
  const net = toyNetwork();
  const last = lastValueForecast(net, { start: 2, end: 3 }, new Float64Array([-1, -1]));
  for (let h = 0; h < 12; h++) {
    assert.equal(last[h * 2], 10 * ((13 % 4) + 1));
    assert.equal(last[h * 2 + 1], 5);
  }
  const allMissing = { values: new Float64Array(30 * 1), sensorIds: ['z'] };
  assert.deepEqual([...lastValueForecast(allMissing, { start: 0, end: 1 }, new Float64Array([7]))], Array(12).fill(7));
});

test('historical average: per sensor × slot mean over training steps only', () => {
  const net = toyNetwork();
  const ha = fitHistoricalAverage(net, 20, 4);
  // training steps 0…19: sensor a reads 10·(slot+1) exactly (the +1000 regime starts at step 20)
  for (let slot = 0; slot < 4; slot++) {
    assert.equal(ha.table[slot * 2], 10 * (slot + 1));
    assert.equal(ha.table[slot * 2 + 1], 5);
  }
  const forecast = historicalAverageForecast(ha, 2, { start: 5, end: 6 });
  for (let h = 0; h < 12; h++) assert.equal(forecast[h * 2], 10 * (((5 + 12 + h) % 4) + 1));
  close(sensorMeans(net, 20)[0]!, 25);
});
