import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from './tf.js';
import { batchNorm1dTrain, conv1d, conv1dOutputLength, convTranspose1d, convTranspose1dOutputLength, dense } from './ops.js';
import { createRng } from '../../../src/core/rng.js';

function randomArray(n: number, key: string): Float32Array {
  const rng = createRng('ops-test', key);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** PyTorch Conv1d semantics in float64 loops. */
function conv1dReference(x: Float32Array, [b, ci, l]: number[], w: Float32Array, [co, , k]: number[], bias: Float32Array, s: number, p: number): Float64Array {
  const lo = conv1dOutputLength(l!, k!, s, p);
  const out = new Float64Array(b! * co! * lo);
  for (let n = 0; n < b!; n++)
    for (let o = 0; o < co!; o++)
      for (let j = 0; j < lo; j++) {
        let acc = bias[o]!;
        for (let c = 0; c < ci!; c++)
          for (let t = 0; t < k!; t++) {
            const pos = j * s + t - p;
            if (pos >= 0 && pos < l!) acc += w[(o * ci! + c) * k! + t]! * x[(n * ci! + c) * l! + pos]!;
          }
        out[(n * co! + o) * lo + j] = acc;
      }
  return out;
}

/** PyTorch ConvTranspose1d semantics (scatter form) in float64 loops; weight [ci, co, k]. */
function convTransposeReference(x: Float32Array, [b, ci, l]: number[], w: Float32Array, [, co, k]: number[], bias: Float32Array, s: number, p: number, op: number): Float64Array {
  const lo = convTranspose1dOutputLength(l!, k!, s, p, op);
  const out = new Float64Array(b! * co! * lo);
  for (let n = 0; n < b!; n++)
    for (let o = 0; o < co!; o++) for (let j = 0; j < lo; j++) out[(n * co! + o) * lo + j] = bias[o]!;
  for (let n = 0; n < b!; n++)
    for (let c = 0; c < ci!; c++)
      for (let i = 0; i < l!; i++)
        for (let o = 0; o < co!; o++)
          for (let t = 0; t < k!; t++) {
            const pos = i * s + t - p;
            if (pos >= 0 && pos < lo) out[(n * co! + o) * lo + pos]! += x[(n * ci! + c) * l! + i]! * w[(c * co! + o) * k! + t]!;
          }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    assert.ok(diff <= tolerance * Math.max(1, Math.abs(expected[i]!)), `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const CONV_CASES = [
  { b: 2, ci: 3, l: 9, co: 4, k: 3, s: 1, p: 1 },
  { b: 2, ci: 5, l: 11, co: 2, k: 4, s: 2, p: 1 },
  { b: 1, ci: 2, l: 1, co: 3, k: 3, s: 2, p: 1 },
  { b: 3, ci: 4, l: 25, co: 6, k: 7, s: 2, p: 3 },
];

for (const backend of ['cpu', 'wasm'] as const) {
  test(`conv1d matches torch semantics (float64 loops) on ${backend}`, async () => {
    await useBackend(backend);
    for (const c of CONV_CASES) {
      const x = randomArray(c.b * c.ci * c.l, `x${c.l}`);
      const w = randomArray(c.co * c.ci * c.k, `w${c.l}`);
      const bias = randomArray(c.co, `b${c.l}`);
      const expected = conv1dReference(x, [c.b, c.ci, c.l], w, [c.co, c.ci, c.k], bias, c.s, c.p);
      const actual = tf.tidy(() =>
        conv1d(tf.tensor3d(x, [c.b, c.ci, c.l]), tf.tensor3d(w, [c.co, c.ci, c.k]), tf.tensor1d(bias), { stride: c.s, padding: c.p }).dataSync(),
      );
      assertClose(actual, expected, 1e-5, `conv1d ${JSON.stringify(c)}`);
    }
  });

  test(`convTranspose1d matches torch semantics (float64 loops) on ${backend}`, async () => {
    await useBackend(backend);
    for (const c of CONV_CASES) {
      for (const op of [0, c.s - 1]) {
        const x = randomArray(c.b * c.ci * c.l, `tx${c.l}`);
        const w = randomArray(c.ci * c.co * c.k, `tw${c.l}`);
        const bias = randomArray(c.co, `tb${c.l}`);
        const expected = convTransposeReference(x, [c.b, c.ci, c.l], w, [c.ci, c.co, c.k], bias, c.s, c.p, op);
        const actual = tf.tidy(() =>
          convTranspose1d(tf.tensor3d(x, [c.b, c.ci, c.l]), tf.tensor3d(w, [c.ci, c.co, c.k]), tf.tensor1d(bias), { stride: c.s, padding: c.p, outputPadding: op }).dataSync(),
        );
        assertClose(actual, expected, 1e-5, `convTranspose1d ${JSON.stringify(c)} op ${op}`);
      }
    }
  });
}

/**
 * Central finite differences of a scalar loss (projection of the layer output on fixed random weights) in
 * float32 on the cpu backend, compared with tfjs autodiff. The loss is linear or quadratic in each weight,
 * so the step error is small and float32 rounding dominates; the tolerance reflects that.
 */
function checkGradients(name: string, inputs: tf.Tensor[], layer: (...xs: tf.Tensor[]) => tf.Tensor): void {
  const projection = tf.tidy(() => {
    const shape = layer(...inputs).shape;
    return tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), `proj-${name}`), shape);
  });
  const loss = (...xs: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(layer(...xs), projection));
  const analytic = tf.grads(loss)(inputs).map((g) => g.dataSync());
  const eps = 1e-2;
  inputs.forEach((input, which) => {
    const values = input.dataSync().slice();
    const rng = createRng('fd', name, which);
    for (let trial = 0; trial < Math.min(12, values.length); trial++) {
      const i = rng.int(values.length);
      const evalAt = (delta: number): number => {
        const moved = values.slice();
        moved[i] = values[i]! + delta;
        const args = inputs.map((t, j) => (j === which ? tf.tensor(moved, t.shape) : t));
        const out = tf.tidy(() => loss(...args).dataSync()[0]!);
        args.forEach((t, j) => j === which && t.dispose());
        return out;
      };
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      const got = analytic[which]![i]!;
      assert.ok(Math.abs(got - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)), `${name} input ${which} element ${i}: autodiff ${got} vs finite difference ${numeric}`);
    }
  });
}

test('gradients of conv1d, convTranspose1d, batch norm and dense match finite differences (cpu)', async () => {
  await useBackend('cpu');
  const t = (shape: number[], key: string): tf.Tensor => tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), key), shape);
  checkGradients('conv1d-s2', [t([2, 3, 10], 'gx'), t([4, 3, 3], 'gw'), t([4], 'gb')], (x, w, b) =>
    conv1d(x as tf.Tensor3D, w as tf.Tensor3D, b as tf.Tensor1D, { stride: 2, padding: 1 }),
  );
  checkGradients('convT-s2', [t([2, 4, 5], 'hx'), t([4, 3, 3], 'hw'), t([3], 'hb')], (x, w, b) =>
    convTranspose1d(x as tf.Tensor3D, w as tf.Tensor3D, b as tf.Tensor1D, { stride: 2, padding: 1, outputPadding: 1 }),
  );
  checkGradients('batchnorm', [t([4, 3, 6], 'nx'), t([3], 'ng'), t([3], 'nb')], (x, g, b) =>
    batchNorm1dTrain(x as tf.Tensor3D, g as tf.Tensor1D, b as tf.Tensor1D).output,
  );
  checkGradients('dense-relu', [t([5, 7], 'dx'), t([3, 7], 'dw'), t([3], 'db')], (x, w, b) => tf.relu(dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D)));
});

test('wasm autodiff gradients of conv1d and convTranspose1d equal cpu ones', async () => {
  const run = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
    await useBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor3d(randomArray(2 * 3 * 12, 'wx'), [2, 3, 12]);
      const w1 = tf.tensor3d(randomArray(5 * 3 * 4, 'w1'), [5, 3, 4]);
      const w2 = tf.tensor3d(randomArray(5 * 3 * 4, 'w2'), [5, 3, 4]);
      const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const h = tf.relu(conv1d(x, a as tf.Tensor3D, undefined, { stride: 2, padding: 1 }));
        const y = convTranspose1d(h, b as tf.Tensor3D, undefined, { stride: 2, padding: 1, outputPadding: 0 });
        return tf.mean(tf.square(tf.sub(y, x)));
      };
      return tf.grads(loss)([w1, w2]).map((g) => g.dataSync() as Float32Array);
    });
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  cpu.forEach((g, i) => assertClose(wasm[i]!, g, 1e-4, `grad ${i}`));
});
