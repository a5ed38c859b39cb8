// Kinship through the real checkpoint readers (HF folders, bf16 files, base+LoRA views) on the fixture family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCheckpoint } from '../io/open.js';
import { computeKinship } from './compute.js';
import { isSymmetric, matrixEntry, meanPairwiseKinship } from './matrix.js';
import {
  FAMILY_DIR,
  concatenatedDelta,
  loraMergedF64,
  readFamilyModel,
  referenceCosine,
  referenceEuclidean,
  referencePcc,
} from '../../test/kinship/reference.js';

const base = readFamilyModel('base');
const names = [...base.keys()];

function close(actual: number, expected: number, tolerance: number): boolean {
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

test('kinship of experts (f32, bf16) and base+LoRA views read from disk equals the float64 reference to 1e-9', () => {
  const refs = ['expert-literature', 'expert-code-bf16', 'base+lora-literature', 'base+lora-code', 'base+lora-math'].map((r) =>
    r.startsWith('base+') ? `${FAMILY_DIR}base+${FAMILY_DIR}${r.slice(5)}` : `${FAMILY_DIR}${r}`,
  );
  const baseCheckpoint = openCheckpoint(`${FAMILY_DIR}base`);
  const models = refs.map((r) => openCheckpoint(r));
  try {
    const result = computeKinship(baseCheckpoint, models, { metrics: ['pcc', 'cs', 'ed'] });
    // model values: independent file reads; LoRA views as W + (α/r)·B·A in float64, rounded to float32 once
    // (measured max |ΔPCC| against the views: 2.1e-13)
    const loras = ['lora-literature', 'lora-code', 'lora-math'].map((a) => loraMergedF64(base, a));
    const values = [readFamilyModel('expert-literature'), readFamilyModel('expert-code-bf16'), ...loras];
    const deltas = values.map((v) => concatenatedDelta(v, base, names));
    const formulas = { pcc: referencePcc, cs: referenceCosine, ed: referenceEuclidean };
    for (const [metric, formula] of Object.entries(formulas)) {
      const matrix = result.matrices[metric as keyof typeof formulas]!;
      assert.ok(isSymmetric(matrix));
      for (let i = 0; i < refs.length; i++) {
        for (let j = 0; j < refs.length; j++) {
          const expected = formula(deltas[i]!, deltas[j]!);
          assert.ok(close(matrixEntry(matrix, i, j), expected, 1e-9), `${metric}(${refs[i]}, ${refs[j]}): ${matrixEntry(matrix, i, j)} vs ${expected}`);
        }
      }
      assert.equal(matrixEntry(matrix, 0, 0), metric === 'ed' ? 0 : 1);
    }
    // measured: LoRA adapters vs each other −0.053…−0.018; lora-literature vs expert-literature 0.067
    const pcc = result.matrices.pcc!;
    assert.ok(Math.abs(matrixEntry(pcc, 0, 2) - 0.0671) < 1e-4);
    const loraSet = meanPairwiseKinship(pcc, [2, 3, 4]);
    const expectedMean = (matrixEntry(pcc, 2, 3) + matrixEntry(pcc, 2, 4) + matrixEntry(pcc, 3, 4)) / 3;
    assert.equal(loraSet, expectedMean);
  } finally {
    baseCheckpoint.close();
    models.forEach((m) => m.close());
  }
});

test('a sharded base gives the same kinship as the single-file base', () => {
  const models = ['expert-code', 'expert-math'].map((m) => openCheckpoint(`${FAMILY_DIR}${m}`));
  const single = openCheckpoint(`${FAMILY_DIR}base`);
  const sharded = openCheckpoint(`${FAMILY_DIR}base-sharded`);
  try {
    const a = computeKinship(single, models, { metrics: ['pcc', 'ed'] });
    const b = computeKinship(sharded, models, { metrics: ['pcc', 'ed'] });
    assert.equal(a.tensorsCompared, b.tensorsCompared);
    assert.ok(close(matrixEntry(b.matrices.pcc!, 0, 1), matrixEntry(a.matrices.pcc!, 0, 1), 1e-12));
    assert.ok(close(matrixEntry(b.matrices.ed!, 0, 1), matrixEntry(a.matrices.ed!, 0, 1), 1e-12));
  } finally {
    [single, sharded, ...models].forEach((c) => c.close());
  }
});
