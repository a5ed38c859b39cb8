import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import type { ContinualTask, TaskStream } from '../tasks/fashion-mnist/streams.js';
import { createBasisMemoryStrategy } from './basis-memory-strategy.js';
import { parseContinualConfig } from './config.js';
import { ContinualMlp } from './mlp.js';
import type { StrategyContext } from './strategy.js';

const DIM = 3;

function task(id: number): ContinualTask {
  const x = Float32Array.from({ length: 4 * DIM }, (_, i) => (i % 5) + id);
  const set = { x, y: Int32Array.from([0, 1, 0, 1]), n: 4 };
  return { id, name: `t${id}`, train: set, test: set, classes: null };
}

test('basis-memory strategy: the rule sees each protected layer once per task; reports bases, sizes and Λ (I as ones)', () => {
  const net = new ContinualMlp([DIM, 4, 2], 1, { batch: 4 });
  const stream: TaskStream = { name: 'pfmnist', inputDim: DIM, numClasses: 2, sharedHead: false, tasks: [task(0), task(1)] };
  const config = parseContinualConfig({ method: 'gpm', benchmark: 'pfmnist', representationSamples: 4 });
  const seen: { rows: number; columns: number; threshold: number }[] = [];
  // memory = how many tasks this layer has seen; layer l stores that many unit columns of R's row space
  const strategy = createBasisMemoryStrategy<number>(2, {
    name: 'gpm',
    empty: () => 0,
    update: (count, R, threshold) => {
      seen.push({ rows: R.rows, columns: R.columns, threshold });
      return count + 1;
    },
    basis: (count) => (count === 0 ? null : Matrix.eye(DIM, count)),
    importance: (count) => (count === 2 ? [0.5, 0.25] : null),
  });
  try {
    assert.deepEqual(strategy.basisSizes(), [0, 0]);
    assert.deepEqual(strategy.importances(), [[], []]);
    const ctx: StrategyContext = { config, stream, net, protectedLayers: [0], taskId: 0, epoch: 0 };
    strategy.beginTask(ctx);
    strategy.endTask(stream.tasks[0]!, ctx);
    assert.deepEqual(seen, [{ rows: DIM, columns: 4, threshold: config.gpmThresholds[0] }], 'only the protected layer, with its input-dim representation');
    assert.deepEqual(strategy.basisSizes(), [1, 0]);
    assert.deepEqual(strategy.importances(), [[1], []], 'Λ = I is reported as ones');
    strategy.endTask(stream.tasks[1]!, { ...ctx, taskId: 1 });
    assert.deepEqual(strategy.basisSizes(), [2, 0]);
    assert.deepEqual(strategy.importances(), [[0.5, 0.25], []]);
    assert.deepEqual(strategy.bases()[0]!.to2DArray(), Matrix.eye(DIM, 2).to2DArray());
    assert.equal(strategy.bases()[1], null);
  } finally {
    strategy.dispose();
  }
});
