import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { counterStream } from '../core/counter-rng.js';
import { ModelevoError } from '../core/errors.js';
import { breadcrumbsBand, rowKeepProbabilities, sparsify, type SparsifyOptions } from './sparsify.js';

function gaussian(n: number, seed: string): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

function options(partial: Partial<SparsifyOptions> & { density: number }): SparsifyOptions {
  return { rescale: 'none', shape: [], tensorName: 't', modelRef: 'm', ...partial };
}

function l1(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  return sum;
}

/** indices in ascending |δ| order, stable by index (the spec's Breadcrumbs ranking) */
function ascendingRanks(values: Float32Array): number[] {
  return Array.from(values, (_, j) => j).sort((a, b) => Math.abs(values[a]!) - Math.abs(values[b]!) || a - b);
}

test('magnitude keeps exactly k = ⌊density·N⌋ and the smallest kept |δ| ≥ the largest dropped |δ|', () => {
  const delta = gaussian(10_001, 'mag');
  // duplicate a value so the cut can fall on ties
  for (let j = 0; j < 400; j++) delta[j * 7] = 0.8;
  for (const density of [0.01, 0.2, 0.5, 0.97]) {
    const kept = sparsify('magnitude', delta, options({ density }));
    const k = Math.floor(density * delta.length);
    let count = 0;
    let minKept = Infinity;
    let maxDropped = 0;
    kept.forEach((v, j) => {
      if (v !== 0) {
        count++;
        assert.equal(v, delta[j]);
        minKept = Math.min(minKept, Math.abs(v));
      } else maxDropped = Math.max(maxDropped, Math.abs(delta[j]!));
    });
    assert.equal(count, k, `density ${density}`);
    assert.ok(minKept >= maxDropped);
  }
});

test('magnitude with k = 0 keeps nothing and warns (P15)', () => {
  const warnings: string[] = [];
  const kept = sparsify('magnitude', Float32Array.from([1, -2, 3]), options({ density: 0.2, warn: (m) => warnings.push(m) }));
  assert.deepEqual([...kept], [0, 0, 0]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /keeps nothing for tensor 't' of model 'm'/);
});

test('every sparsifier returns the task vector unchanged at density 1', () => {
  const delta = gaussian(64, 'unit');
  for (const name of ['magnitude', 'random', 'magnitude_outliers', 'della_magprune'] as const) {
    const out = sparsify(name, delta, options({ density: 1, stream: counterStream('r'), rescale: 'l1', gamma: 0.1 }));
    assert.deepEqual(out, delta, name);
  }
});

test('random (DARE): kept fraction within 4σ of density; same stream → bit-identical; inverse_density = ×1/density', () => {
  const n = 200_000;
  const delta = gaussian(n, 'dare');
  for (const density of [0.1, 0.5, 0.9]) {
    const a = sparsify('random', delta, options({ density, stream: counterStream('s', 'w', 'm1') }));
    const b = sparsify('random', delta, options({ density, stream: counterStream('s', 'w', 'm1') }));
    assert.deepEqual(a, b);
    const keptCount = a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);
    const sigma = Math.sqrt(n * density * (1 - density));
    assert.ok(Math.abs(keptCount - n * density) < 4 * sigma, `kept ${keptCount} of ${n} at density ${density}`);
    const inverse = sparsify('random', delta, options({ density, stream: counterStream('s', 'w', 'm1'), rescale: 'inverse_density' }));
    for (let j = 0; j < n; j += 997) assert.equal(inverse[j], a[j] === 0 ? 0 : Math.fround(delta[j]! / density));
  }
});

test('l1 rescale gives each sparsifier output exactly the L1 norm of the unmasked delta (P1, P2)', () => {
  const delta = gaussian(12 * 50, 'l1');
  const cases = [
    ['random', { density: 0.3 }],
    ['magnitude', { density: 0.3 }],
    ['magnitude_outliers', { density: 0.3, gamma: 0.05 }],
    ['della_magprune', { density: 0.4, epsilon: 0.2 }],
  ] as const;
  for (const [name, extra] of cases) {
    const out = sparsify(name, delta, options({ ...extra, rescale: 'l1', stream: counterStream('l1', name), shape: [12, 50] }));
    const relative = Math.abs(l1(out) - l1(delta)) / l1(delta);
    assert.ok(relative < 1e-6, `${name}: relative L1 error ${relative}`);
    assert.ok(out.some((v) => v === 0));
  }
});

