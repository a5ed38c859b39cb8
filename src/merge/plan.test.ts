import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, ConfigError, ShapeMismatchError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { MemoryCheckpoint } from '../io/memory-checkpoint.js';
import { parseMergeConfig } from './config.js';
import type { MergeMethod } from './method.js';
import { buildMergePlan, type PlanModels } from './plan.js';

const LAYER_SUFFIXES = ['self_attn.q_proj.weight', 'mlp.down_proj.weight', 'input_layernorm.weight'];

/** A tiny llama-shaped model whose every value encodes (model id, tensor index) so sources are traceable. */
function tinyModel(
  id: number,
  options: { layers?: number; vocab?: number; tied?: boolean; torchDtype?: boolean; skip?: string; qShape?: number[] } = {},
): MemoryCheckpoint {
  const layers = options.layers ?? 4;
  const vocab = options.vocab ?? 6;
  const tensors: Record<string, { shape: number[]; values: number[] }> = {};
  const add = (name: string, shape: number[]): void => {
    if (name === options.skip) return;
    const n = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { shape, values: Array.from({ length: n }, (_, i) => id * 1000 + Object.keys(tensors).length + i / 100) };
  };
  add('model.embed_tokens.weight', [vocab, 2]);
  for (let l = 0; l < layers; l++) {
    add(`model.layers.${l}.self_attn.q_proj.weight`, options.qShape ?? [2, 2]);
    add(`model.layers.${l}.mlp.down_proj.weight`, [2, 3]);
    add(`model.layers.${l}.input_layernorm.weight`, [2]);
  }
  add('model.norm.weight', [2]);
  if (!options.tied) add('lm_head.weight', [vocab, 2]);
  const config: Record<string, unknown> = { model_type: 'llama', num_hidden_layers: layers, tie_word_embeddings: options.tied ?? false };
  if (options.torchDtype) config['torch_dtype'] = 'float32';
  else config['dtype'] = 'float32';
  return MemoryCheckpoint.fromFloat32(tensors, { source: `m${id}`, config });
}

function modelsOf(map: Record<string, Checkpoint>): PlanModels {
  return { keyOf: (ref) => ref, get: (key) => map[key] ?? assert.fail(`unknown model ${key}`) };
}

const WEIGHTED: MergeMethod = {
  name: 'fake_weighted',
  title: 'fake',
  reference: '-',
  baseModel: 'required',
  models: { min: 1 },
  params: [
    { name: 'weight', scope: 'model', type: 'number', description: '' },
    { name: 'density', scope: 'model', type: 'number', default: 1, description: '' },
    { name: 't', scope: 'global', type: 'number', default: 0.5, description: '' },
    { name: 'rescale', scope: 'global', type: 'enum', values: ['false', 'true', 'l1'], default: false, description: '' },
  ],
  mergeTensor: (input) => new Float32Array(input.models[0]!),
};
const PASSTHROUGH: MergeMethod = { ...WEIGHTED, name: 'fake_passthrough', baseModel: 'unused', models: { min: 1, max: 1 }, params: [] };

