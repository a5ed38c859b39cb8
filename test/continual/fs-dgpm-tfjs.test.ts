/**
 * Issue #22, FS-DGPM on the engine: the hand-written derivatives of the sharpness objective
 * mean_c L_all(w + v_c), v_c = Σ_{c′≤c} clip(η₁·g_{c′}·M·Λ·Mᵀ) (src/continual/strategies/fs-dgpm.ts) equal tfjs
 * autodiff of the same objective as the previous tfjs implementation wrote it, on the same weights, bases,
 * λ and masked batches, with some entries clipped and some not. Lives in test/ because src/continual no longer
 * imports tfjs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { tf, useBackend } from '../../test/support/tfjs/tf.js';
import { createRng } from '../../src/core/rng.js';
import { ContinualMlp } from '../../src/continual/mlp.js';
import { ProjectionWorkspace } from '../../src/continual/projection.js';
import { sharpnessGradients } from '../../src/continual/strategies/fs-dgpm.js';
import type { TrainBatch } from '../../src/continual/strategy.js';
import { classMask, initTfMlpWeights, maskedCrossEntropy, mlpForward } from '../support/tfjs-continual-mlp.js';

before(async () => {
  await useBackend('cpu');
});

const SIZES = [12, 100, 100, 3];

function orthonormal(rows: number, columns: number, seed: string): Matrix {
  const rng = createRng(seed);
  const A = Matrix.from1DArray(rows, columns, Array.from({ length: rows * columns }, () => rng.normal()));
  return new QrDecomposition(A).orthogonalMatrix.subMatrix(0, rows - 1, 0, columns - 1);
}

function batch(n: number, classes: readonly number[] | null, seed: string): TrainBatch {
  const rng = createRng(seed);
  return {
    x: Float32Array.from({ length: n * SIZES[0]! }, () => rng.next()),
    y: Int32Array.from({ length: n }, (_, i) => (classes ? classes[i % classes.length]! : i % 3)),
    mask: classMask(classes, 3, n),
    n,
    taskId: 0,
  };
}

test('FS-DGPM sharpness derivatives (weights and λ, with clipping and masks) equal tfjs autodiff of the same objective', () => {
  const net = new ContinualMlp(SIZES, 3, { batch: 10, kernels: 'wasm' });
  const ws = new ProjectionWorkspace(SIZES.slice(1).map((out, l) => ({ out, in: SIZES[l]! })));
  const ranks = [4, 7, 5];
  const bases = ranks.map((r, l) => orthonormal(SIZES[l]!, r, `basis-${l}`));
  // the head (layer 2) unprotected, as on a task-incremental stream
  const rng = createRng('lambda');
  const lambdas = [0, 1, 2].map((l) => (l < 2 ? Float32Array.from({ length: ranks[l]! }, () => 0.2 + 0.8 * rng.next()) : null));
  bases.forEach((M, l) => ws.setBasis(l, l < 2 ? M : null));
  const current = batch(10, [0, 1], 'current');
  const replay = batch(10, null, 'replay');
  const all: TrainBatch = {
    x: Float32Array.of(...current.x, ...replay.x),
    y: Int32Array.of(...current.y, ...replay.y),
    mask: Float32Array.of(...current.mask, ...replay.mask),
    n: 20,
    taskId: 0,
  };
  const config = { innerBatches: 2, eta1: 3, gradClip: 0.0005 };
  const ours = sharpnessGradients(net, ws, lambdas, current, all, config);

  // tfjs: the previous implementation's objective, differentiated by tf.variableGrads
  const weights = initTfMlpWeights(SIZES, 3);
  const basisTensors = bases.map((M) => tf.tensor2d(M.to2DArray()));
  const lambdaVars = lambdas.map((lambda) => (lambda ? tf.variable(tf.tensor1d(lambda), true) : null));
  const tensors = (b: TrainBatch) => ({
    x: tf.tensor2d(b.x, [b.n, SIZES[0]!]),
    labels: tf.oneHot(tf.tensor1d(b.y, 'int32'), 3).toFloat() as tf.Tensor2D,
    mask: tf.tensor2d(b.mask, [b.n, 3]),
  });
  const loss = (ws: tf.Tensor2D[], t: ReturnType<typeof tensors>): tf.Scalar => maskedCrossEntropy(mlpForward(ws, t.x).logits, t.labels, t.mask);
  const component = (g: tf.Tensor2D, l: number): tf.Tensor2D => tf.matMul(tf.mul(tf.matMul(g, basisTensors[l]!), lambdaVars[l]!), basisTensors[l]!, false, true);
  const chunks = [tensors({ ...current, x: current.x.subarray(0, 60), y: current.y.subarray(0, 5), mask: current.mask.subarray(0, 15), n: 5 }), tensors({ ...current, x: current.x.subarray(60), y: current.y.subarray(5), mask: current.mask.subarray(15), n: 5 })];
  const allTensors = tensors(all);
  const inner: tf.Tensor2D[][] = [];
  let v = weights.map((w) => tf.zerosLike(w) as tf.Tensor2D);
  let clipped = 0;
  let passed = 0;
  for (let c = 0; c < 2; c++) {
    const perturbed = weights.map((w, l) => tf.add(w, v[l]!) as tf.Tensor2D);
    const g = tf.grads((...w: tf.Tensor[]) => loss(w as tf.Tensor2D[], chunks[c]!))(perturbed) as tf.Tensor2D[];
    inner.push(g);
    v = v.map((vl, l) => {
      if (!lambdaVars[l]) return vl;
      const raw = tf.mul(component(g[l]!, l), config.eta1);
      for (const value of raw.dataSync()) Math.abs(value) > config.gradClip ? clipped++ : passed++;
      return tf.add(vl, tf.clipByValue(raw, -config.gradClip, config.gradClip)) as tf.Tensor2D;
    });
  }
  assert.ok(clipped > 100 && passed > 100, `the case must clip some entries and pass others (clipped ${clipped}, passed ${passed})`);
  const variables = [...weights, ...lambdaVars.filter((x): x is tf.Variable<tf.Rank.R1> => x !== null)];
  const { value, grads } = tf.variableGrads(() => {
    let taped = weights.map((w) => tf.zerosLike(w) as tf.Tensor2D);
    const losses: tf.Scalar[] = [];
    for (let c = 0; c < 2; c++) {
      taped = taped.map((vl, l) => (lambdaVars[l] ? (tf.add(vl, tf.clipByValue(tf.mul(component(inner[c]![l]!, l), config.eta1), -config.gradClip, config.gradClip)) as tf.Tensor2D) : vl));
      losses.push(loss(weights.map((w, l) => (lambdaVars[l] ? (tf.add(w, taped[l]!) as tf.Tensor2D) : w)), allTensors));
    }
    return tf.mean(tf.stack(losses)) as tf.Scalar;
  }, variables);

  assert.ok(Math.abs(ours.loss - value.dataSync()[0]!) < 1e-5, `loss ${ours.loss} vs tfjs ${value.dataSync()[0]}`);
  const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol: number): void => {
    assert.equal(a.length, b.length, what);
    let scale = 0;
    for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
    assert.ok(scale > 0, `${what}: a non-zero reference`);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * scale, `${what}[${i}]: engine ${a[i]} vs tfjs ${b[i]}`);
  };
  weights.forEach((w, l) => {
    const offset = net.layerOffsets[l]!;
    close(ours.weights.subarray(offset, offset + net.layerSize(l)), grads[w.name]!.dataSync(), `dW${l}`, 1e-4);
  });
  lambdaVars.forEach((lambda, l) => {
    if (!lambda) return assert.equal(ours.lambdas[l], null);
    close(ours.lambdas[l]!, grads[lambda.name]!.dataSync(), `dλ${l}`, 1e-3);
  });
});
