import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { z } from 'zod';
import { addSchemaOptions } from '../schema-options.js';
import { epochLine, gwnWidthFields, gwnWidthOf, jsonFields, metricCells, storedRunNote } from './st-common.js';

test('st common: width fields and flags carry the verb defaults; one flag sets residual and dilation channels', () => {
  const schema = z.object({ ...gwnWidthFields({ residual: 8, skip: 32, end: 64 }), ...jsonFields });
  assert.deepEqual(schema.parse({}), { residualChannels: 8, skipChannels: 32, endChannels: 64, json: false });
  assert.deepEqual(schema.parse({ residualChannels: '4', json: true }), { residualChannels: 4, skipChannels: 32, endChannels: 64, json: true });
  assert.equal(schema.safeParse({ skipChannels: 0 }).success, false);
  assert.equal(schema.safeParse({ residualChannels: '0' }).success, false);
  assert.deepEqual(gwnWidthOf({ residualChannels: 4, skipChannels: 16, endChannels: 24 }), { residualChannels: 4, dilationChannels: 4, skipChannels: 16, endChannels: 24 });

  const command = new Command('x').exitOverride();
  addSchemaOptions(command, z.object({ ...gwnWidthFields({ residual: 32, skip: 256, end: 512 }), ...jsonFields }));
  assert.deepEqual(command.options.map((o) => [o.long, o.defaultValue]), [
    ['--residual-channels', '32'],
    ['--skip-channels', '256'],
    ['--end-channels', '512'],
    ['--json', undefined],
  ]);
  command.parse(['--skip-channels', '16', '--json'], { from: 'user' });
  assert.deepEqual(command.opts(), { residualChannels: '32', skipChannels: '16', endChannels: '512', json: true });
});

test('st common: printed lines', () => {
  assert.equal(epochLine({ epoch: 2, trainLoss: 1.23456, valMae: 2.5, seconds: 12.34 }), 'epoch 2: train masked MAE 1.235, val MAE 2.500 (12.3 s)');
  assert.equal(epochLine({ epoch: 1, trainLoss: 1, valMae: 2, seconds: 3 }, 'stage 0'), 'stage 0 epoch 1: train masked MAE 1.000, val MAE 2.000 (3.0 s)');
  assert.equal(metricCells({ mae: 3.14159, rmse: 4.5, mape: 0.12345 }), '3.142 | 4.500 | 12.35');
  assert.equal(storedRunNote('runs/a', 'artifacts/results.json'), '\nrun stored in runs/a (artifacts/results.json; `modelevo runs show runs/a`)\n');
});
