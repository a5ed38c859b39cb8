import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { ModelevoError } from '../core/errors.js';
import { combineTaskVectors, electSigns } from './consensus.js';
import type { MergeMethod, ParamValue } from './method.js';
import { breadcrumbs } from './methods/breadcrumbs.js';
import { dareLinear } from './methods/dare-linear.js';
import { dareTies } from './methods/dare-ties.js';
import { della } from './methods/della.js';
import { sce } from './methods/sce.js';
import { taskArithmetic } from './methods/task-arithmetic.js';
import { ties } from './methods/ties.js';
import { makeMergeInput } from './test-support.js';
import { computeModelTrimThresholds, TRIM_THRESHOLD_KEY, TRIM_TIE_QUOTA_KEY, uniformDensity } from './trim-scope.js';
import { budget } from '../../test/support/budget.js';

interface Case {
  base: Float32Array | undefined;
  models: Float32Array[];
  refs?: string[];
  modelParams: Record<string, ParamValue>[];
  params?: Record<string, ParamValue>;
  seed?: number;
  shape?: number[];
}

/** Runs the method on a test-support input: defaults filled in, streams keyed by (seed, tensor, model ref). */
function run(method: MergeMethod, c: Case, warnings: string[] = []): Float32Array {
  const input = makeMergeInput(method, {
    base: c.base,
    models: c.models,
    modelRefs: c.refs,
    modelParams: c.modelParams,
    params: c.params,
    seed: c.seed,
    shape: c.shape,
    tensorName: 'layer.weight',
  });
  try {
    return method.mergeTensor(input);
  } finally {
    warnings.push(...input.warnings);
  }
}

function gaussian(n: number, seed: string, scale = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((x, j) => x + b[j]!);
}

test('task_arithmetic: one model, weight 1, λ 1 returns that model; λ = 0 returns the base', () => {
  const base = gaussian(257, 'b');
  const model = add(base, gaussian(257, 'd', 0.01));
  const out = run(taskArithmetic, { base, models: [model], modelParams: [{ weight: 1 }] });
  // B + (X − B) rounds back to X except where X − B itself was inexact in float32
  out.forEach((v, j) => assert.ok(Math.abs(v - model[j]!) <= 1e-7 * Math.abs(model[j]!), `index ${j}`));
  assert.deepEqual(run(taskArithmetic, { base, models: [model], modelParams: [{ weight: 1 }], params: { lambda: 0 } }), base);
});

test('task_arithmetic equals the float64 formula B + λ·Σ w_i·δ_i (normalize on and off)', () => {
  const base = gaussian(100, 'b2');
  const models = [add(base, gaussian(100, 'x1', 0.1)), add(base, gaussian(100, 'x2', 0.1))];
  for (const normalize of [false, true]) {
    const out = run(taskArithmetic, { base, models, modelParams: [{ weight: 0.7 }, { weight: -0.2 }], params: { lambda: 1.5, normalize } });
    out.forEach((v, j) => {
      const d = 0.7 * (models[0]![j]! - base[j]!) - 0.2 * (models[1]![j]! - base[j]!);
      const expected = Math.fround(base[j]! + (1.5 * d) / (normalize ? 0.5 : 1));
      assert.ok(Math.abs(v - expected) <= 2e-7 * Math.abs(expected), `index ${j}: ${v} vs ${expected}`);
    });
  }
});

test('ties with one model and density 1 equals task_arithmetic with the same weight and normalize', () => {
  const base = gaussian(300, 'b3');
  const model = add(base, gaussian(300, 'x3', 0.05));
  for (const normalize of [false, true]) {
    const params = { normalize, lambda: 0.8 };
    const a = run(ties, { base, models: [model], modelParams: [{ weight: 0.6, density: 1 }], params });
    const b = run(taskArithmetic, { base, models: [model], modelParams: [{ weight: 0.6 }], params });
    assert.deepEqual(a, b);
  }
});

