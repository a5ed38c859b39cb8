/**
 * The library API (src/index.ts, built to dist/index.js = package.json "exports"): importing it loads no
 * training engine, and a tiny merge and a kinship matrix through it match independent float64 references on the
 * tiny-llama fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../merge/workspace.js';

const api = await import('../../src/index.js');

test('importing the API does not load tfjs; the engine-backed entry points are functions', () => {
  assert.equal((globalThis as { _tfengine?: unknown })._tfengine, undefined);
  for (const name of ['runMerge', 'computeKinship', 'openCheckpoint', 'evaluateTexts', 'loadLlamaModel', 'runEvolution', 'runAnomalyDetection', 'runTrafficExperiment', 'runSynevo', 'runComS2T', 'runContinualExperiment'] as const) {
    assert.equal(typeof api[name], 'function', name);
  }
});

test('package.json exports "." as the build of src/index.ts', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string> };
  const build = JSON.parse(readFileSync(new URL('../../tsconfig.build.json', import.meta.url), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  assert.equal(pkg.exports['.'], `./${build.compilerOptions.outDir}/index.js`);
  assert.equal(build.compilerOptions.rootDir, 'src');
});

const base = join(FIXTURES, 'base');
const code = join(FIXTURES, 'expert-code');
const math = join(FIXTURES, 'expert-math');

test('runMerge (linear 0.25/0.75, in memory) equals the weighted mean in float64', async () => {
  const config = `merge_method: linear\ndtype: float32\nmodels:\n  - model: ${code}\n    parameters: {weight: 0.25}\n  - model: ${math}\n    parameters: {weight: 0.75}\n`;
  const result = await api.runMerge(config, undefined, { inMemory: true, kernels: 'reference' });
  const merged = result.checkpoint!;
  const a = api.openCheckpoint(code);
  const b = api.openCheckpoint(math);
  try {
    assert.deepEqual(merged.names().sort(), a.names().sort());
    for (const name of a.names()) {
      const x = a.readFloat32(name);
      const y = b.readFloat32(name);
      const m = merged.readFloat32(name);
      for (let i = 0; i < x.length; i++) {
        const expected = (0.25 * x[i]! + 0.75 * y[i]!) / (0.25 + 0.75);
        assert.ok(Math.abs(m[i]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${name}[${i}]: ${m[i]} vs ${expected}`);
      }
    }
  } finally {
    a.close();
    b.close();
    merged.close();
  }
});

test('computeKinship (pcc, cs) equals the float64 correlation and cosine of the full task vectors', () => {
  const [b, c, m] = [base, code, math].map((ref) => api.openCheckpoint(ref));
  try {
    const result = api.computeKinship(b!, [c!, m!], { metrics: ['pcc', 'cs'] });
    // independent reference: task vectors θ − θ_base over every tensor the computation compared
    const names = b!.names().filter((n) => !result.skippedTensors.some((s) => s.name === n));
    const u: number[] = [];
    const v: number[] = [];
    for (const name of names) {
      const base0 = b!.readFloat32(name);
      const x = c!.readFloat32(name);
      const y = m!.readFloat32(name);
      for (let i = 0; i < base0.length; i++) {
        u.push(x[i]! - base0[i]!);
        v.push(y[i]! - base0[i]!);
      }
    }
    assert.equal(result.elementsCompared, u.length);
    const mean = (w: number[]): number => w.reduce((s, t) => s + t, 0) / w.length;
    const [mu, mv] = [mean(u), mean(v)];
    let dot = 0, uu = 0, vv = 0, cov = 0, su = 0, sv = 0;
    for (let i = 0; i < u.length; i++) {
      dot += u[i]! * v[i]!;
      uu += u[i]! ** 2;
      vv += v[i]! ** 2;
      cov += (u[i]! - mu) * (v[i]! - mv);
      su += (u[i]! - mu) ** 2;
      sv += (v[i]! - mv) ** 2;
    }
    const pcc = cov / Math.sqrt(su * sv);
    const cs = dot / Math.sqrt(uu * vv);
    assert.ok(Math.abs(result.matrices.pcc![0]![1]! - pcc) < 1e-9, `pcc ${result.matrices.pcc![0]![1]} vs ${pcc}`);
    assert.ok(Math.abs(result.matrices.cs![0]![1]! - cs) < 1e-9, `cs ${result.matrices.cs![0]![1]} vs ${cs}`);
    assert.equal(result.matrices.pcc![0]![0], 1);
  } finally {
    for (const ckpt of [b, c, m]) ckpt!.close();
  }
});