test('models: form appends the base, plans pre → layers → post with t positions and resolved gradients', () => {
  const config = parseMergeConfig({
    merge_method: 'fake_weighted',
    base_model: 'base',
    models: [
      { model: 'a', parameters: { weight: [0, 1], density: [{ filter: 'mlp', value: [1, 0.4] }] } },
      { model: 'b', parameters: { weight: 0.5 } },
    ],
    parameters: { density: 0.9, t: [{ filter: 'self_attn', value: [0, 0.3] }], rescale: true },
  });
  const plan = buildMergePlan(config, WEIGHTED, modelsOf({ a: tinyModel(1), b: tinyModel(2), base: tinyModel(0) }));
  const names = plan.tensors.map((t) => t.name);
  assert.equal(names[0], 'model.embed_tokens.weight');
  assert.deepEqual(names.slice(-2), ['model.norm.weight', 'lm_head.weight']);
  assert.equal(names.length, 1 + 4 * 3 + 2);
  assert.equal(plan.numLayers, 4);
  assert.equal(plan.donorKey, 'base');
  const byName = new Map(plan.tensors.map((t) => [t.name, t]));
  const down2 = byName.get('model.layers.2.mlp.down_proj.weight')!;
  assert.equal(down2.base?.modelRef, 'base');
  assert.deepEqual(down2.models.map((m) => m.modelRef), ['a', 'b']);
  assert.equal(down2.t, 2 / 3);
  assert.ok(Math.abs((down2.modelParams[0]!['weight'] as number) - 2 / 3) < 1e-15);
  assert.ok(Math.abs((down2.modelParams[0]!['density'] as number) - (1 + (2 / 3) * (0.4 - 1))) < 1e-15);
  // b has no density filter match at source level and no own density → global 0.9
  assert.equal(down2.modelParams[1]!['density'], 0.9);
  assert.equal(down2.params['t'], 0.5, 'mlp tensors match no t filter → method default');
  assert.equal(down2.params['rescale'], 'true', 'enum parameters arrive as strings');
  const q3 = byName.get('model.layers.3.self_attn.q_proj.weight')!;
  assert.ok(Math.abs((q3.params['t'] as number) - 0.3) < 1e-15);
  assert.equal(byName.get('model.embed_tokens.weight')!.t, 0);
  assert.equal(byName.get('model.embed_tokens.weight')!.modelParams[0]!['weight'], 0);
  // current mergekit evaluates post-layer tensors at t = 0 (first value); mergekit_compat: false → t = 1
  assert.equal(byName.get('lm_head.weight')!.t, 0);
  assert.equal(byName.get('lm_head.weight')!.modelParams[0]!['weight'], 0);
  const old = buildMergePlan({ ...config, mergekit_compat: false }, WEIGHTED, modelsOf({ a: tinyModel(1), b: tinyModel(2), base: tinyModel(0) }));
  const oldHead = old.tensors.find((t) => t.name === 'lm_head.weight')!;
  assert.equal(oldHead.t, 1);
  assert.equal(oldHead.modelParams[0]!['weight'], 1);
});

test('slices: output layers are renumbered across slices and read from their source layers', () => {
  const config = parseMergeConfig({
    merge_method: 'fake_passthrough',
    slices: [
      { sources: [{ model: 'lit', layer_range: [0, 4] }] },
      { sources: [{ model: 'code', layer_range: [2, 4] }] },
    ],
  });
  const plan = buildMergePlan(config, PASSTHROUGH, modelsOf({ lit: tinyModel(1), code: tinyModel(2) }));
  assert.equal(plan.numLayers, 6);
  assert.equal(plan.outputConfig?.['num_hidden_layers'], 6);
  const map = Object.fromEntries(plan.tensors.map((t) => [t.name, `${t.models[0]!.modelRef}:${t.models[0]!.tensorName}`]));
  assert.equal(map['model.layers.3.mlp.down_proj.weight'], 'lit:model.layers.3.mlp.down_proj.weight');
  assert.equal(map['model.layers.4.self_attn.q_proj.weight'], 'code:model.layers.2.self_attn.q_proj.weight');
  assert.equal(map['model.layers.5.input_layernorm.weight'], 'code:model.layers.3.input_layernorm.weight');
  assert.equal(map['model.embed_tokens.weight'], 'lit:model.embed_tokens.weight', 'pre-layer from the first slice');
  assert.equal(map['lm_head.weight'], 'code:lm_head.weight', 'post-layer from the last slice');
  assert.equal(map['model.norm.weight'], 'code:model.norm.weight');
  assert.equal(plan.tensors.length, 1 + 6 * 3 + 2);
  // a one-layer slice gets t = 1 (P6); the first slice restarts its gradient
  const single = buildMergePlan(
    parseMergeConfig({ merge_method: 'fake_passthrough', slices: [{ sources: [{ model: 'lit', layer_range: [1, 2] }] }] }),
    PASSTHROUGH,
    modelsOf({ lit: tinyModel(1) }),
  );
  assert.deepEqual(single.tensors.filter((t) => t.kind === 'layer').map((t) => t.t), [1, 1, 1]);
  assert.ok(LAYER_SUFFIXES.every((s) => single.tensors.some((t) => t.name === `model.layers.0.${s}`)));
});

test('lm_head falls back to the embeddings of a model with tied embeddings', () => {
  const config = parseMergeConfig({ merge_method: 'fake_weighted', base_model: 'base', models: [{ model: 'tied', parameters: { weight: 1 } }] });
  const plan = buildMergePlan(config, WEIGHTED, modelsOf({ base: tinyModel(0), tied: tinyModel(1, { tied: true }) }));
  const head = plan.tensors.find((t) => t.name === 'lm_head.weight')!;
  assert.equal(head.models[0]!.tensorName, 'model.embed_tokens.weight');
  assert.equal(head.base!.tensorName, 'lm_head.weight');
});