test('ties with density 1, unit weights and disjoint supports equals task_arithmetic (normalize false)', () => {
  const base = gaussian(90, 'b4');
  const models = [0, 1, 2].map((i) => base.map((x, j) => (j % 3 === i ? x + (j % 2 ? 0.25 : -0.5) * (i + 1) : x)));
  const params = { normalize: false };
  const modelParams = models.map(() => ({ weight: 1, density: 1 }));
  assert.deepEqual(run(ties, { base, models, modelParams, params }), run(taskArithmetic, { base, models, modelParams, params }));
});

test('dare_* with density 1 equals the corresponding non-random method', () => {
  const base = gaussian(200, 'b5');
  const models = [add(base, gaussian(200, 'x5', 0.1)), add(base, gaussian(200, 'x6', 0.1))];
  const modelParams = [{ weight: 0.5, density: 1 }, { weight: 1.5, density: 1 }];
  for (const normalize of [false, true]) {
    const params = { normalize };
    assert.deepEqual(run(dareLinear, { base, models, modelParams, params }), run(taskArithmetic, { base, models, modelParams, params }));
    assert.deepEqual(run(dareTies, { base, models, modelParams, params }), run(ties, { base, models, modelParams, params }));
  }
});

test('dare_ties: same seed → bit-identical; reordering models (streams keyed by ref) → same output; new seed differs', () => {
  const base = gaussian(5_000, 'b6');
  const models = [add(base, gaussian(5_000, 'x7', 0.1)), add(base, gaussian(5_000, 'x8', 0.1)), add(base, gaussian(5_000, 'x9', 0.1))];
  const refs = ['lit', 'code', 'math'];
  const modelParams = [{ weight: 1, density: 0.3 }, { weight: 0.5, density: 0.5 }, { weight: 0.8, density: 0.2 }];
  const first = run(dareTies, { base, models, refs, modelParams, seed: 7 });
  assert.deepEqual(run(dareTies, { base, models, refs, modelParams, seed: 7 }), first);
  const order = [2, 0, 1];
  const permuted = run(dareTies, { base, models: order.map((i) => models[i]!), refs: order.map((i) => refs[i]!), modelParams: order.map((i) => modelParams[i]!), seed: 7 });
  permuted.forEach((v, j) => assert.ok(Math.abs(v - first[j]!) <= 1e-6 * Math.abs(first[j]!), `index ${j}`));
  assert.notDeepEqual(run(dareTies, { base, models, refs, modelParams, seed: 8 }), first);
});

test('electSigns: exact zero sums go to +1; negative weights flip a model’s vote', () => {
  const a = Float32Array.from([1, -1, 0, 2]);
  const b = Float32Array.from([-1, -1, 0, 1]);
  assert.deepEqual([...electSigns([a, b], [1, 1])], [1, -1, 1, 1]);
  assert.deepEqual([...electSigns([a, b], [1, -3])], [1, 1, 1, -1]);
});

test('combineTaskVectors: disjoint mean over agreeing non-zero entries; tiny divisors become 1', () => {
  const base = Float32Array.from([0, 0, 0, 10]);
  const d1 = Float32Array.from([2, 0, -1, 0]);
  const d2 = Float32Array.from([4, 3, 0.5, 0]);
  const out = combineTaskVectors({ base, deltas: [d1, d2], weights: [1, 0.5], consensus: true, normalize: true, lambda: 1 });
  // [0]: both agree (+): (2 + 2)/(1.5); [1]: only d2: 1.5/0.5; [2]: sum −0.75 → d1 only: −1/1; [3]: nobody, div 1
  assert.deepEqual([...out], [Math.fround(4 / 1.5), 3, -1, 10]);
  const none = combineTaskVectors({ base, deltas: [d1, d2], weights: [1e-9, -1e-9], consensus: false, normalize: true, lambda: 2 });
  assert.deepEqual([...none], [Math.fround(2 * (2e-9 - 4e-9)), Math.fround(2 * -3e-9), Math.fround(2 * (-1e-9 - 0.5e-9)), 10]);
});

