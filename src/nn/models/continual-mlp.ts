/**
 * The continual-learning MLP on the engine (src/continual/mlp.ts, GPM's PMNIST network): 784-100-100-10,
 * ReLU, no biases (gradient projection assumes bias-free layers), softmax cross-entropy.
 */
import type { ModelSpec } from '../model.js';

export const CONTINUAL_MLP: ModelSpec = {
  inputShape: [784],
  layers: [
    { kind: 'linear', units: 100, activation: 'relu', bias: false },
    { kind: 'linear', units: 100, activation: 'relu', bias: false },
    { kind: 'linear', units: 10, bias: false },
  ],
  loss: { kind: 'softmax_cross_entropy' },
};
