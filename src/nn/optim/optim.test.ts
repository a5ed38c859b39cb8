/**
 * Optimisers and schedules against closed forms derived by hand for a constant gradient g (independent of the
 * update loops): SGD p_t = p₀ − t·lr·g; heavy-ball momentum v_t = g(1−μᵗ)/(1−μ); Nesterov step g + μ·v_t;
 * Adam with constant g has m̂_t = g and v̂_t = g² exactly, so every step is lr·g/(|g| + ε); AdamW adds the
 * decay p ← (1 − lr·λ)p before that step. Run on both kernel implementations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReferenceKernels } from '../kernels/reference/index.js';
import { createWasmKernels } from '../kernels/wasm/index.js';
import type { NnKernels } from '../kernels/kernels.js';
import { ArenaPlanner } from '../arena.js';
import { planOptimizer, type OptimizerSpec } from './registry.js';
import { learningRate } from './schedule.js';

const P0 = [0.5, -1.25, 2, 0, -0.75, 3, 1e-3];
const G = [0.1, -0.2, 0.3, -0.4, 0.5, -2, 1e-4];

/** `shards`: split points of the run, each shard stepped on its own (a data-parallel replica's update) */
function run(kernels: (floats: number) => NnKernels, spec: OptimizerSpec, steps: number, lr: number, gradScale = 1, shards: number[] = []): number[] {
  const planner = new ArenaPlanner();
  const p = planner.param('p', [P0.length], { kind: 'zeros' });
  const optimizer = planOptimizer(spec, P0.length, planner);
  const k = kernels(planner.floatsNeeded());
  planner.layout(k.base);
  k.data.set(P0, p.offset);
  for (let t = 1; t <= steps; t++) {
    k.data.set(G, p.grad.offset);
    const bounds = [0, ...shards, P0.length];
    for (let s = 0; s + 1 < bounds.length; s++) {
      const first = bounds[s]!;
      const count = bounds[s + 1]! - first;
      optimizer.step(k, { params: p.offset + first, grads: p.grad.offset + first, count, first }, lr, gradScale, t);
    }
  }
  return Array.from(k.data.subarray(p.offset, p.offset + P0.length));
}

const implementations = [
  ['reference float64', (f: number) => createReferenceKernels(f, 'float64')],
  ['wasm', createWasmKernels],
] as const;

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

for (const [name, kernels] of implementations) {
  const tol = name === 'wasm' ? 2e-6 : 1e-12;
  const T = 7;
  const lr = 0.05;

  test(`${name}: plain SGD and gradient scaling follow p_t = p₀ − t·lr·s·g`, () => {
    assertClose(run(kernels, { kind: 'sgd' }, T, lr), P0.map((p, i) => p - T * lr * G[i]!), tol, 'sgd');
    assertClose(run(kernels, { kind: 'sgd' }, T, lr, 0.25), P0.map((p, i) => p - T * lr * 0.25 * G[i]!), tol, 'scaled sgd');
  });

  test(`${name}: SGD momentum and Nesterov follow their closed forms`, () => {
    const mu = 0.9;
    // Σ_{t=1..T} (1 − μᵗ)/(1 − μ) = (T − μ(1 − μᵀ)/(1 − μ)) / (1 − μ)
    const heavy = (T - (mu * (1 - mu ** T)) / (1 - mu)) / (1 - mu);
    assertClose(run(kernels, { kind: 'sgd', momentum: mu }, T, lr), P0.map((p, i) => p - lr * G[i]! * heavy), tol, 'momentum');
    assertClose(run(kernels, { kind: 'sgd', momentum: mu, nesterov: true }, T, lr), P0.map((p, i) => p - lr * G[i]! * (T + mu * heavy)), tol, 'nesterov');
  });

  test(`${name}: Adam with a constant gradient steps lr·g/(|g| + ε) every step; AdamW decays first`, () => {
    const eps = 1e-8;
    const step = (g: number): number => (lr * g) / (Math.abs(g) + eps);
    assertClose(run(kernels, { kind: 'adam', eps }, T, lr), P0.map((p, i) => p - T * step(G[i]!)), 10 * tol, 'adam');
    const decay = 0.1;
    const expected = P0.map((p, i) => {
      // p_t = a·p_{t−1} − s with a = 1 − lr·λ: p_T = aᵀp₀ − s(1 − aᵀ)/(1 − a)
      const a = 1 - lr * decay;
      return a ** T * p - (step(G[i]!) * (1 - a ** T)) / (1 - a);
    });
    assertClose(run(kernels, { kind: 'adamw', eps, weightDecay: decay }, T, lr), expected, 10 * tol, 'adamw');
  });
}

for (const spec of [{ kind: 'sgd', momentum: 0.9, nesterov: true }, { kind: 'adamw', weightDecay: 0.1 }] as const) {
  test(`wasm: ${spec.kind} stepped in shards equals one whole step (optimiser state indexed by \`first\`)`, () => {
    // a mis-indexed shard would read another element's momentum/moments and drift from step 2 on
    const whole = run(createWasmKernels, spec, 5, 0.05);
    // a split on a multiple of the SIMD width keeps every element in the same lane/tail path: bit-identical
    assert.deepEqual(run(createWasmKernels, spec, 5, 0.05, 1, [4]), whole);
    // elsewhere SIMD body and scalar tail may round the last bit differently
    assertClose(run(createWasmKernels, spec, 5, 0.05, 1, [3]), whole, 1e-6, `${spec.kind} split at 3`);
  });
}

test('schedules: constant, step (StepLR) and cosine (endpoints and midpoint)', () => {
  assert.equal(learningRate({ kind: 'constant' }, 0.1, 57), 0.1);
  assert.deepEqual([1, 10, 11, 21].map((t) => learningRate({ kind: 'step', every: 10, gamma: 0.5 }, 0.1, t)), [0.1, 0.1, 0.05, 0.025]);
  const cosine = { kind: 'cosine', totalSteps: 101, minLr: 0.01 } as const;
  assert.equal(learningRate(cosine, 0.1, 1), 0.1);
  assert.ok(Math.abs(learningRate(cosine, 0.1, 51) - 0.055) < 1e-12);
  assert.ok(Math.abs(learningRate(cosine, 0.1, 101) - 0.01) < 1e-12);
});
