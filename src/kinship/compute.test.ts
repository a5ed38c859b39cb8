import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeKinship, type KinshipOptions } from './compute.js';
import { isSymmetric, matrixEntry } from './matrix.js';
import { KINSHIP_METRICS, type KinshipMetricName } from './registry.js';
import { CheckpointError, ModelevoError, ShapeMismatchError } from '../core/errors.js';
import {
  checkpointFromF64,
  concatenatedDelta,
  readFamilyModel,
  referenceCosine,
  referenceEuclidean,
  referencePcc,
  type F64Tensor,
} from '../../test/kinship/reference.js';

const FAMILY = ['expert-literature', 'expert-code', 'expert-math', 'expert-code-bf16', 'stranger'] as const;
const base = readFamilyModel('base');
const family = FAMILY.map((name) => readFamilyModel(name));
const baseCheckpoint = checkpointFromF64('base', base);
const familyCheckpoints = family.map((tensors, k) => checkpointFromF64(FAMILY[k]!, tensors));
const ALL: KinshipMetricName[] = ['pcc', 'cs', 'cs_abs', 'ed'];

const REFERENCE: Record<KinshipMetricName, (x: Float64Array, y: Float64Array) => number> = {
  pcc: referencePcc,
  cs: referenceCosine,
  cs_abs: (x, y) => Math.abs(referenceCosine(x, y)),
  ed: referenceEuclidean,
};

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  const error = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  assert.ok(error <= tolerance, `${what}: got ${actual}, expected ${expected} (relative error ${error})`);
}

function referenceMatrix(models: Map<string, F64Tensor>[], names: string[], metric: KinshipMetricName): number[][] {
  const deltas = models.map((m) => concatenatedDelta(m, base, names));
  return deltas.map((x) => deltas.map((y) => REFERENCE[metric](x, y)));
}

test('full-vector kinship of the fixture family equals a float64 computation over concatenated deltas to 1e-9', () => {
  const result = computeKinship(baseCheckpoint, familyCheckpoints, { metrics: ALL });
  assert.equal(result.tensorsCompared, base.size);
  assert.equal(result.elementsCompared, [...base.values()].reduce((s, t) => s + t.values.length, 0));
  assert.deepEqual(result.labels, [...FAMILY]);
  const names = [...base.keys()];
  for (const metric of ALL) {
    const matrix = result.matrices[metric]!;
    assert.ok(isSymmetric(matrix), `${metric} matrix is symmetric`);
    const expected = referenceMatrix(family, names, metric);
    for (let i = 0; i < FAMILY.length; i++) {
      for (let j = 0; j < FAMILY.length; j++) {
        assertClose(matrixEntry(matrix, i, j), expected[i]![j]!, 1e-9, `${metric}(${FAMILY[i]}, ${FAMILY[j]})`);
      }
      assert.equal(matrixEntry(matrix, i, i), KINSHIP_METRICS[metric].selfValue, `${metric} of ${FAMILY[i]} with itself`);
    }
  }
  // Measured on the fixtures: the experts are nearly independent fine-tunes (PCC −0.08..0.07, the paper's
  // "independent fine-tunes 0.01–0.27"); the stranger has |PCC| ≤ 0.06 with expert-literature/-code but 0.257
  // with expert-math, carried by lm_head alone (0.41 there; ≤ 0.06 in magnitude once embed_tokens/lm_head
  // are excluded). Euclidean distance is what separates the stranger: 89.7–94.4 vs 25.1–30.9 in the family.
  const pcc = result.matrices.pcc!;
  const ed = result.matrices.ed!;
  const stranger = FAMILY.indexOf('stranger');
  const golden: [number, number, number][] = [[0, 1, 0.0721], [0, 2, 0.0292], [1, 2, -0.0761], [0, 4, 0.0581], [1, 4, -0.0132], [2, 4, 0.2571]];
  for (const [i, j, value] of golden) assertClose(matrixEntry(pcc, i, j), value, 1e-4, `golden pcc(${FAMILY[i]}, ${FAMILY[j]})`);
  for (const i of [0, 1]) assert.ok(Math.abs(matrixEntry(pcc, i, stranger)) < 0.07, `stranger vs ${FAMILY[i]}`);
  const familyDistances = [matrixEntry(ed, 0, 1), matrixEntry(ed, 0, 2), matrixEntry(ed, 1, 2)];
  for (let i = 0; i < stranger; i++) assert.ok(matrixEntry(ed, i, stranger) > 2.5 * Math.max(...familyDistances));
  const withoutVocabulary = computeKinship(baseCheckpoint, familyCheckpoints, { metrics: ['pcc'], exclude: 'embed_tokens|lm_head' });
  for (let i = 0; i < stranger; i++) assert.ok(Math.abs(matrixEntry(withoutVocabulary.matrices.pcc!, i, stranger)) < 0.06);
  // bf16 storage of expert-code keeps it nearly identical to the float32 expert-code
  assert.ok(matrixEntry(pcc, 1, 3) > 0.99);
});

