import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MergeMethod } from './method.js';
import { parseMergeConfig, parseMergeConfigYaml } from './config.js';
import { checkMethodRules } from './method-rules.js';
import { configIssuesOf } from '../../test/support/errors.js';

/** Issues with paths written as in mergekit YAML: `models[0].parameters.weight`. */
function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  return configIssuesOf(fn, (path) => path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join(''));
}

test('every example config parses; the ties example keeps gradients and filter lists as written', () => {
  const dir = join(import.meta.dirname, '../../examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
  assert.equal(files.length, 4);
  for (const file of files) parseMergeConfigYaml(readFileSync(join(dir, file), 'utf8'), file);
  const ties = parseMergeConfigYaml(readFileSync(join(dir, 'ties.yml'), 'utf8'));
  assert.equal(ties.merge_method, 'ties');
  assert.equal(ties.dtype, 'float32');
  assert.equal(ties.out_dtype, 'bfloat16');
  assert.deepEqual(ties.models?.[0]?.parameters, { density: [1, 0.7, 0.1], weight: 1 });
  assert.deepEqual(ties.models?.[2]?.parameters?.['weight'], [{ filter: 'mlp', value: 0.5 }, { value: 0 }]);
  const franken = parseMergeConfigYaml(readFileSync(join(dir, 'frankenmerge.yml'), 'utf8'));
  assert.deepEqual(franken.slices?.[1]?.sources[0]?.layer_range, [2, 4]);
});

test('dtype names accept a torch. prefix and reject unknown names with the key path', () => {
  const config = parseMergeConfig({ merge_method: 'linear', models: [{ model: 'a' }], dtype: 'torch.bfloat16' });
  assert.equal(config.dtype, 'bfloat16');
  const issues = issuesOf(() => parseMergeConfig({ merge_method: 'linear', models: [{ model: 'a' }], out_dtype: 'fp8' }));
  assert.equal(issues[0]?.path, 'out_dtype');
  assert.match(issues[0]?.message ?? '', /expected float32, float16 or bfloat16.*got 'fp8'/);
});

test('unknown keys are rejected with their full path and a closest-name hint', () => {
  const issues = issuesOf(() =>
    parseMergeConfig({
      merge_method: 'ties',
      base_modle: 'x',
      models: [{ model: 'a' }, { model: 'b', paramters: {} }],
    }),
  );
  issues.sort((a, b) => a.path.localeCompare(b.path));
  assert.deepEqual(
    issues.map((i) => i.path),
    ['base_modle', 'models[1].paramters'],
  );
  assert.match(issues[0]!.message, /unknown key 'base_modle' \(did you mean 'base_model'\?\)/);
  assert.match(issues[1]!.message, /did you mean 'parameters'/);
});

test('invalid parameter values name the offending key path', () => {
  const issues = issuesOf(() =>
    parseMergeConfig({
      merge_method: 'ties',
      models: [{ model: 'a', parameters: { weight: 1 } }, { model: 'b', parameters: { weight: { x: 1 } } }],
    }),
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.path, 'models[1].parameters.weight');
  const sliceIssues = issuesOf(() =>
    parseMergeConfig({
      merge_method: 'passthrough',
      slices: [{ sources: [{ model: 'a', layer_range: [3, 1] }] }],
    }),
  );
  assert.equal(sliceIssues[0]!.path, 'slices[0].sources[0].layer_range');
  assert.match(sliceIssues[0]!.message, /start < end/);
});

test('modules: one module is lifted (its parameters over the global ones); several are refused; models and slices are exclusive', () => {
  const lifted = parseMergeConfig({
    merge_method: 'linear',
    parameters: { normalize: false, t: 0.2 },
    modules: { text_decoder: { models: [{ model: 'a' }], parameters: { normalize: true } } },
  });
  assert.deepEqual(lifted.models, [{ model: 'a' }]);
  assert.deepEqual(lifted.parameters, { normalize: true, t: 0.2 });
  const issues = issuesOf(() => parseMergeConfig({ merge_method: 'linear', modules: { text: { models: [{ model: 'a' }] }, vision: { models: [{ model: 'a' }] } } }));
  assert.equal(issues[0]!.path, 'modules');
  assert.match(issues[0]!.message, /found 2 modules \(text, vision\).*multi-module models/);
  assert.match(issuesOf(() => parseMergeConfig({ merge_method: 'linear' }))[0]!.message, /exactly one of models or slices.*neither/);
  const both = issuesOf(() =>
    parseMergeConfig({ merge_method: 'linear', models: [{ model: 'a' }], slices: [{ sources: [{ model: 'a', layer_range: [0, 1] }] }] }),
  );
  assert.match(both[0]!.message, /found both/);
});

test('sources of one slice must span the same number of layers; residual_weight is accepted', () => {
  const issues = issuesOf(() =>
    parseMergeConfig({
      merge_method: 'slerp',
      slices: [{ sources: [{ model: 'a', layer_range: [0, 4] }, { model: 'b', layer_range: [0, 3] }], residual_weight: 0.1 }],
    }),
  );
  assert.deepEqual(issues, [
    { path: 'slices[0].sources[1].layer_range', message: 'all sources of one slice must span the same number of layers: expected 4, got 3' },
  ]);
});

test('tokenizer_source and tokenizer cannot be combined; invalid YAML is a ConfigError', () => {
  const issues = issuesOf(() =>
    parseMergeConfig({ merge_method: 'linear', models: [{ model: 'a' }], tokenizer_source: 'base', tokenizer: { source: 'base' } }),
  );
  assert.equal(issues[0]!.path, 'tokenizer');
  assert.match(issuesOf(() => parseMergeConfigYaml('a: [1, 2'))[0]!.message, /not valid YAML/);
});

const FAKE_TIES: MergeMethod = {
  name: 'ties',
  title: 'TIES',
  reference: 'arXiv:2306.01708',
  baseModel: 'required',
  models: { min: 1 },
  params: [
    { name: 'weight', scope: 'model', type: 'number', description: '' },
    { name: 'density', scope: 'model', type: 'number', default: 1, description: '' },
    { name: 'normalize', scope: 'global', type: 'boolean', default: true, description: '' },
    { name: 'rescale', scope: 'global', type: 'enum', values: ['false', 'true', 'l1', 'inverse_density'], default: 'false', description: '' },
  ],
  mergeTensor: () => new Float32Array(0),
};
const FAKE_SLERP: MergeMethod = { ...FAKE_TIES, name: 'slerp', models: { min: 1, max: 1 }, params: [{ name: 't', scope: 'global', type: 'number', description: '' }] };

test('method rules: parameter types and names checked with their paths; P7 and P10 become warnings', () => {
  const issues = issuesOf(() =>
    checkMethodRules(
      parseMergeConfig({
        merge_method: 'ties',
        base_model: 'b',
        models: [{ model: 'a', parameters: { weight: 'heavy', densty: 0.5 } }],
        parameters: { normalize: 1, rescale: 'l2' },
      }),
      FAKE_TIES,
    ),
  );
  assert.deepEqual(
    issues.map((i) => i.path),
    ['parameters.normalize', 'parameters.rescale', 'models[0].parameters.weight', 'models[0].parameters.densty'],
  );
  assert.match(issues[3]!.message, /did you mean 'density'/);
  const warnings = checkMethodRules(
    parseMergeConfig({
      merge_method: 'ties',
      base_model: 'b',
      models: [{ model: 'a', parameters: { weight: 1, normalize: false } }],
      parameters: { rescale: true },
    }),
    FAKE_TIES,
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /models\[0\]\.parameters\.normalize: 'normalize' is a method-level parameter/);
  const noWeights = { ...FAKE_TIES, name: 'karcher', baseModel: 'unused' as const, params: [] };
  const w = checkMethodRules(parseMergeConfig({ merge_method: 'karcher', models: [{ model: 'a', parameters: { weight: 2 } }] }), noWeights);
  assert.match(w[0]!, /karcher takes no weights/);
});

test('method rules: missing base model and model counts are errors naming the key', () => {
  const missingBase = issuesOf(() => checkMethodRules(parseMergeConfig({ merge_method: 'ties', models: [{ model: 'a' }] }), FAKE_TIES));
  assert.deepEqual(missingBase, [{ path: 'base_model', message: 'merge method ties requires a base_model' }]);
  const tooMany = issuesOf(() =>
    checkMethodRules(
      parseMergeConfig({ merge_method: 'slerp', base_model: 'a', models: [{ model: 'a' }, { model: 'b' }, { model: 'c' }] }),
      FAKE_SLERP,
    ),
  );
  assert.equal(tooMany[0]!.path, 'models');
  assert.match(tooMany[0]!.message, /takes exactly 1 model\(s\) besides the base; got 2/);
  const baseNotInSlice = issuesOf(() =>
    checkMethodRules(
      parseMergeConfig({ merge_method: 'slerp', base_model: 'z', slices: [{ sources: [{ model: 'a', layer_range: [0, 2] }, { model: 'b', layer_range: [0, 2] }] }] }),
      FAKE_SLERP,
    ),
  );
  assert.equal(baseNotInSlice[0]!.path, 'slices[0].sources');
  assert.match(baseNotInSlice[0]!.message, /base_model 'z' must be one of this slice's sources/);
});
