import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { ModelevoError } from '../core/errors.js';
import { computeModelTrimThresholds } from './trim-scope.js';

function tensors(seed: string, sizes: number[]): Float32Array[] {
  const rng = createRng(seed);
  return sizes.map((n, t) => Float32Array.from({ length: n }, () => Math.round(rng.normal() * 8) / (t + 1)));
}

async function* slowly(arrays: Float32Array[]): AsyncGenerator<Float32Array> {
  for (const a of arrays) {
    await new Promise((resolve) => setImmediate(resolve));
    yield a;
  }
}

test('whole-model thresholds equal the sorted reference; tie quotas hand out exactly k − countAbove in stream order', async () => {
  const models = [tensors('m1', [500, 2_000, 37]), tensors('m2', [500, 2_000, 37])];
  const densities = [0.2, 0.55];
  const results = await computeModelTrimThresholds(
    models.map((arrays, i) => ({ modelRef: `m${i}`, density: densities[i]!, deltas: () => slowly(arrays) })),
    { tieQuotas: true },
  );
  results.forEach((result, i) => {
    const all = models[i]!.flatMap((a) => Array.from(a, Math.abs));
    const k = Math.floor(densities[i]! * all.length);
    const sorted = Float64Array.from(all).sort().reverse();
    assert.equal(result.keepCount, k);
    assert.equal(result.totalElements, all.length);
    assert.equal(result.threshold, sorted[k - 1]);
    assert.equal(result.countAbove, all.filter((m) => m > result.threshold).length);
    assert.equal(result.countEqual, all.filter((m) => m === result.threshold).length);
    // rounded Gaussians tie heavily: the quotas must fill the remainder, earlier tensors first
    const quotas = result.tieQuotas!;
    assert.equal(quotas.reduce((a, b) => a + b, 0), k - result.countAbove);
    let remaining = k - result.countAbove;
    models[i]!.forEach((a, t) => {
      const equal = Array.from(a).filter((x) => Math.abs(x) === result.threshold).length;
      assert.equal(quotas[t], Math.min(equal, remaining));
      remaining -= quotas[t]!;
    });
  });
});

test('density 0 gives threshold +Infinity and zero quotas; a negative density is CONFIG_INVALID', async () => {
  const arrays = tensors('z', [10, 20]);
  const [result] = await computeModelTrimThresholds([{ modelRef: 'z', density: 0, deltas: () => arrays }], { tieQuotas: true });
  assert.equal(result!.threshold, Infinity);
  assert.deepEqual(result!.tieQuotas, [0, 0]);
  await assert.rejects(
    computeModelTrimThresholds([{ modelRef: 'bad', density: -0.1, deltas: () => arrays }]),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID' && /bad/.test(e.message),
  );
});