test('breadcrumbs keeps exactly N − n_bot − n_top entries forming a contiguous band in |δ| order', () => {
  const delta = gaussian(3_000, 'crumbs');
  for (let j = 0; j < 300; j++) delta[j * 10] = -0.5; // ties across both cuts' neighbourhoods
  for (const [density, gamma] of [
    [0.9, 0.01],
    [0.5, 0.1],
    [0.2, 0.3],
    [0.95, 0.2],
  ] as const) {
    const { nBottom, nTop } = breadcrumbsBand(delta.length, density, gamma);
    const kept = sparsify('magnitude_outliers', delta, options({ density, gamma }));
    const order = ascendingRanks(delta);
    order.forEach((index, rank) => {
      const inBand = rank >= nBottom && rank < delta.length - nTop;
      assert.equal(kept[index], inBand ? delta[index] : 0, `density ${density} gamma ${gamma} rank ${rank}`);
    });
    assert.equal(kept.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0), delta.length - nBottom - nTop);
  }
});

test('breadcrumbs with gamma = 0 keeps the bottom-pruned delta (band to the end, P3); empty-band option keeps nothing', () => {
  const delta = gaussian(1_000, 'gamma0');
  const kept = sparsify('magnitude_outliers', delta, options({ density: 0.3, gamma: 0 }));
  const top = new Set(ascendingRanks(delta).slice(700));
  kept.forEach((v, j) => assert.equal(v, top.has(j) ? delta[j] : 0));
  const mergekit = sparsify('magnitude_outliers', delta, options({ density: 0.3, gamma: 0, emptyBand: true }));
  assert.ok(mergekit.every((v) => v === 0));
  assert.deepEqual(breadcrumbsBand(100, 0.95, 0.1), { nBottom: 0, nTop: 5 });
});

test('della keep probability rises linearly with rank from density − ε to density + ε (statistical)', () => {
  const rowLength = 9;
  const rows = 40_000;
  const delta = new Float32Array(rows * rowLength);
  const permute = createRng('perm');
  for (let r = 0; r < rows; r++) {
    // each row holds the magnitudes 1..9 in a random order with random signs
    const values = Array.from({ length: rowLength }, (_, j) => (j + 1) * (permute.next() < 0.5 ? -1 : 1));
    for (let j = values.length - 1; j > 0; j--) {
      const s = permute.int(j + 1);
      [values[j], values[s]] = [values[s]!, values[j]!];
    }
    delta.set(values, r * rowLength);
  }
  const density = 0.5;
  const epsilon = 0.2;
  const kept = sparsify('della_magprune', delta, options({ density, epsilon, stream: counterStream('della'), shape: [rows, rowLength] }));
  const keptByRank = new Array<number>(rowLength).fill(0);
  delta.forEach((v, j) => {
    if (kept[j] !== 0) keptByRank[Math.abs(v) - 1]!++;
  });
  keptByRank.forEach((count, rank) => {
    const p = density - epsilon + (2 * epsilon * rank) / (rowLength - 1);
    const sigma = Math.sqrt(rows * p * (1 - p));
    assert.ok(Math.abs(count - rows * p) < 4 * sigma, `rank ${rank}: kept ${count}, expected ${rows * p}`);
  });
  assert.deepEqual([...rowKeepProbabilities(Float32Array.from([3, -1, 2]), 0.2, 0.8)], [0.8, 0.2, 0.5]);
  assert.deepEqual([...rowKeepProbabilities(Float32Array.from([7]), 0.2, 0.8)], [0.5]);
});

test('della inverse_density divides each kept entry by its own keep probability (P2)', () => {
  const delta = Float32Array.from([1, -4, 2, 3]);
  const out = sparsify('della_magprune', delta, options({ density: 0.5, epsilon: 0.3, stream: counterStream('inv'), rescale: 'inverse_density', shape: [4] }));
  const p = [0.2, 0.8, 0.4, 0.6000000000000001];
  out.forEach((v, j) => assert.ok(v === 0 || v === Math.fround(delta[j]! / p[j]!), `index ${j}: ${v}`));
  assert.ok(out.some((v) => v !== 0));
});

test('della with density ± ε outside (0, 1) is a CONFIG_INVALID error naming the model and tensor', () => {
  const delta = gaussian(10, 'err');
  for (const [density, epsilon] of [
    [0.1, 0.15],
    [0.9, 0.15],
  ] as const) {
    assert.throws(
      () => sparsify('della_magprune', delta, options({ density, epsilon, stream: counterStream('e'), modelRef: 'expert-a', tensorName: 'w.q' })),
      (error: unknown) =>
        error instanceof ModelevoError && error.code === 'CONFIG_INVALID' && /expert-a/.test(error.message) && /'w\.q'/.test(error.message),
    );
  }
});
