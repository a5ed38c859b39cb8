import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeGenome, geneNames, genomeShape, initialGenome, validateGenomeDefinition, type GenomeDefinition } from './genome.js';

const ties: GenomeDefinition = {
  models: ['a', 'b', 'c'],
  mergeMethod: 'ties',
  baseModel: 'base',
  numLayers: 4,
  layerGranularity: 2,
  allowNegativeWeights: false,
  filters: ['self_attn'],
  smooth: false,
  dtype: 'float32',
};

test('genome shape is groups × models × parameter sets × parameters', () => {
  assert.deepEqual(genomeShape(ties), { layerGroups: 2, models: 3, paramSets: 2, params: 2, length: 24 });
  assert.equal(genomeShape({ ...ties, layerGranularity: 0, filters: [] }).length, 6);
});

test('the initial genome decodes to equal weights and density 1, one slice per layer group', () => {
  const config = decodeGenome(ties, initialGenome(ties));
  assert.equal(config.slices?.length, 2);
  assert.deepEqual(config.slices![1]!.sources.map((s) => s.layer_range), [[2, 4], [2, 4], [2, 4], [2, 4]]);
  assert.equal(config.slices![0]!.sources[3]!.model, 'base');
  for (const slice of config.slices!) {
    for (const source of slice.sources.slice(0, 3)) {
      assert.deepEqual(source.parameters, {
        weight: [{ filter: 'self_attn', value: 1 / 3 }, { value: 1 / 3 }],
        density: [{ filter: 'self_attn', value: 1 }, { value: 1 }],
      });
    }
  }
  assert.deepEqual(config.parameters, { normalize: true, int8_mask: true });
});

test('densities are clamped into [0, 1]; weights are |x| unless negatives are allowed', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 24, maxLength: 24 }), (genome) => {
      const config = decodeGenome(ties, genome);
      for (const slice of config.slices!) {
        for (const source of slice.sources.slice(0, 3)) {
          for (const entry of source.parameters!.density as { value: number }[]) assert.ok(entry.value >= 0 && entry.value <= 1);
          for (const entry of source.parameters!.weight as { value: number }[]) assert.ok(entry.value >= 0);
        }
      }
    }),
  );
  const negative = decodeGenome({ ...ties, allowNegativeWeights: true }, new Array(24).fill(-0.5));
  assert.deepEqual((negative.slices![0]!.sources[0]!.parameters!.weight as { value: number }[])[0]!.value, -0.5);
});

test('smooth produces one gradient list of length n_layer_groups per model', () => {
  const def: GenomeDefinition = { ...ties, filters: [], smooth: true, layerGranularity: 1 };
  const genome = Array.from({ length: genomeShape(def).length }, (_, i) => i / 100);
  const config = decodeGenome(def, genome);
  assert.equal(config.slices, undefined);
  const first = config.models![0]!.parameters!;
  assert.deepEqual(first.weight, [0, 0.06, 0.12, 0.18]);
  assert.equal((first.density as number[]).length, 4);
  assert.equal(config.models![3]!.model, 'base');
});

test('slerp decoding picks the two largest genes per group: top model is the base, t = softmax(top2)[1]', () => {
  const def: GenomeDefinition = { ...ties, mergeMethod: 'slerp', filters: [], baseModel: undefined, layerGranularity: 2 };
  // group 0: genes a=0.1 b=0.9 c=0.5 → top b, second c; group 1: a=0.7 b=0.2 c=0.3 → top a, second c
  const config = decodeGenome(def, [0.1, 0.9, 0.5, 0.7, 0.2, 0.3]);
  assert.equal(config.slices![0]!.base_model, 'b');
  assert.deepEqual(config.slices![0]!.sources.map((s) => s.model), ['b', 'c']);
  const t0 = config.slices![0]!.parameters!.t as number;
  assert.ok(Math.abs(t0 - Math.exp(0.5) / (Math.exp(0.9) + Math.exp(0.5))) < 1e-15);
  assert.equal(config.slices![1]!.base_model, 'a');
  assert.deepEqual(config.slices![1]!.sources.map((s) => s.model), ['a', 'c']);
});

test('invalid definitions and genome lengths are rejected', () => {
  assert.throws(() => decodeGenome(ties, [1, 2, 3]), /expected 24/);
  assert.throws(() => validateGenomeDefinition({ ...ties, baseModel: undefined }), /ties needs base_model/);
  assert.throws(() => validateGenomeDefinition({ ...ties, layerGranularity: 3 }), /must divide num_hidden_layers 4/);
  assert.throws(() => validateGenomeDefinition({ ...ties, mergeMethod: 'slerp' }), /slerp excludes/);
  assert.throws(() => validateGenomeDefinition({ ...ties, models: ['a'] }), /at least 2 models/);
  validateGenomeDefinition(ties);
});

test('gene names follow the genome layout: the decoded parameter of gene i is the one its name says', () => {
  const names = geneNames(ties);
  assert.equal(names.length, genomeShape(ties).length);
  assert.equal(names[0], 'a × layers 0–1 [self_attn] · weight');
  assert.equal(names[1], 'a × layers 0–1 [self_attn] · density');
  assert.equal(names[2], 'a × layers 0–1 [other] · weight');
  assert.equal(names[23], 'c × layers 2–3 [other] · density');
  // mark gene 16 and find it in the decoded config where its name says
  const genome = new Array(names.length).fill(0.5);
  genome[16] = 0.123; // ((group 1 · 3 + model 1) · 2 sets + set 0) · 2 params + 0
  assert.equal(names[16], 'b × layers 2–3 [self_attn] · weight');
  const decoded = decodeGenome(ties, genome);
  const source = decoded.slices![1]!.sources.find((x) => x.model === 'b')!;
  assert.deepEqual((source.parameters!.weight as { filter?: string; value: number }[])[0], { filter: 'self_attn', value: 0.123 });
  assert.deepEqual(geneNames({ ...ties, layerGranularity: 0, filters: [], mergeMethod: 'task_arithmetic' }, (m) => m.toUpperCase()), ['A × all layers · weight', 'B × all layers · weight', 'C × all layers · weight']);
});
