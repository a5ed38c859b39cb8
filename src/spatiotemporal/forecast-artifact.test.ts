import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { withTempDir } from '../../test/support/temp-dir.js';
import { readForecastIndex, readForecastSensor, writeForecastArtifact } from './forecast-artifact.js';

test('forecast artifact: each sensor at horizons 3 and 12 reads back the values of [sample][horizon][sensor]', () => {
  withTempDir('modelevo-forecast-', (dir) => {
    const layout = { samples: 7, horizons: 12, nodes: 3 };
    // value encodes its own position, so a misplaced read shows which index went wrong
    const at = (s: number, h: number, n: number) => s * 1000 + h * 10 + n;
    const predicted = new Float64Array(layout.samples * layout.horizons * layout.nodes);
    const truth = new Float64Array(predicted.length);
    for (let s = 0; s < layout.samples; s++) for (let h = 0; h < 12; h++) for (let n = 0; n < 3; n++) {
      predicted[(s * 12 + h) * 3 + n] = at(s, h, n) + 0.5;
      truth[(s * 12 + h) * 3 + n] = at(s, h, n);
    }
    const out = join(dir, 'forecast');
    writeForecastArtifact(out, { method: 'graph wavenet', predicted, truth, layout, sensorIds: ['a', 'b', 'c'] });
    assert.deepEqual(readForecastIndex(out), { method: 'graph wavenet', samples: 7, sensorIds: ['a', 'b', 'c'], horizons: [3, 12] });
    for (const horizon of [3, 12]) {
      for (let n = 0; n < 3; n++) {
        const read = readForecastSensor(out, n, horizon);
        assert.deepEqual([...read.truth], Array.from({ length: 7 }, (_, s) => at(s, horizon - 1, n)));
        assert.deepEqual([...read.forecast], Array.from({ length: 7 }, (_, s) => at(s, horizon - 1, n) + 0.5));
      }
    }
    for (const [sensor, horizon] of [[3, 3], [-1, 3], [0, 6]] as const) {
      assert.throws(() => readForecastSensor(out, sensor, horizon), (e: unknown) => e instanceof ModelevoError && e.code === 'VALUE_INVALID');
    }
    assert.throws(() => readForecastSensor(join(dir, 'none'), 0, 3), (e: unknown) => e instanceof ModelevoError && e.code === 'CHECKPOINT_NOT_FOUND');
    assert.throws(() => writeForecastArtifact(out, { method: 'x', predicted: predicted.subarray(1), truth, layout, sensorIds: ['a', 'b', 'c'] }), (e: unknown) => e instanceof ModelevoError && e.code === 'SHAPE_MISMATCH');
  });
});
