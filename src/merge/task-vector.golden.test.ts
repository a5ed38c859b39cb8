/**
 * Golden checks on real tensors of the tiny-llama fixture family (base + expert-literature/code/math):
 * task_arithmetic, ties, breadcrumbs and breadcrumbs_ties against an independent float64 reference written
 * here with sort-based selection (merge-methods.md §3.6). Task vectors are rounded to float32 in the
 * reference too, as §0 prescribes for element-wise arithmetic; everything after that is float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MergeMethod, ParamValue } from './method.js';
import { breadcrumbs } from './methods/breadcrumbs.js';
import { breadcrumbsTies } from './methods/breadcrumbs-ties.js';
import { taskArithmetic } from './methods/task-arithmetic.js';
import { ties } from './methods/ties.js';
import { makeMergeInput, readFixtureF32 } from './test-support.js';

const EXPERTS = ['expert-literature', 'expert-code', 'expert-math'];
const TENSORS = [
  'model.layers.0.self_attn.q_proj.weight',
  'model.layers.1.mlp.down_proj.weight',
  'model.layers.2.input_layernorm.weight',
  'model.embed_tokens.weight',
];

function load(model: string) {
  return readFixtureF32(`test/fixtures/tiny-llama/${model}/model.safetensors`, TENSORS);
}
const baseTensors = load('base');
const expertTensors = EXPERTS.map(load);

type Selector = (delta: readonly number[], model: number) => boolean[];

interface Reference {
  weights: number[];
  select?: Selector;
  consensus: boolean;
  normalize: boolean;
  lambda: number;
}

function referenceMerge(base: Float32Array, models: Float32Array[], r: Reference): Float64Array {
  const deltas = models.map((m, i) => {
    const delta = Array.from(m, (x, j) => Math.fround(x - base[j]!));
    const keep = r.select ? r.select(delta, i) : delta.map(() => true);
    return delta.map((d, j) => (keep[j] ? d : 0));
  });
  return Float64Array.from(base, (b, j) => {
    const weighted = deltas.map((d, i) => r.weights[i]! * d[j]!);
    const total = weighted.reduce((a, x) => a + x, 0);
    const sign = total >= 0 ? 1 : -1;
    let mixed = 0;
    let divisor = 0;
    weighted.forEach((d, i) => {
      if (!r.consensus || Math.sign(d) === sign) {
        mixed += d;
        divisor += r.weights[i]!;
      }
    });
    if (Math.abs(divisor) < 1e-8) divisor = 1;
    return b + r.lambda * (r.normalize ? mixed / divisor : mixed);
  });
}

/** the k largest |δ|, lower index first at equal magnitudes */
function topK(density: number): Selector {
  return (delta) => {
    const k = Math.floor(density * delta.length);
    const order = delta.map((_, j) => j).sort((a, b) => Math.abs(delta[b]!) - Math.abs(delta[a]!) || a - b);
    const keep = delta.map(() => false);
    for (const j of order.slice(0, k)) keep[j] = true;
    return keep;
  };
}

/** ascending |δ| ranks [n_bot, N − n_top) with the spec's band arithmetic (n_top = 0 → band to the end) */
function band(density: number, gamma: number): Selector {
  return (delta) => {
    const n = delta.length;
    let nTop = Math.floor(gamma * n);
    let nBottom = n - Math.floor(density * n) - nTop;
    if (nBottom < 0) {
      nTop += nBottom;
      nBottom = 0;
    }
    const order = delta.map((_, j) => j).sort((a, b) => Math.abs(delta[a]!) - Math.abs(delta[b]!) || a - b);
    const keep = delta.map(() => false);
    order.forEach((j, rank) => (keep[j] = rank >= nBottom && rank < n - nTop));
    return keep;
  };
}

function assertClose(actual: Float32Array, expected: Float64Array, label: string): void {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let j = 0; j < expected.length; j++) {
    const relative = Math.abs(actual[j]! - expected[j]!) / Math.max(Math.abs(expected[j]!), 1e-30);
    worst = Math.max(worst, relative);
  }
  assert.ok(worst <= 1e-6, `${label}: worst relative error ${worst}`);
}

function check(method: MergeMethod, modelParams: Record<string, ParamValue>[], params: Record<string, ParamValue>, reference: Reference) {
  for (const name of TENSORS) {
    const base = baseTensors.get(name)!;
    const models = expertTensors.map((t) => t.get(name)!.data);
    const input = makeMergeInput(method, { base: base.data, models, shape: base.shape, tensorName: name, modelRefs: EXPERTS, modelParams, params });
    const out = method.mergeTensor(input);
    assertClose(out, referenceMerge(base.data, models, reference), `${method.name} ${name}`);
    assert.ok(out.some((v, j) => v !== base.data[j]), `${method.name} ${name} changed nothing`);
  }
}

test('golden: task_arithmetic on tiny-llama tensors (normalize off and on, λ 0.9)', () => {
  const weights = [0.5, 0.3, 0.8];
  for (const normalize of [false, true]) {
    check(taskArithmetic, weights.map((weight) => ({ weight })), { normalize, lambda: 0.9 }, { weights, consensus: false, normalize, lambda: 0.9 });
  }
});

test('golden: ties on tiny-llama tensors (per-model densities, disjoint mean)', () => {
  const weights = [1, 0.7, 0.5];
  const densities = [0.2, 0.3, 0.5];
  const modelParams = weights.map((weight, i) => ({ weight, density: densities[i]! }));
  const select: Selector = (delta, i) => topK(densities[i]!)(delta, i);
  check(ties, modelParams, { lambda: 1.2 }, { weights, select, consensus: true, normalize: true, lambda: 1.2 });
});

test('golden: breadcrumbs and breadcrumbs_ties on tiny-llama tensors (default gamma and gamma 0)', () => {
  const weights = [0.6, 0.9, 0.4];
  for (const [density, gamma] of [
    [0.9, 0.01],
    [0.5, 0.05],
    [0.4, 0],
  ] as const) {
    const modelParams = weights.map((weight) => ({ weight, density, gamma }));
    check(breadcrumbs, modelParams, {}, { weights, select: band(density, gamma), consensus: false, normalize: false, lambda: 1 });
    check(breadcrumbsTies, modelParams, {}, { weights, select: band(density, gamma), consensus: true, normalize: false, lambda: 1 });
  }
});
