/**
 * Golden runs of FS-DGPM (issue #13, the speed-up): short runs through the sharpness path whose every float
 * was recorded at commit feda2fa, before the step was rewritten for speed. The rewrite keeps the arithmetic
 * (same operations in the same order, same GEMM shapes), so the trained weights, the λ trace and the accuracy
 * matrix must stay bit-identical; a hash of the raw float bytes pins them. Covered: a shared head with
 * glances and momentum, λ moving (large η₂), and a task-incremental stream (masked logits, unprotected head)
 * where a tiny clip bound clips some perturbation entries and lets others through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRng } from '../../core/rng.js';
import type { TaskStream } from '../../tasks/fashion-mnist/streams.js';
import { parseContinualConfig, type ContinualConfigInput } from '../config.js';
import { runContinual } from '../run.js';

const DIM = 48;
const CLASSES = 4;

function stream(sharedHead: boolean): TaskStream {
  const tasks = [0, 1, 2].map((id) => {
    const rng = createRng('fs-golden', id);
    const n = 40;
    const classes = sharedHead ? null : [id % CLASSES, (id + 1) % CLASSES];
    const y = Int32Array.from({ length: n }, (_, i) => (classes ? classes[i % 2]! : i % CLASSES));
    // two class- and task-dependent bright pixels per row, so the tasks are learnable and the matrix moves
    const x = new Float32Array(n * DIM);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < DIM; k++) x[r * DIM + k] = rng.next();
      x[r * DIM + ((y[r]! * 11 + id) % DIM)]! += 1.5;
      x[r * DIM + ((y[r]! * 7 + 3 * id + 1) % DIM)]! += 0.8;
    }
    const set = { x, y, n };
    return { id, name: `t${id}`, train: set, test: set, classes };
  });
  return { name: sharedHead ? 'pfmnist' : 'split-fmnist', inputDim: DIM, numClasses: CLASSES, sharedHead, tasks };
}

/** sha256 (first 16 hex digits) of float32 bytes */
function hashFloats(runs: readonly ArrayLike<number>[]): string {
  const hash = createHash('sha256');
  for (const run of runs) {
    const f = Float32Array.from(run);
    hash.update(Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  }
  return hash.digest('hex').slice(0, 16);
}

function golden(sharedHead: boolean, overrides: Partial<ContinualConfigInput>): { accuracy: number[][]; weights: string; lambdas: string; loss: number[] } {
  const config = parseContinualConfig({
    method: 'fs-dgpm',
    benchmark: sharedHead ? 'pfmnist' : 'split-fmnist',
    seed: 4,
    batchSize: 10,
    memoriesPerTask: 20,
    memoryBatch: 30,
    ...overrides,
  });
  const trace: number[][] = [];
  let weights: Float32Array[] = [];
  const result = runContinual(stream(sharedHead), config, {
    onStep: (strategy) => trace.push(strategy.importances().flat()),
    onTask: (_t, _row, _s, view) => (weights = view.weights.map((w) => Float32Array.from(w))),
  });
  return { accuracy: result.accuracy, weights: hashFloats(weights), lambdas: hashFloats(trace), loss: result.meanLoss };
}

test('FS-DGPM golden run, shared head, 3 glances, momentum 0.9, moving λ: bit-identical to the recorded run', () => {
  // λ ranges over [3.1e-7, 0.99996] in this run: it moves, down to the squash's clamp
  assert.deepEqual(golden(true, { lr: 0.05, glances: 3, momentum: 0.9, eta2: 20 }), {
    accuracy: [
      [0.975, 0.4, 0.15],
      [0.95, 0.775, 0.15],
      [0.75, 0.55, 0.475],
    ],
    weights: '4cfc32c34fc11b32',
    lambdas: '206ec012cbc79f72',
    loss: [1.2723697192012253, 1.225603749473572, 1.3181133345591358],
  });
});

test('FS-DGPM golden run, task-incremental, some perturbation entries clipped: bit-identical to the recorded run', () => {
  // about half the perturbation entries (129,052 of 236,800) are clipped in this run (counted at the recording)
  assert.deepEqual(golden(false, { lr: 0.1, eta1: 40, gradClip: 0.002, eta2: 5 }), {
    accuracy: [
      [0.875, 0.5, 0.275],
      [0.9, 0.525, 0.325],
      [0.95, 0.6, 0.475],
    ],
    weights: '035eb259bc96838a',
    lambdas: 'c816241cdd94d58b',
    loss: [0.660115496059947, 0.6926927768918689, 0.6900037542872002],
  });
});
