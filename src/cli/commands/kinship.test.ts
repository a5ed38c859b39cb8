import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetricList, runKinship, type KinshipOutput } from './kinship.js';
import {
  FAMILY_DIR,
  concatenatedDelta,
  readFamilyModel,
  referenceCosine,
  referenceEuclidean,
  referencePcc,
} from '../../../test/kinship/reference.js';
import { runCli } from '../../../test/support/cli.js';

const MODELS = ['expert-literature', 'expert-math', 'stranger'].map((m) => `${FAMILY_DIR}${m}`);
const BASE = `${FAMILY_DIR}base`;

function capture(isTTY = false): KinshipOutput & { text: () => string } {
  const chunks: string[] = [];
  return { write: (t) => void chunks.push(t), isTTY, text: () => chunks.join('') };
}

test('--json prints exactly models and the asked metrics, equal to a float64 reference to 1e-9', async () => {
  const { code, stdout } = await runCli(['kinship', ...MODELS, '--base', BASE, '--metric', 'pcc,cs', '--metric', 'ed', '--json']);
  assert.equal(code, 0);
  const parsed = JSON.parse(stdout) as { models: string[]; metrics: Record<string, number[][]> };
  assert.deepEqual(Object.keys(parsed), ['models', 'metrics']);
  assert.deepEqual(parsed.models, MODELS);
  assert.deepEqual(Object.keys(parsed.metrics), ['pcc', 'cs', 'ed']);
  const base = readFamilyModel('base');
  const names = [...base.keys()];
  const deltas = ['expert-literature', 'expert-math', 'stranger'].map((m) => concatenatedDelta(readFamilyModel(m), base, names));
  const reference = { pcc: referencePcc, cs: referenceCosine, ed: referenceEuclidean };
  for (const [metric, formula] of Object.entries(reference)) {
    const matrix = parsed.metrics[metric]!;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const expected = formula(deltas[i]!, deltas[j]!);
        assert.ok(Math.abs(matrix[i]![j]! - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${metric}[${i}][${j}]`);
      }
    }
  }
});

test('metric selection: all = pcc, cs, ed; cs_abs only when named; default pcc', async () => {
  assert.deepEqual(parseMetricList(['all']), ['pcc', 'cs', 'ed']);
  assert.deepEqual(parseMetricList(['cs_abs', 'pcc cs_abs']), ['cs_abs', 'pcc']);
  assert.deepEqual(parseMetricList([]), ['pcc']);
  const out = capture();
  const result = await runKinship(MODELS.slice(0, 2), { base: BASE, metric: ['cs', 'cs_abs'], json: true }, out);
  const parsed = JSON.parse(out.text()) as { metrics: Record<string, number[][]> };
  assert.deepEqual(Object.keys(parsed.metrics), ['cs', 'cs_abs']);
  assert.equal(parsed.metrics.cs_abs![0]![1], Math.abs(parsed.metrics.cs![0]![1]!));
  assert.equal(result.mode, 'full');
});

test('table output: aligned plain text off a terminal, coloured heat map on one', async () => {
  const plain = capture(false);
  await runKinship(MODELS, { base: BASE, metric: ['pcc', 'ed'] }, plain);
  const text = plain.text();
  assert.ok(!text.includes('\u001b['), 'no escape codes when not a TTY');
  assert.match(text, /\[1\] .*expert-literature\n/);
  assert.match(text, /full-vector kinship over 39 tensors, 1,000,576 elements per model/);
  const tableRows = text.split('\n').filter((l) => /^ *\[\d\] +-?\d/.test(l));
  assert.equal(tableRows.length, 6, 'three rows per metric');
  assert.equal(new Set(tableRows.map((r) => r.length)).size <= 2, true, 'rows of one table share a width');
  assert.match(text, /^ *\[3\] +0\.0581 +0\.2571 +1\.0000$/m);
  assert.match(text, /[░▒▓█]{3}/);
  const tty = capture(true);
  await runKinship(MODELS, { base: BASE, metric: ['pcc'], split: true }, tty);
  assert.match(tty.text(), /\u001b\[48;5;\d+m/);
  assert.match(tty.text(), /split \(numel-weighted per-tensor mean\)/);
});

test('filters reach the computation; errors exit with their code and hint', async () => {
  const out = capture();
  const result = await runKinship(MODELS.slice(0, 2), { base: BASE, include: 'mlp', exclude: 'down_proj', json: true }, out);
  assert.equal(result.tensorsCompared, 8);
  const unknown = await runCli(['kinship', ...MODELS, '--base', BASE, '--metric', 'pearson']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error \[UNKNOWN_NAME\]: unknown kinship metric 'pearson'/);
  assert.match(unknown.stderr, /hint: .*valid kinship metrics: pcc, cs, cs_abs, ed/);
  const missingBase = await runCli(['kinship', ...MODELS]);
  assert.notEqual(missingBase.code, 0);
  assert.match(missingBase.stderr, /--base/);
  const missingModel = await runCli(['kinship', `${FAMILY_DIR}no-such-model`, '--base', BASE]);
  assert.equal(missingModel.code, 3);
  assert.match(missingModel.stderr, /no-such-model/);
});

test('--kernels wasm (default) and --kernels reference agree within 1e-12, full and --split', async () => {
  for (const split of [false, true]) {
    const [wasm, reference] = await Promise.all(
      (['wasm', 'reference'] as const).map((kernels) => runKinship(MODELS, { base: BASE, metric: ['pcc', 'cs', 'ed'], split, kernels, json: true }, capture())),
    );
    for (const metric of ['pcc', 'cs', 'ed'] as const) {
      wasm!.matrices[metric]!.forEach((row, i) =>
        row.forEach((value, j) => {
          const expected = reference!.matrices[metric]![i]![j]!;
          assert.ok(Math.abs(value - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${metric}[${i}][${j}] split=${split}: ${value} vs ${expected}`);
        }),
      );
    }
  }
});