test('breadcrumbs with gamma 0 gives the bottom-pruned delta, not the base; breadcrumbs_empty_band reproduces mergekit', () => {
  const base = gaussian(400, 'b7');
  const model = add(base, gaussian(400, 'x10', 0.1));
  const out = run(breadcrumbs, { base, models: [model], modelParams: [{ weight: 1, density: 0.25, gamma: 0 }] });
  const changed = out.reduce((c, v, j) => c + (v !== base[j] ? 1 : 0), 0);
  assert.equal(changed, 100);
  const mergekit = run(breadcrumbs, { base, models: [model], modelParams: [{ weight: 1, density: 0.25, gamma: 0 }], params: { breadcrumbs_empty_band: true } });
  assert.deepEqual(mergekit, base);
});

test('della rejects density ± epsilon outside (0, 1) with CONFIG_INVALID', () => {
  const base = gaussian(20, 'b8');
  assert.throws(
    () => run(della, { base, models: [add(base, base)], modelParams: [{ weight: 1, density: 0.9, epsilon: 0.15 }] }),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID',
  );
});

test('shape mismatch is an error naming the tensor (P13); a missing base is a CONFIG_INVALID error', () => {
  const base = gaussian(10, 'b9');
  assert.throws(
    () => run(ties, { base, models: [gaussian(12, 'x')], modelParams: [{ weight: 1, density: 0.5 }] }),
    (e: unknown) => e instanceof ModelevoError && e.code === 'SHAPE_MISMATCH' && /layer\.weight/.test(e.message),
  );
  assert.throws(() => run(ties, { base: undefined, models: [base], modelParams: [{ weight: 1 }] }), /requires base_model/);
});

test('ties with trim_scope: model keeps exactly ⌊density·N_model⌋ entries over two tensors', async () => {
  const base = [gaussian(3_000, 'tb1'), gaussian(1_000, 'tb2')];
  const deltas = [gaussian(3_000, 'td1', 0.01), gaussian(1_000, 'td2', 0.5)];
  for (let j = 0; j < 200; j++) deltas[0]![j] = 0.02; // ties that straddle the cut
  for (let j = 0; j < 200; j++) deltas[1]![j] = -0.02;
  const models = base.map((b, t) => add(b, deltas[t]!));
  const actualDeltas = models.map((m, t) => m.map((x, j) => x - base[t]![j]!));
  const density = 0.3;
  const [cut] = await computeModelTrimThresholds([{ modelRef: 'm', density, deltas: () => actualDeltas }], { tieQuotas: true });
  assert.ok(cut);
  assert.equal(cut.keepCount, 1_200);
  const sorted = Float64Array.from(actualDeltas.flatMap((d) => Array.from(d, Math.abs))).sort().reverse();
  assert.equal(cut.threshold, sorted[1_199]);
  let kept = 0;
  models.forEach((model, t) => {
    const out = run(ties, {
      base: base[t]!,
      models: [model],
      modelParams: [{ weight: 1, density, [TRIM_THRESHOLD_KEY]: cut.threshold, [TRIM_TIE_QUOTA_KEY]: cut.tieQuotas![t]! }],
      params: { trim_scope: 'model' },
    });
    kept += out.reduce((c, v, j) => c + (v !== base[t]![j] ? 1 : 0), 0);
  });
  assert.equal(kept, 1_200);
  assert.throws(
    () => run(ties, { base: base[0]!, models: [models[0]!], modelParams: [{ weight: 1, density }], params: { trim_scope: 'model' } }),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID' && /computeModelTrimThresholds/.test(e.hint ?? ''),
  );
  assert.throws(() => uniformDensity('m', [['a', 0.3], ['b', 0.4]]), /one density per model/);
  assert.equal(uniformDensity('m', [['a', 0.3], ['b', 0.3]]), 0.3);
});