test('results do not depend on chunk size or tensor order', () => {
  const reference = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 3), { metrics: ALL });
  const reversedBase = checkpointFromF64('base', new Map([...base].reverse()));
  for (const [chunkElements, checkpoint] of [
    [1_000, baseCheckpoint],
    [333_333, reversedBase],
    [7, baseCheckpoint],
  ] as const) {
    const other = computeKinship(checkpoint, familyCheckpoints.slice(0, 3), { metrics: ALL, chunkElements });
    for (const metric of ALL) {
      reference.matrices[metric]!.forEach((row, i) =>
        row.forEach((value, j) => assertClose(matrixEntry(other.matrices[metric]!, i, j), value, 1e-12, `${metric} chunk ${chunkElements}`)),
      );
    }
  }
});

test('split mode equals the numel-weighted mean of per-tensor metrics and skips NaN tensors', () => {
  const pair = [familyCheckpoints[0]!, familyCheckpoints[2]!];
  const result = computeKinship(baseCheckpoint, pair, { metrics: ALL, mode: 'split' });
  assert.equal(result.mode, 'split');
  for (const metric of ALL) {
    let weighted = 0;
    let weight = 0;
    for (const name of base.keys()) {
      const x = concatenatedDelta(family[0]!, base, [name]);
      const y = concatenatedDelta(family[2]!, base, [name]);
      const value = REFERENCE[metric](x, y);
      if (Number.isNaN(value)) continue;
      weighted += x.length * value;
      weight += x.length;
    }
    assertClose(matrixEntry(result.matrices[metric]!, 0, 1), weighted / weight, 1e-9, `split ${metric}`);
  }
  // split ≠ full: the two quantities differ on real models
  const full = computeKinship(baseCheckpoint, pair, { metrics: ['pcc'] });
  assert.ok(Math.abs(matrixEntry(full.matrices.pcc!, 0, 1) - matrixEntry(result.matrices.pcc!, 0, 1)) > 1e-3);

  // an unchanged tensor (zero-variance delta) is skipped per tensor, not averaged in as NaN or 0
  const frozen = new Map(family[0]!);
  frozen.set('model.norm.weight', base.get('model.norm.weight')!);
  const split = computeKinship(baseCheckpoint, [checkpointFromF64('frozen', frozen), pair[1]!], { metrics: ['pcc'], mode: 'split' });
  let weighted = 0;
  let weight = 0;
  for (const name of base.keys()) {
    if (name === 'model.norm.weight') continue;
    const x = concatenatedDelta(frozen, base, [name]);
    const y = concatenatedDelta(family[2]!, base, [name]);
    weighted += x.length * referencePcc(x, y);
    weight += x.length;
  }
  assertClose(matrixEntry(split.matrices.pcc!, 0, 1), weighted / weight, 1e-9, 'split pcc with a frozen tensor');
});

