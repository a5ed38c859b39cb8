import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterStream, counterUint32, counterUniform } from './counter-rng.js';

const MOD = 2n ** 32n;

/** lowbias32 written independently in BigInt arithmetic modulo 2^32. */
function lowbias32Big(x: bigint): bigint {
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) % MOD;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) % MOD;
  x ^= x >> 16n;
  return x;
}

test('counterUint32 equals h(h(i xor k0) + k1) computed in BigInt, for indices up to 2^32 − 1', () => {
  const stream = counterStream(7, 'model.layers.0.mlp.up_proj.weight', 'expert-a');
  for (const index of [0, 1, 2, 3, 1000, 65535, 2 ** 31, 2 ** 32 - 1]) {
    const expected = lowbias32Big((lowbias32Big(BigInt(index) ^ BigInt(stream.k0)) + BigInt(stream.k1)) % MOD);
    assert.equal(counterUint32(stream, index), Number(expected), `index ${index}`);
  }
});

test('counter streams: keyed by every part, a bijection on indices, uniform by a chi-square test', () => {
  const a = counterStream(0, 't', 'm');
  assert.notDeepEqual(counterStream(1, 't', 'm'), a);
  assert.notDeepEqual(counterStream(0, 'u', 'm'), a);
  assert.notDeepEqual(counterStream(0, 't', 'n'), a);
  assert.deepEqual(counterStream(0, 't', 'm'), a);
  const n = 200_000;
  const seen = new Set<number>();
  const bins = new Float64Array(64);
  for (let i = 0; i < n; i++) {
    seen.add(counterUint32(a, i));
    const u = counterUniform(a, i);
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 64)]!++;
  }
  assert.equal(seen.size, n, 'two indices share a draw');
  const expected = n / 64;
  let chi2 = 0;
  for (const count of bins) chi2 += (count - expected) ** 2 / expected;
  // 63 degrees of freedom: P(χ² > 110) < 1e-4
  assert.ok(chi2 < 110, `chi-square ${chi2.toFixed(1)} over 64 bins`);
  // neighbouring indices are not correlated: Pearson r of (u_i, u_{i+1}) near 0 (|r| < 5/√n)
  let sx = 0;
  let sxx = 0;
  let sxy = 0;
  let prev = counterUniform(a, 0);
  for (let i = 1; i < n; i++) {
    const u = counterUniform(a, i);
    sx += prev;
    sxx += prev * prev;
    sxy += prev * u;
    prev = u;
  }
  const m = n - 1;
  const r = (sxy / m - (sx / m) ** 2) / (sxx / m - (sx / m) ** 2);
  assert.ok(Math.abs(r) < 5 / Math.sqrt(m), `lag-1 correlation ${r}`);
});