/** Independent SCE reference (§3.7) in float64 with a sort-based top-k. */
function referenceSce(base: Float32Array, models: Float32Array[], selectTopk: number): Float64Array {
  const n = base.length;
  const taus = models.map((m) => Array.from(m, (x, j) => Math.fround(x - base[j]!)));
  if (selectTopk < 1) {
    const variance = Array.from({ length: n }, (_, j) => {
      const mean = taus.reduce((s, t) => s + t[j]!, 0) / taus.length;
      return Math.fround(taus.reduce((s, t) => s + (t[j]! - mean) ** 2, 0) / taus.length);
    });
    const k = Math.floor(variance.filter((v) => v !== 0).length * selectTopk);
    const keep = new Set(
      variance
        .map((v, j) => [v, j] as const)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .slice(0, k)
        .map(([, j]) => j),
    );
    for (const t of taus) for (let j = 0; j < n; j++) if (!keep.has(j)) t[j] = 0;
  }
  const raw = taus.map((t) => t.reduce((s, x) => s + x * x, 0) / n);
  const total = raw.reduce((a, b) => a + b, 0);
  const s = total < 1e-6 ? raw.map(() => 1 / raw.length) : raw.map((r) => r / total);
  return Float64Array.from({ length: n }, (_, j) => {
    const sign = taus.reduce((acc, t) => acc + t[j]!, 0) >= 0 ? 1 : -1;
    let num = 0;
    let den = 0;
    taus.forEach((t, i) => {
      if (Math.sign(t[j]!) === sign) {
        num += s[i]! * t[j]!;
        den += s[i]!;
      }
    });
    return base[j]! + num / Math.max(den, 1e-6);
  });
}

test('sce matches an independent float64 reference (select_topk 1, 0.3, 0.05)', () => {
  const base = gaussian(2_000, 'sb');
  const models = [0.01, 0.02, 0.05].map((scale, i) => add(base, gaussian(2_000, `sx${i}`, scale)));
  for (let j = 0; j < 100; j++) models[0]![j] = base[j]!; // zero task-vector entries
  for (const selectTopk of [1, 0.3, 0.05]) {
    const out = run(sce, { base, models, modelParams: models.map(() => ({})), params: { select_topk: selectTopk } });
    const expected = referenceSce(base, models, selectTopk);
    out.forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) <= 1e-6 * Math.abs(expected[j]!), `select_topk ${selectTopk} index ${j}: ${v} vs ${expected[j]}`));
  }
});

// CPU time of this process, so that other jobs sharing the machine do not count
function cpuMilliseconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

// A fixed CPU limit failed under load (3.0 s at load 19, where an idle run takes well under 1 s): contention
// slows every memory-bound loop alike, so ties is timed against one plain pass over the same inputs.
// 4M elements (48 MB of inputs, far beyond cache) under npm test; 16M in test:full.
test('timing sanity: ties on a 4M-element (test:full 16M) tensor with 3 models costs at most 12 plain passes over its inputs', () => {
  const n = budget(1 << 22, 1 << 24);
  const base = new Float32Array(n);
  const rng = createRng('timing');
  const models = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => rng.normal() * 0.01));
  const passStart = cpuMilliseconds();
  const sums = new Float32Array(n);
  for (const model of models) for (let i = 0; i < n; i++) sums[i] = sums[i]! + Math.abs(model[i]!);
  const pass = cpuMilliseconds() - passStart;
  const cpuStart = cpuMilliseconds();
  const out = run(ties, { base, models, modelParams: models.map(() => ({ weight: 1, density: 0.2 })) });
  const cpu = cpuMilliseconds() - cpuStart;
  assert.equal(out.length, n);
  assert.ok(out.some((v) => v !== 0));
  assert.ok(cpu < 12 * pass, `ties took ${cpu.toFixed(0)} ms of CPU, ${(cpu / pass).toFixed(1)}× one plain pass (${pass.toFixed(0)} ms)`);
  console.log(`ties ${n / (1 << 20)}M × 3: ${cpu.toFixed(0)} ms CPU = ${(cpu / pass).toFixed(1)}× one plain pass`);
});
