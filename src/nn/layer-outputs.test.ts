/** Model.layerOutputs: each layer's output view holds that layer's forward result (what GPM reads as inputs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from './model.js';
import { createRng } from '../core/rng.js';
import { createReferenceKernels } from './kernels/reference/index.js';

test('layerOutputs are the per-layer activations: relu(x·W1ᵀ), then relu(h1·W2ᵀ), the last one is the output', () => {
  const [batch, inF, hidden, outF] = [3, 5, 4, 2];
  const model = Model.compile(
    {
      inputShape: [inF],
      layers: [
        { kind: 'linear', units: hidden, activation: 'relu', bias: false },
        { kind: 'linear', units: outF, bias: false },
      ],
      loss: { kind: 'softmax_cross_entropy' },
    },
    { batch, kernels: (floats) => createReferenceKernels(floats, 'float64'), seed: 1 },
  );
  const rng = createRng('layer-outputs');
  const x = Float64Array.from({ length: batch * inF }, () => rng.next() * 2 - 1);
  model.view(model.input).set(x);
  model.forward(false);
  assert.equal(model.layerOutputs.length, 2);
  assert.equal(model.layerOutputs[1], model.output);
  assert.deepEqual(model.layerOutputs[0]!.shape, [batch, hidden]);
  // independent recomputation from the parameter values
  const w1 = model.param('0.linear.weight');
  const w2 = model.param('1.linear.weight');
  const h = model.view(model.layerOutputs[0]!);
  const y = model.view(model.output);
  for (let r = 0; r < batch; r++) {
    const h1 = Array.from({ length: hidden }, (_, o) => Math.max(0, Array.from({ length: inF }, (_, i) => x[r * inF + i]! * w1[o * inF + i]!).reduce((a, b) => a + b, 0)));
    h1.forEach((v, o) => assert.ok(Math.abs(h[r * hidden + o]! - v) < 1e-12, `h1[${r}, ${o}]`));
    for (let o = 0; o < outF; o++) {
      const expected = h1.reduce((a, v, i) => a + v * w2[o * hidden + i]!, 0);
      assert.ok(Math.abs(y[r * outF + o]! - expected) < 1e-12, `y[${r}, ${o}]`);
    }
  }
});
