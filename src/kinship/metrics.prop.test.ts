import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KINSHIP_METRICS, KINSHIP_METRIC_NAMES, getKinshipMetric } from './registry.js';
import type { AnyKinshipMetric } from './metric.js';
import { referenceCosine, referenceEuclidean, referencePcc } from '../../test/kinship/reference.js';
import { UnknownNameError } from '../core/errors.js';

const finite = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
/** paired vectors of 3..200 elements with non-zero spread in both */
const pairedVectors = fc
  .integer({ min: 3, max: 200 })
  .chain((n) => fc.tuple(fc.array(finite, { minLength: n, maxLength: n }), fc.array(finite, { minLength: n, maxLength: n })))
  .map(([a, b]) => [Float64Array.from(a), Float64Array.from(b)] as const)
  .filter(([a, b]) => spread(a) > 1e-3 && spread(b) > 1e-3);

function spread(v: Float64Array): number {
  return Math.max(...v) - Math.min(...v);
}

function metricOf(metric: AnyKinshipMetric, x: Float64Array, y: Float64Array, chunk = x.length): number {
  let stats = metric.init();
  for (let s = 0; s < x.length; s += chunk) stats = metric.accumulate(stats, x.subarray(s, s + chunk), y.subarray(s, s + chunk));
  return metric.finish(stats);
}

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('each metric equals its plain float64 formula, for any chunking', () => {
  const reference = { pcc: referencePcc, cs: referenceCosine, cs_abs: (x: Float64Array, y: Float64Array) => Math.abs(referenceCosine(x, y)), ed: referenceEuclidean };
  fc.assert(
    fc.property(pairedVectors, fc.integer({ min: 1, max: 64 }), ([x, y], chunk) => {
      for (const name of KINSHIP_METRIC_NAMES) {
        const expected = reference[name](x, y);
        const got = metricOf(KINSHIP_METRICS[name], x, y, chunk);
        if (!close(got, expected)) return false;
      }
      return true;
    }),
  );
});

test('combine of two halves equals accumulating the whole vector', () => {
  fc.assert(
    fc.property(pairedVectors, fc.nat(), ([x, y], cutSeed) => {
      const cut = cutSeed % (x.length + 1);
      for (const metric of Object.values(KINSHIP_METRICS)) {
        const left = metric.accumulate(metric.init(), x.subarray(0, cut), y.subarray(0, cut));
        const right = metric.accumulate(metric.init(), x.subarray(cut), y.subarray(cut));
        // combining in either order gives the whole
        const whole = metricOf(metric, x, y);
        if (!close(metric.finish(metric.combine(left, right)), whole)) return false;
        if (!close(metric.finish(metric.combine(right, left)), whole)) return false;
      }
      return true;
    }),
  );
});

test('symmetry, self-kinship 1 (distance 0) and cs_abs = |cs|', () => {
  fc.assert(
    fc.property(pairedVectors, ([x, y]) => {
      for (const metric of Object.values(KINSHIP_METRICS)) {
        if (!close(metricOf(metric, x, y), metricOf(metric, y, x), 1e-12)) return false;
        if (metricOf(metric, x, x) !== metric.selfValue) return false;
      }
      return metricOf(KINSHIP_METRICS.cs_abs, x, y) === Math.abs(metricOf(KINSHIP_METRICS.cs, x, y));
    }),
  );
});

test('PCC is invariant to a shift and to positive scaling of one delta; negative scaling flips its sign', () => {
  fc.assert(
    fc.property(pairedVectors, fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true }), ([x, y], shift, scale) => {
      const pcc = metricOf(KINSHIP_METRICS.pcc, x, y);
      const shifted = x.map((v) => v + shift);
      const scaled = x.map((v) => v * scale);
      const flipped = x.map((v) => -v * scale);
      return (
        close(metricOf(KINSHIP_METRICS.pcc, shifted, y), pcc, 1e-7) &&
        close(metricOf(KINSHIP_METRICS.pcc, scaled, y), pcc, 1e-9) &&
        close(metricOf(KINSHIP_METRICS.pcc, flipped, y), -pcc, 1e-9)
      );
    }),
  );
});

test('PCC equals CS when both deltas have zero mean', () => {
  fc.assert(
    fc.property(pairedVectors, ([x, y]) => {
      const centre = (v: Float64Array) => {
        const m = v.reduce((s, e) => s + e, 0) / v.length;
        return v.map((e) => e - m);
      };
      const cx = centre(x);
      const cy = centre(y);
      return close(metricOf(KINSHIP_METRICS.pcc, cx, cy), metricOf(KINSHIP_METRICS.cs, cx, cy), 1e-9);
    }),
  );
});

test('degenerate deltas give NaN with a reason instead of a number', () => {
  const constant = new Float64Array([2, 2, 2, 2]);
  const zero = new Float64Array(4);
  const varied = new Float64Array([1, -2, 3, 0.5]);
  const pcc = KINSHIP_METRICS.pcc;
  const stats = pcc.accumulate(pcc.init(), constant, varied);
  assert.ok(Number.isNaN(pcc.finish(stats)));
  assert.match(pcc.explainNaN(stats) ?? '', /constant/);
  const cs = KINSHIP_METRICS.cs;
  const csStats = cs.accumulate(cs.init(), zero, varied);
  assert.ok(Number.isNaN(cs.finish(csStats)));
  assert.match(cs.explainNaN(csStats) ?? '', /all zeros/);
  assert.equal(pcc.explainNaN(pcc.accumulate(pcc.init(), varied, varied.map((v) => -v))), undefined);
  assert.equal(pcc.finish(pcc.accumulate(pcc.init(), varied, varied.map((v) => -v))), -1);
  // ED of a delta with itself is exactly zero even when the delta is constant
  const ed = KINSHIP_METRICS.ed;
  assert.equal(ed.finish(ed.accumulate(ed.init(), constant, constant)), 0);
  assert.equal(ed.finish(ed.accumulate(ed.init(), new Float64Array([3, 0]), new Float64Array([0, 4]))), 5);
});

test('PCC survives a large common offset that ruins raw sums', () => {
  // deltas 1e6 + small signal: raw Σx² − n·x̄² loses every digit of the signal's variance in float64
  const n = 1000;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const signal = Math.sin(i * 0.37) * 1e-4;
    x[i] = 1e6 + signal;
    y[i] = 1e6 + 2 * signal + Math.cos(i * 1.3) * 1e-5;
  }
  const expected = referencePcc(x, y);
  assert.ok(expected > 0.99 && expected < 1);
  assert.ok(close(metricOf(KINSHIP_METRICS.pcc, x, y, 17), expected, 1e-6));
});

test('unknown metric names list the valid ones and suggest the closest', () => {
  assert.throws(() => getKinshipMetric('pc'), (error: unknown) => {
    assert.ok(error instanceof UnknownNameError);
    assert.equal(error.code, 'UNKNOWN_NAME');
    assert.match(error.hint ?? '', /did you mean 'pcc'/);
    assert.match(error.hint ?? '', /pcc, cs, cs_abs, ed/);
    return true;
  });
  assert.deepEqual(KINSHIP_METRIC_NAMES, ['pcc', 'cs', 'cs_abs', 'ed']);
});
