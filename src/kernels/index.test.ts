import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelevoError } from '../core/errors.js';
import { createKernels, referenceKernels, type Kernels } from './index.js';
import { loadKernelModule } from './wasm/loader.js';

const missingWasm = new URL('./no-such-kernels.wasm', import.meta.url);

test('a missing wasm file is a KERNEL_UNAVAILABLE error naming the path, with a build hint', () => {
  assert.throws(
    () => loadKernelModule(missingWasm),
    (error: unknown) =>
      error instanceof ModelevoError &&
      error.code === 'KERNEL_UNAVAILABLE' &&
      error.message.includes('no-such-kernels.wasm') &&
      (error.hint ?? '').includes('npm run build'),
  );
});

test("createKernels rejects without a fallback and returns the reference kernels with fallback: 'reference'", async () => {
  await assert.rejects(createKernels({ kernels: 'wasm', wasmUrl: missingWasm }), { code: 'KERNEL_UNAVAILABLE' });
  const reported: string[] = [];
  const kernels = await createKernels({
    kernels: 'wasm',
    wasmUrl: missingWasm,
    fallback: 'reference',
    onFallback: (error) => reported.push(error.code),
  });
  assert.equal(kernels, referenceKernels);
  assert.deepEqual(reported, ['KERNEL_UNAVAILABLE']);
});

test('an unknown implementation name lists the valid ones', async () => {
  await assert.rejects(createKernels({ kernels: 'wsam' as 'wasm' }), (error: unknown) => {
    assert.ok(error instanceof ModelevoError);
    assert.equal(error.code, 'UNKNOWN_NAME');
    assert.match(error.hint ?? '', /did you mean 'wasm'\?.*reference, wasm/);
    return true;
  });
});

test('both implementations reject mismatched lengths with SHAPE_MISMATCH naming the argument', async () => {
  const wasm = await createKernels({ kernels: 'wasm', workers: 0 });
  try {
    for (const kernels of [wasm, referenceKernels]) {
      await assert.rejects(
        async () => kernels.weightedSum(new Float32Array(4), [new Float32Array(4), new Float32Array(3)], [1, 1]),
        (error: unknown) => error instanceof ModelevoError && error.code === 'SHAPE_MISMATCH' && error.message.includes('inputs[1]'),
      );
      await assert.rejects(async () => kernels.f32ToBf16(new Float32Array(2), new Uint16Array(3)), { code: 'SHAPE_MISMATCH' });
      await assert.rejects(async () => kernels.absHistogram11(new Float32Array(2), new Uint32Array(100)), { code: 'SHAPE_MISMATCH' });
      await assert.rejects(
        async () =>
          kernels.tiesMix(new Float32Array(2), new Float32Array(2), [new Float32Array(2)], {
            thresholds: [0, 0],
            weights: [1],
            lambda: 1,
            consensus: true,
            normalize: true,
          }),
        (error: unknown) => error instanceof ModelevoError && error.message.includes('options.thresholds'),
      );
    }
  } finally {
    await wasm.close();
  }
});

test('the two implementations give the same answers through the Kernels interface', async () => {
  const wasm = await createKernels({ kernels: 'wasm', workers: 2, minParallelElements: 0 });
  try {
    const n = 40_000;
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) * 0.1);
    const base = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.3) * 0.05);
    const run = async (kernels: Kernels) => {
      const lerp = new Float32Array(n);
      await kernels.weightedSum(lerp, [a, b], [0.3, 0.7]);
      const ties = new Float32Array(n);
      await kernels.tiesMix(ties, base, [a, b], { thresholds: [0.02, 0.03], weights: [1, 1], lambda: 1, consensus: true, normalize: true });
      const bf16 = new Uint16Array(n);
      await kernels.f32ToBf16(lerp, bf16);
      const hist = new Uint32Array(2048);
      await kernels.absHistogram11(ties, hist);
      const stats = await kernels.deltaStats(a, b, base);
      return { lerp, ties, bf16, hist, stats };
    };
    const fast = await run(wasm);
    const slow = await run(referenceKernels);
    assert.equal(wasm.kind, 'wasm');
    assert.deepEqual(fast.lerp, slow.lerp);
    assert.deepEqual(fast.ties, slow.ties);
    assert.deepEqual(fast.bf16, slow.bf16);
    assert.deepEqual(fast.hist, slow.hist);
    for (const key of ['sumX', 'sumY', 'sumXX', 'sumYY', 'sumXY'] as const) {
      assert.ok(Math.abs(fast.stats[key] - slow.stats[key]) <= 1e-9 * Math.max(1, Math.abs(slow.stats[key])), key);
    }
  } finally {
    await wasm.close();
  }
});

test('close() is idempotent and a closed pool rejects work', async () => {
  const wasm = await createKernels({ kernels: 'wasm', workers: 1 });
  await wasm.close();
  await wasm.close();
  await assert.rejects(
    wasm.weightedSum(new Float32Array(8), [new Float32Array(8)], [1]),
    (error: unknown) => error instanceof ModelevoError && /after close/.test(error.message),
  );
});
