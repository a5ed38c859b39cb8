import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { seededPermutation, selectRows, type ContinualTask, type LabelledSet, type TaskStream } from '../tasks/fashion-mnist/streams.js';
import { parseContinualConfig } from './config.js';
import { runContinual } from './run.js';
import { runJoint } from './joint.js';

const DIM = 24;
const CLASSES = 4;

/** Gaussian class clusters; every task permutes the features (a miniature permuted stream) */
function stream(tasks: number): TaskStream {
  const make = (n: number, key: string): LabelledSet => {
    const rng = createRng(key);
    const centres = Array.from({ length: CLASSES }, (_, c) => Array.from({ length: DIM }, (_, k) => (createRng('joint-centre', c, k).next() < 0.3 ? 1.5 : 0)));
    const x = new Float32Array(n * DIM);
    const y = Int32Array.from({ length: n }, (_, i) => i % CLASSES);
    for (let i = 0; i < n; i++) for (let k = 0; k < DIM; k++) x[i * DIM + k] = Math.max(0, centres[y[i]!]![k]! + 0.6 * rng.normal());
    return { x, y, n };
  };
  const train = make(240, 'joint-train');
  const test = make(120, 'joint-test');
  const rows = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  const list: ContinualTask[] = Array.from({ length: tasks }, (_, t) => {
    const pixels = t === 0 ? undefined : seededPermutation(DIM, createRng('joint-perm', t));
    return { id: t, name: `t${t}`, train: selectRows(train, rows(train.n), pixels), test: selectRows(test, rows(test.n), pixels), classes: null };
  });
  return { name: 'pfmnist', inputDim: DIM, numClasses: CLASSES, sharedHead: true, tasks: list };
}

test('joint (multitask) upper bound: one final row, no BWT; learns every task where fine-tuning forgets the first', () => {
  const s = stream(3);
  const config = parseContinualConfig({ method: 'naive', benchmark: 'pfmnist', seed: 4, lr: 0.1, batchSize: 10, epochs: 3 });
  const joint = runJoint(s, config);
  assert.equal(joint.accuracy.length, 1);
  assert.equal(joint.accuracy[0]!.length, 3);
  assert.ok(Number.isNaN(joint.summary.bwt) && Number.isNaN(joint.summary.forgetting));
  assert.equal(joint.summary.acc, joint.accuracy[0]!.reduce((a, b) => a + b, 0) / 3);
  for (const accuracy of joint.accuracy[0]!) assert.ok(accuracy > 0.8, `joint accuracy per task ${joint.accuracy[0]}`);
  const naive = runContinual(s, config);
  assert.ok(joint.accuracy[0]![0]! > naive.accuracy[2]![0]!, `joint ${joint.accuracy[0]![0]} vs fine-tuned ${naive.accuracy[2]![0]} on task 0`);
  assert.deepEqual(runJoint(s, config).accuracy, joint.accuracy, 'deterministic for a seed');
});
