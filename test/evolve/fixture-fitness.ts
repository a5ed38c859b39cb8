/**
 * A cheap, deterministic fitness over real merged checkpoints for orchestration tests: the negative
 * distance of two small tensors to a target built from the experts (maximised). Not a language-model score.
 */
import type { FitnessSource } from '../../src/evolve/fitness/fitness.js';
import { openCheckpoint } from '../../src/io/open.js';

export const FIXTURES = 'test/fixtures/tiny-llama';
export const EXPERTS = ['expert-literature', 'expert-code', 'expert-math'].map((m) => `${FIXTURES}/${m}`);
export const BASE = `${FIXTURES}/base`;
const TENSORS = ['model.norm.weight', 'model.layers.1.input_layernorm.weight'];

export function targetFitness(): FitnessSource {
  const experts = EXPERTS.map((ref) => openCheckpoint(ref));
  // target: 0.7·literature + 0.5·code − 0.2·math per element (reachable by task arithmetic, not by averaging)
  const target = TENSORS.map((name) => {
    const [a, b, c] = experts.map((e) => e.readFloat32(name)) as [Float32Array, Float32Array, Float32Array];
    return a.map((v, i) => 0.7 * v + 0.5 * b[i]! - 0.2 * c[i]!);
  });
  experts.forEach((e) => e.close());
  return {
    name: 'target-distance',
    objective: 'max',
    needsFolder: false,
    async evaluate({ checkpoint }) {
      let sum = 0;
      TENSORS.forEach((name, t) => {
        const values = checkpoint.readFloat32(name);
        values.forEach((v, i) => (sum += (v - target[t]![i]!) ** 2));
      });
      return { score: -Math.sqrt(sum), metrics: { distance: Math.sqrt(sum) } };
    },
  };
}
