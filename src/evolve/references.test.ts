import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCheckpoint } from '../io/open.js';
import { parseEvolveConfig } from './config.js';
import type { FitnessSource } from './fitness/fitness.js';
import { referenceFitness } from './references.js';

const TENSOR = 'model.layers.0.self_attn.q_proj.weight';

/** a stand-in fitness: one weight of the candidate, so each reference can be checked against the file */
const probe = (needsFolder = false): FitnessSource => ({
  name: 'probe',
  objective: 'min',
  needsFolder,
  evaluate: async ({ checkpoint }) => ({ score: checkpoint.readFloat32(TENSOR)[5]! }),
});

const direct = (ref: string) => {
  const c = openCheckpoint(ref);
  try {
    return c.readFloat32(TENSOR)[5]!;
  } finally {
    c.close();
  }
};

test('reference lines score the base and every input model with the run fitness; LoRA references are base + adapter', async () => {
  const f = 'test/fixtures';
  const config = parseEvolveConfig({
    base_model: `${f}/tiny-llama/base`,
    models: [`${f}/tiny-llama-v2/expert-code`, `${f}/tiny-llama-v2/expert-math`],
    strategy: { name: 'cma-es', genome: { merge_method: 'task_arithmetic' } },
    fitness: { builtin: { texts: { code: `${f}/text/code.val.txt` } } },
  });
  const lines = await referenceFitness(config, probe(), process.cwd());
  assert.deepEqual(lines.map((l) => l.label), [`base ${f}/tiny-llama/base`, `${f}/tiny-llama-v2/expert-code`, `${f}/tiny-llama-v2/expert-math`]);
  assert.deepEqual(lines.map((l) => l.fitness), [direct(`${f}/tiny-llama/base`), direct(`${f}/tiny-llama-v2/expert-code`), direct(`${f}/tiny-llama-v2/expert-math`)]);

  const lora = parseEvolveConfig({
    base_model: `${f}/tiny-llama/base`,
    strategy: { name: 'lorahub', adapters: [`${f}/tiny-llama/lora-code`, `${f}/tiny-llama/lora-math`] },
    fitness: { builtin: { texts: { code: `${f}/text/code.val.txt` } } },
  });
  const loraLines = await referenceFitness(lora, probe(), process.cwd());
  assert.equal(loraLines.length, 3);
  assert.equal(loraLines[1]!.label, `base + ${f}/tiny-llama/lora-code`);
  assert.equal(loraLines[1]!.fitness, direct(`${f}/tiny-llama/base+${f}/tiny-llama/lora-code`));
  // sources that need each model written to a folder (external commands) are skipped
  assert.deepEqual(await referenceFitness(config, probe(true), process.cwd()), []);
});
