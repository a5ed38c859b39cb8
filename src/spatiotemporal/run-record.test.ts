import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { StRun } from './run-record.js';

test('StRun: epochs per model index, weights round trip, minimised fitness, kind and finished checks', () => {
  const root = mkdtempSync(join(tmpdir(), 'st-run-'));
  const dir = join(root, 'a');
  const run = StRun.open(dir, { kind: 'st-synevo', seed: 3, config: { cycles: 2 } });
  const weights = { w: { shape: [2, 2], data: Float32Array.from([1, -2, 3.5, 0.25]) } };
  run.recordEpoch({ epoch: 1, valMae: 4.5, seconds: 1, metrics: { zeroShotMae: 6 } }, { weights });
  run.recordEpoch({ epoch: 1, valMae: 3.5, seconds: 1, index: 1, key: 'model-1/epoch-1' });
  run.recordEpoch({ epoch: 2, valMae: 4.0, seconds: 1 });
  assert.deepEqual(run.epochs(0).map((r) => [r.epoch, r.valMae, r.metrics?.zeroShotMae]), [[1, 4.5, 6], [2, 4.0, undefined]]);
  assert.deepEqual(run.epochs(1).map((r) => r.key), ['model-1/epoch-1']);
  const last = run.lastEpoch();
  assert.equal(last?.epoch, 1);
  assert.deepEqual([...last!.weights.w!.data], [1, -2, 3.5, 0.25]);
  assert.deepEqual(last!.weights.w!.shape, [2, 2]);
  run.finish({ ok: true });
  assert.deepEqual(StRun.results(dir), { ok: true });
  const refused = (kind: string): string => {
    try {
      StRun.open(dir, { kind, seed: 3, config: { cycles: 2 }, resume: true });
    } catch (e) {
      assert.ok(e instanceof ModelevoError && e.code === 'CONFIG_INVALID');
      return e.message;
    }
    return 'not refused';
  };
  assert.match(refused('st-coms2t'), /holds a 'st-synevo' run, expected 'st-coms2t'/);
  assert.match(refused('st-synevo'), /already holds a finished st-synevo run/);
});
