import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { forecastTargets } from './baselines.js';
import { maskedMetrics } from './metrics.js';
import { buildInputs, forecastGwn, prepareTraffic, trainGwn } from './gwn-trainer.js';

/** 3 sensors on a line, a daily sine (8 steps per day) plus a per-sensor offset; one missing reading. */
function sineNetwork(steps = 120): TrafficNetwork {
  const nodes = 3;
  const values = new Float64Array(steps * nodes);
  for (let t = 0; t < steps; t++) for (let n = 0; n < nodes; n++) values[t * nodes + n] = 50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8);
  values[40 * nodes + 1] = 0;
  return { sensorIds: ['a', 'b', 'c'], steps, values, adjacency: Float64Array.from([1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1]), source: 'synthetic' };
}

const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 16, dropout: 0 };

test('inputs are [N, B, 12, 2]: z-scored value and time of day', () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const x = buildInputs(prepared, [5]);
  assert.equal(x.length, 3 * 1 * 12 * 2);
  // node 2, step 5 + 3 = 8 → time of day 0
  const at = ((2 * 1 + 0) * 12 + 3) * 2;
  const raw = prepared.network.values[8 * 3 + 2]!;
  assert.ok(Math.abs(x[at]! - (raw - prepared.scaler.mean) / prepared.scaler.std) < 1e-5);
  assert.equal(x[at + 1], 0);
});

test('training lowers the masked MAE and keeps the best validation epoch', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const trained = await trainGwn(prepared, { epochs: 6, batchSize: 16, learningRate: 1e-2, weightDecay: 0, clipNorm: 5, seed: 3, config: TINY });
  assert.equal(trained.history.length, 6);
  const first = trained.history[0]!;
  const last = trained.history.at(-1)!;
  assert.ok(last.trainLoss < first.trainLoss, `train loss ${first.trainLoss} → ${last.trainLoss}`);
  const bestVal = Math.min(...trained.history.map((r) => r.valMae));
  assert.equal(trained.history[trained.bestEpoch - 1]!.valMae, bestVal);
  // the saved weights reproduce the best epoch's validation MAE
  const forecast = await forecastGwn(prepared, trained, prepared.splits.val);
  const mae = maskedMetrics(forecast, forecastTargets(prepared.network, prepared.splits.val)).mae;
  assert.ok(Math.abs(mae - bestVal) < 1e-6, `${mae} vs ${bestVal}`);
  assert.equal(forecast.length, (prepared.splits.val.end - prepared.splits.val.start) * 12 * 3);
});

test('early stopping: stops after `patience` epochs without a better validation MAE and returns the best epoch', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const base = { epochs: 40, batchSize: 16, learningRate: 5e-2, weightDecay: 0, clipNorm: 5, seed: 3, config: TINY };
  const full = await trainGwn(prepared, { ...base, epochs: 12 });
  // the reference: the first epoch after which `patience` epochs pass without a new best, read off the full curve
  const patience = 2;
  let best = Infinity;
  let since = 0;
  let expectedStop = full.history.length;
  for (const r of full.history) {
    if (r.valMae < best) [best, since] = [r.valMae, 0];
    else if (++since >= patience) {
      expectedStop = r.epoch;
      break;
    }
  }
  const stopped = await trainGwn(prepared, { ...base, epochs: 12, patience, trainScoreWindows: 10 });
  assert.equal(stopped.history.length, expectedStop);
  assert.equal(stopped.stopReason, expectedStop < 12 ? 'patience' : 'max-epochs');
  // same seed, same steps: the truncated curve is the full one's prefix
  assert.deepEqual(stopped.history.map((r) => r.valMae), full.history.slice(0, expectedStop).map((r) => r.valMae));
  const bestVal = Math.min(...stopped.history.map((r) => r.valMae));
  assert.equal(stopped.history[stopped.bestEpoch - 1]!.valMae, bestVal);
  const mae = maskedMetrics(await forecastGwn(prepared, stopped, prepared.splits.val), forecastTargets(prepared.network, prepared.splits.val)).mae;
  assert.ok(Math.abs(mae - bestVal) < 1e-6, 'restore-best: the returned weights score the best epoch');
  // the inference-mode train MAE is a real score on training windows
  assert.ok(stopped.history.every((r) => r.trainMae !== undefined && r.trainMae > 0 && Number.isFinite(r.trainMae)));
  // restoreBest false returns the last epoch's weights
  const lastKept = await trainGwn(prepared, { ...base, epochs: 3, restoreBest: false });
  const lastMae = maskedMetrics(await forecastGwn(prepared, lastKept, prepared.splits.val), forecastTargets(prepared.network, prepared.splits.val)).mae;
  assert.ok(Math.abs(lastMae - lastKept.history.at(-1)!.valMae) < 1e-6);
});