test('include/exclude filters select tensors by name', () => {
  const options: KinshipOptions = { metrics: ['pcc', 'ed'], include: 'self_attn', exclude: 'layers\\.0\\.' };
  const result = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 2), options);
  const names = [...base.keys()].filter((n) => n.includes('self_attn') && !n.includes('layers.0.'));
  assert.equal(result.tensorsCompared, names.length);
  assert.equal(names.length, 12);
  const x = concatenatedDelta(family[0]!, base, names);
  const y = concatenatedDelta(family[1]!, base, names);
  assertClose(matrixEntry(result.matrices.pcc!, 0, 1), referencePcc(x, y), 1e-9, 'filtered pcc');
  assertClose(matrixEntry(result.matrices.ed!, 0, 1), referenceEuclidean(x, y), 1e-9, 'filtered ed');
  assert.throws(() => computeKinship(baseCheckpoint, familyCheckpoints, { metrics: ['pcc'], include: '(' }), /not a valid regular expression/);
  const globalFlag = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 2), { metrics: ['pcc'], include: /self_attn/g, exclude: /layers\.0\./g });
  assert.equal(globalFlag.tensorsCompared, 12);
  const none = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 2), { metrics: ['pcc'], include: /^nothing$/ });
  assert.equal(none.tensorsCompared, 0);
  assert.match(none.warnings.join('\n'), /no tensor was compared/);
  assert.ok(Number.isNaN(matrixEntry(none.matrices.pcc!, 0, 1)));
  assert.match(none.nanReasons['pcc[0][1]'] ?? '', /no elements/);
});

function withExtraVocabularyRows(model: Map<string, F64Tensor>, extraRows: number, names: RegExp): Map<string, F64Tensor> {
  const out = new Map<string, F64Tensor>();
  for (const [name, tensor] of model) {
    if (!names.test(name)) {
      out.set(name, tensor);
      continue;
    }
    const rowLength = tensor.values.length / tensor.shape[0]!;
    const values = new Float64Array(tensor.values.length + extraRows * rowLength);
    values.set(tensor.values);
    for (let k = tensor.values.length; k < values.length; k++) values[k] = Math.fround(Math.sin(k) * 3);
    out.set(name, { shape: [tensor.shape[0]! + extraRows, ...tensor.shape.slice(1)], values });
  }
  return out;
}

test('rows appended to embed_tokens/lm_head (extended vocabulary) do not change kinship', () => {
  const reference = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 2), { metrics: ALL });
  const extended = checkpointFromF64('extended', withExtraVocabularyRows(family[1]!, 5, /(embed_tokens|lm_head)\.weight$/));
  const result = computeKinship(baseCheckpoint, [familyCheckpoints[0]!, extended], { metrics: ALL });
  for (const metric of ALL) assert.equal(matrixEntry(result.matrices[metric]!, 0, 1), matrixEntry(reference.matrices[metric]!, 0, 1));
  // any other tensor with extra rows is an architecture mismatch...
  const grown = checkpointFromF64('grown', withExtraVocabularyRows(family[1]!, 2, /layers\.1\.mlp\.up_proj\.weight$/));
  assert.throws(() => computeKinship(baseCheckpoint, [familyCheckpoints[0]!, grown], { metrics: ['pcc'] }), ShapeMismatchError);
  // ...unless truncate_all reproduces the reference code (up_proj has 352 rows < vocab 1024: a no-op for the fixtures)
  const truncated = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 2), { metrics: ['pcc'], truncateAll: true });
  assert.equal(matrixEntry(truncated.matrices.pcc!, 0, 1), matrixEntry(reference.matrices.pcc!, 0, 1));
});

test('a missing tensor is an error naming tensor and model, or a counted warning with onMissing: skip', () => {
  const partial = new Map(family[2]!);
  partial.delete('model.layers.2.mlp.down_proj.weight');
  const models = [familyCheckpoints[0]!, checkpointFromF64('partial-math', partial)];
  assert.throws(
    () => computeKinship(baseCheckpoint, models, { metrics: ['pcc'] }),
    (error: unknown) => {
      assert.ok(error instanceof CheckpointError);
      assert.equal(error.code, 'TENSOR_NOT_FOUND');
      assert.equal(error.tensor, 'model.layers.2.mlp.down_proj.weight');
      assert.match(error.message, /tensor 'model\.layers\.2\.mlp\.down_proj\.weight' of base 'base' is missing from model 'partial-math'/);
      assert.match(error.hint ?? '', /--skip-missing/);
      return true;
    },
  );
  const skipped = computeKinship(baseCheckpoint, models, { metrics: ['pcc'], onMissing: 'skip' });
  assert.equal(skipped.skippedTensors.length, 1);
  assert.equal(skipped.tensorsCompared, base.size - 1);
  assert.match(skipped.warnings[0] ?? '', /missing from model 'partial-math'; skipped/);
  const names = [...base.keys()].filter((n) => n !== 'model.layers.2.mlp.down_proj.weight');
  const expected = referencePcc(concatenatedDelta(family[0]!, base, names), concatenatedDelta(partial, base, names));
  assertClose(matrixEntry(skipped.matrices.pcc!, 0, 1), expected, 1e-9, 'pcc without the missing tensor');
});

