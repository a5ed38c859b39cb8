import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { nuslerp } from './nuslerp.js';

/** Float64 S(t, v0, v1) of §3.3 on one vector. */
function referenceS(t: number, v0: number[], v1: number[]): number[] {
  const norm = (v: number[]) => Math.max(Math.sqrt(v.reduce((s, x) => s + x * x, 0)), 1e-7);
  const n0 = norm(v0);
  const n1 = norm(v1);
  let c = 0;
  for (let j = 0; j < v0.length; j++) c += (v0[j]! / n0) * (v1[j]! / n1);
  const theta = Math.acos(Math.min(1, Math.max(-1, c)));
  if (Math.abs(Math.sin(theta)) < 1e-8) return v0.map((x, j) => (1 - t) * x + t * v1[j]!);
  return v0.map((x, j) => (Math.sin((1 - t) * theta) * x + Math.sin(t * theta) * v1[j]!) / Math.sin(theta));
}

/** Float64 nuslerp over a 2-D [rows, cols] tensor: whole, per row, or per column. */
function referenceNuslerp(
  x1: ArrayLike<number>,
  x2: ArrayLike<number>,
  base: ArrayLike<number> | undefined,
  [w1, w2]: [number, number],
  [rows, cols]: [number, number],
  mode: 'flatten' | 'rows' | 'columns',
): number[] {
  const t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
  const d1 = Array.from(x1, (x, j) => x - (base ? base[j]! : 0));
  const d2 = Array.from(x2, (x, j) => x - (base ? base[j]! : 0));
  const out = new Array<number>(d1.length).fill(0);
  const groups: number[][] =
    mode === 'flatten'
      ? [d1.map((_, j) => j)]
      : mode === 'rows'
        ? Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c))
        : Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => r * cols + c));
  for (const indices of groups) {
    const s = referenceS(t, indices.map((j) => d1[j]!), indices.map((j) => d2[j]!));
    indices.forEach((j, k) => (out[j] = s[k]! + (base ? base[j]! : 0)));
  }
  return out;
}

const rows = 4;
const cols = 5;
const x1 = Float32Array.from({ length: 20 }, (_, j) => Math.sin(j + 1) * 2);
const x2 = Float32Array.from({ length: 20 }, (_, j) => Math.cos(3 * j) - 0.2);
const base = Float32Array.from({ length: 20 }, (_, j) => 0.1 * ((j % 7) - 3));

function run(models: Float32Array[], weights: number[], b: Float32Array | undefined, params: Record<string, boolean> = {}, shape = [rows, cols]) {
  return nuslerp.mergeTensor(
    makeMergeInput(nuslerp, { base: b, models, shape, modelParams: weights.map((weight) => ({ weight })), params }),
  );
}

const MODES = {
  flatten: {},
  rows: { nuslerp_flatten: false, nuslerp_row_wise: false },
  columns: { nuslerp_flatten: false, nuslerp_row_wise: true },
} as const;

describe('nuslerp (§3.3)', () => {
  test('matches the float64 reference in every vector mode, with and without a base', () => {
    for (const [mode, params] of Object.entries(MODES) as [keyof typeof MODES, Record<string, boolean>][]) {
      for (const b of [undefined, base]) {
        const expected = referenceNuslerp(x1, x2, b, [0.7, 0.3], [rows, cols], mode);
        assertCloseToReference(run([x1, x2], [0.7, 0.3], b, params), expected, 1e-6, `${mode}, base ${b ? 'yes' : 'no'}`);
      }
    }
  });

  test('the three vector modes really differ (row_wise = dimension 0 per the code, P12)', () => {
    const [flat, byRow, byColumn] = Object.values(MODES).map((params) => run([x1, x2], [0.7, 0.3], base, params));
    const differ = (a: Float32Array, b: Float32Array) => a.some((v, j) => Math.abs(v - b[j]!) > 1e-4);
    assert.ok(differ(flat!, byRow!) && differ(byRow!, byColumn!) && differ(flat!, byColumn!));
  });

  test('swapping the two models and their weights gives the same result', () => {
    for (const params of Object.values(MODES)) {
      for (const b of [undefined, base]) {
        assertCloseToReference(run([x2, x1], [0.3, 0.7], b, params), run([x1, x2], [0.7, 0.3], b, params), 1e-6, 'swapped');
      }
    }
  });

  test('equal weights give t = 0.5; weights summing to ~0 also fall back to t = 0.5', () => {
    const half = referenceNuslerp(x1, x2, base, [0.5, 0.5], [rows, cols], 'flatten');
    assertCloseToReference(run([x1, x2], [2, 2], base), half, 1e-6, 'equal weights');
    assertCloseToReference(run([x1, x2], [1, -1 + 1e-9], base), half, 1e-6, 'zero sum');
    // t = 0.5 is symmetric in the two vectors
    assertCloseToReference(run([x2, x1], [3, 3], base), half, 1e-6, 'equal weights, swapped');
  });

  test('a weight of zero returns the other endpoint', () => {
    assertCloseToReference(run([x1, x2], [1, 0], base), x1, 1e-6, 'w2 = 0');
    assertCloseToReference(run([x1, x2], [0, 1], undefined), x2, 1e-6, 'w1 = 0');
  });

  test('golden: tiny-llama expert-literature and expert-math over base, k_proj per row and flattened', () => {
    const name = 'model.layers.1.self_attn.k_proj.weight';
    const [b, e1, e2] = ['base', 'expert-literature', 'expert-math'].map((m) => readFixtureTensor(m, name));
    const shape = b!.shape as [number, number];
    for (const mode of ['flatten', 'rows', 'columns'] as const) {
      const out = run([e1!.data, e2!.data], [0.4, 0.6], b!.data, MODES[mode], shape);
      assertCloseToReference(out, referenceNuslerp(e1!.data, e2!.data, b!.data, [0.4, 0.6], shape, mode), 1e-6, `${name} ${mode}`);
    }
  });
});