test('embeddings of different vocabulary sizes are cut to the common block; other mismatches are errors', () => {
  const config = parseMergeConfig({ merge_method: 'fake_weighted', base_model: 'base', models: [{ model: 'big', parameters: { weight: 1 } }] });
  const plan = buildMergePlan(config, WEIGHTED, modelsOf({ base: tinyModel(0), big: tinyModel(1, { vocab: 9 }) }));
  assert.deepEqual(plan.tensors.find((t) => t.name === 'model.embed_tokens.weight')!.shape, [6, 2]);
  assert.deepEqual(plan.tensors.find((t) => t.name === 'lm_head.weight')!.models[0]!.shape, [9, 2]);
  assert.throws(
    () => buildMergePlan(config, WEIGHTED, modelsOf({ base: tinyModel(0), big: tinyModel(1, { qShape: [2, 3] }) })),
    (error: unknown) =>
      error instanceof ShapeMismatchError &&
      /model\.layers\.0\.self_attn\.q_proj\.weight.*base: \[2, 2\]; big: \[2, 3\]/.test(error.message),
  );
});

test('a tensor missing from an input is an error naming tensor and model', () => {
  const config = parseMergeConfig({ merge_method: 'fake_weighted', base_model: 'base', models: [{ model: 'holey', parameters: { weight: 1 } }] });
  assert.throws(
    () => buildMergePlan(config, WEIGHTED, modelsOf({ base: tinyModel(0), holey: tinyModel(1, { skip: 'model.layers.1.mlp.down_proj.weight' }) })),
    (error: unknown) =>
      error instanceof CheckpointError &&
      error.code === 'TENSOR_NOT_FOUND' &&
      /tensor 'model\.layers\.1\.mlp\.down_proj\.weight' is missing from model 'holey'/.test(error.message),
  );
});

test('output dtype: out_dtype, else dtype, else the base tensor’s stored dtype; the config dtype key follows the donor', () => {
  const models = modelsOf({ base: tinyModel(0, { torchDtype: true }), a: tinyModel(1) });
  const build = (extra: Record<string, unknown>) =>
    buildMergePlan(parseMergeConfig({ merge_method: 'fake_weighted', base_model: 'base', models: [{ model: 'a', parameters: { weight: 1 } }], ...extra }), WEIGHTED, models);
  assert.equal(build({}).tensors[0]!.dtype, 'F32');
  assert.equal(build({ dtype: 'float16' }).tensors[0]!.dtype, 'F16');
  const both = build({ dtype: 'float16', out_dtype: 'torch.bfloat16' });
  assert.ok(both.tensors.every((t) => t.dtype === 'BF16'));
  assert.equal(both.outputConfig?.['torch_dtype'], 'bfloat16');
  assert.equal('dtype' in (both.outputConfig ?? {}), false);
  assert.equal(build({}).outputConfig?.['torch_dtype'], 'float32', 'no dtype given → the donor config keeps its value');
  assert.throws(() => build({ dtype: 'int64' }), ConfigError);
});

test('layer ranges beyond a model’s depth and models of different depth are config errors with paths', () => {
  const deep = parseMergeConfig({ merge_method: 'fake_passthrough', slices: [{ sources: [{ model: 'lit', layer_range: [2, 6] }] }] });
  assert.throws(
    () => buildMergePlan(deep, PASSTHROUGH, modelsOf({ lit: tinyModel(1) })),
    (error: unknown) => error instanceof ConfigError && error.issues[0]!.path.join('.') === 'slices.0.sources.0.layer_range',
  );
  const mixed = parseMergeConfig({ merge_method: 'fake_weighted', base_model: 'base', models: [{ model: 'short', parameters: { weight: 1 } }] });
  assert.throws(
    () => buildMergePlan(mixed, WEIGHTED, modelsOf({ base: tinyModel(0), short: tinyModel(1, { layers: 3 }) })),
    (error: unknown) => error instanceof ConfigError && /'base' has 4 layers but 'short' has 3/.test(error.message),
  );
});