test('a shape mismatch names the tensor and every model shape', () => {
  const reshaped = new Map(family[1]!);
  const t = reshaped.get('model.layers.0.self_attn.k_proj.weight')!;
  reshaped.set('model.layers.0.self_attn.k_proj.weight', { shape: [t.shape[1]!, t.shape[0]!], values: t.values });
  assert.throws(
    () => computeKinship(baseCheckpoint, [familyCheckpoints[0]!, checkpointFromF64('reshaped', reshaped)], { metrics: ['cs'] }),
    (error: unknown) => {
      assert.ok(error instanceof ShapeMismatchError);
      assert.equal(error.code, 'SHAPE_MISMATCH');
      assert.match(error.message, /'model\.layers\.0\.self_attn\.k_proj\.weight'/);
      assert.match(error.message, /base 'base': \[64, 128\]; 'expert-literature': \[64, 128\]; 'reshaped': \[128, 64\]/);
      return true;
    },
  );
});

test('the derived diagonal equals accumulating each model against itself, in full and split mode', () => {
  const models = [baseCheckpoint, ...familyCheckpoints.slice(0, 2)];
  for (const mode of ['full', 'split'] as const) {
    const derived = computeKinship(baseCheckpoint, models, { metrics: ALL, mode });
    const direct = computeKinship(baseCheckpoint, models, { metrics: ALL, mode, diagonal: 'direct' });
    for (const metric of ALL) assert.deepEqual(derived.matrices[metric], direct.matrices[metric], `${mode} ${metric}`);
    assert.equal(matrixEntry(derived.matrices.pcc!, 1, 1), 1);
    assert.equal(matrixEntry(derived.matrices.ed!, 2, 2), 0);
  }
  // a model listed twice: the off-diagonal pair is accumulated like any other and is exactly 1 (ED 0)
  const twice = computeKinship(baseCheckpoint, [familyCheckpoints[2]!, familyCheckpoints[2]!], { metrics: ALL });
  assert.deepEqual(twice.matrices.pcc, [[1, 1], [1, 1]]);
  assert.deepEqual(twice.matrices.cs, [[1, 1], [1, 1]]);
  assert.deepEqual(twice.matrices.ed, [[0, 0], [0, 0]]);
  // one model has no pair to read its diagonal from: it is accumulated directly
  const single = computeKinship(baseCheckpoint, familyCheckpoints.slice(0, 1), { metrics: ['pcc', 'ed'] });
  assert.deepEqual(single.matrices.pcc, [[1]]);
  assert.deepEqual(single.matrices.ed, [[0]]);
});

test('a model equal to the base has NaN kinship with a reason; bad arguments are value errors', () => {
  const result = computeKinship(baseCheckpoint, [baseCheckpoint, familyCheckpoints[0]!], { metrics: ['pcc', 'cs', 'ed'] });
  assert.match(result.nanReasons['pcc[0][0]'] ?? '', /delta of 'base' is degenerate/);
  assert.ok(Number.isNaN(matrixEntry(result.matrices.pcc!, 0, 1)));
  assert.match(result.nanReasons['pcc[0][1]'] ?? '', /constant/);
  assert.match(result.nanReasons['cs[0][1]'] ?? '', /all zeros/);
  assert.ok(Number.isNaN(matrixEntry(result.matrices.pcc!, 0, 0)), 'the zero delta has no self-correlation either');
  const literatureDelta = concatenatedDelta(family[0]!, base, [...base.keys()]);
  const edExpected = Math.sqrt(literatureDelta.reduce((s, v) => s + v * v, 0));
  assertClose(matrixEntry(result.matrices.ed!, 0, 1), edExpected, 1e-9, 'ed to the base = ‖δ‖');
  assert.throws(() => computeKinship(baseCheckpoint, [], { metrics: ['pcc'] }), ModelevoError);
  assert.throws(() => computeKinship(baseCheckpoint, familyCheckpoints, { metrics: [] }), /no kinship metric/);
  assert.throws(() => computeKinship(baseCheckpoint, familyCheckpoints, { metrics: ['pcc'], chunkElements: 0 }), /positive integer/);
});
