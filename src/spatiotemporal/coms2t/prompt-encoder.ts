/**
 * ComS2T's prompt networks (coms2t.md §2): tensor names, shapes and their seeded initialisation.
 * - temporal branch 13 → prompt_dim (ReLU) → 2, spatial branch 2 → prompt_dim (ReLU) → 2; the encoder's output
 *   is the element-wise product of the two 2-vectors, trained to predict [mean, population variance] of the
 *   node's next 12 readings (features.ts);
 * - the hidden activations are the temporal and spatial prompts; tanh(Linear_t(prompt_t)) + tanh(Linear_s(
 *   prompt_s)) (each prompt_dim → 13) is added to the value channel of the input, left-padded to 13 steps.
 * Our GWN reads 2 channels (value, time of day); the prompt enters the value channel, which is the only channel
 * of the ComS2T code's backbone input. With zero projection weights and biases the prompt is tanh(0) + tanh(0) = 0
 * and the output equals plain GWN. The networks run on the training engine: prompt-engine.ts (encoder and signal),
 * prompted-gwn.ts (signal + backbone).
 */
import { createRng } from '../../core/rng.js';
import type { GwnWeights } from '../gwn-config.js';
import { INPUT_STEPS } from '../../tasks/traffic/windows.js';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES } from './features.js';

export const DEFAULT_PROMPT_DIM = 32;
/** the prompt spans the 13-step receptive field of the paper's backbone (12 inputs left-padded by one) */
export const PROMPT_STEPS = INPUT_STEPS + 1;

export const ENCODER_PREFIX = 'prompt.encoder.';
export const PROJECTION_PREFIX = 'prompt.project.';

/** True for the prompt encoder's tensors (the only ones Stage 2 updates). */
export function isEncoderTensor(name: string): boolean {
  return name.startsWith(ENCODER_PREFIX);
}

/** True for every prompt tensor (encoder and projections). */
export function isPromptTensor(name: string): boolean {
  return name.startsWith(ENCODER_PREFIX) || name.startsWith(PROJECTION_PREFIX);
}

/** Seeded init, PyTorch's nn.Linear default U(±1/√fan_in) for weights and biases. */
export function initialPromptWeights(seed: number | string, promptDim = DEFAULT_PROMPT_DIM): GwnWeights {
  const layers: [string, number, number][] = [
    [`${ENCODER_PREFIX}temporal.hidden`, TEMPORAL_FEATURES, promptDim],
    [`${ENCODER_PREFIX}temporal.out`, promptDim, 2],
    [`${ENCODER_PREFIX}spatial.hidden`, SPATIAL_FEATURES, promptDim],
    [`${ENCODER_PREFIX}spatial.out`, promptDim, 2],
    [`${PROJECTION_PREFIX}temporal`, promptDim, PROMPT_STEPS],
    [`${PROJECTION_PREFIX}spatial`, promptDim, PROMPT_STEPS],
  ];
  const weights: GwnWeights = {};
  for (const [name, fanIn, out] of layers) {
    const bound = 1 / Math.sqrt(fanIn);
    const rng = createRng('coms2t-prompt-init', seed, name);
    const weight = new Float32Array(fanIn * out).map(() => (2 * rng.next() - 1) * bound);
    const bias = new Float32Array(out).map(() => (2 * rng.next() - 1) * bound);
    weights[`${name}.weight`] = { shape: [fanIn, out], data: weight };
    weights[`${name}.bias`] = { shape: [out], data: bias };
  }
  return weights;
}
