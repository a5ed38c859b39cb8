import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelevoError, ShapeMismatchError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { MemoryCheckpoint } from '../io/memory-checkpoint.js';
import { extraChannelShape, zeroPadTo } from './extra-channels.js';
import { runMerge } from './index.js';
import { taskArithmetic } from './methods/task-arithmetic.js';

const LLAMA_CONFIG = { model_type: 'llama', num_hidden_layers: 1 };

/** Values on a 1/64 grid in [-4, 4): every difference and sum below is exact in float32. */
function dyadic(count: number, seed: string): number[] {
  const rng = createRng(7, seed);
  return Array.from({ length: count }, () => Math.floor(rng.next() * 512 - 256) / 64);
}

interface Family {
  base: MemoryCheckpoint;
  inpaint: MemoryCheckpoint;
  dream: MemoryCheckpoint;
}

/**
 * SDXL-like trio: `conv_in.weight` is [3, 4] in the base and the "dream" parent and [3, 9] in the inpainting
 * parent; a conv kernel [2, 4, 3, 3] vs [2, 9, 3, 3]; the other tensors share shapes.
 */
function family(): Family {
  const make = (ref: string, wide: boolean) =>
    MemoryCheckpoint.fromFloat32(
      {
        'conv_in.weight': { shape: [3, wide ? 9 : 4], values: dyadic(wide ? 27 : 12, `${ref}/conv_in`) },
        'conv_k.weight': { shape: [2, wide ? 9 : 4, 3, 3], values: dyadic(wide ? 162 : 72, `${ref}/conv_k`) },
        'model.layers.0.mlp.up_proj.weight': { shape: [4, 3], values: dyadic(12, `${ref}/up`) },
        'model.norm.weight': { shape: [3], values: dyadic(3, `${ref}/norm`) },
      },
      { source: ref, config: LLAMA_CONFIG },
    );
  return { base: make('base', false), inpaint: make('inpaint', true), dream: make('dream', false) };
}

async function anyfit(alpha: number, beta: number, extraChannels: string | null = 'anyfit', f = family()) {
  const config = {
    merge_method: 'task_arithmetic',
    base_model: 'base',
    models: [
      { model: 'inpaint', parameters: { weight: alpha } },
      { model: 'dream', parameters: { weight: beta } },
    ],
    ...(extraChannels === null ? {} : { parameters: { extra_channels: extraChannels } }),
  };
  const models = new Map([
    ['base', f.base],
    ['inpaint', f.inpaint],
    ['dream', f.dream],
  ]);
  const result = await runMerge(config, undefined, { models, inMemory: true, progress: 'none' });
  return { out: result.checkpoint!, f };
}

/** float64 reference of the rule, written independently: index the wide tensor, read the base only where it exists. */
function referenceAnyfit(f: Family, name: string, alpha: number, beta: number): { shape: number[]; values: number[] } {
  const wide = f.inpaint.info(name).shape;
  const narrow = f.base.info(name).shape;
  const b = f.base.readFloat32(name);
  const x = f.inpaint.readFloat32(name);
  const d = f.dream.readFloat32(name);
  const values: number[] = [];
  const inner = wide.slice(2).reduce((p, q) => p * q, 1);
  for (let o = 0; o < wide[0]!; o++) {
    for (let c = 0; c < wide[1]!; c++) {
      for (let k = 0; k < inner; k++) {
        const wideIndex = (o * wide[1]! + c) * inner + k;
        if (c < narrow[1]!) {
          const narrowIndex = (o * narrow[1]! + c) * inner + k;
          const base = b[narrowIndex]!;
          values.push(base + alpha * (x[wideIndex]! - base) + beta * (d[narrowIndex]! - base));
        } else {
          values.push(alpha * x[wideIndex]!);
        }
      }
    }
  }
  return { shape: [...wide], values };
}

test('zeroPadTo places each source element at its N-D index and zeros elsewhere', () => {
  const shape = [2, 3, 2];
  const target = [2, 5, 2];
  const values = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const padded = zeroPadTo(values, shape, target);
  const expected = new Array<number>(20).fill(0);
  for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 2; c++) expected[(a * 5 + b) * 2 + c] = (a * 3 + b) * 2 + c + 1;
  assert.deepEqual([...padded], expected);
  assert.deepEqual([...zeroPadTo(Float32Array.from([1, 2, 3, 4]), [2, 2], [2, 3])], [1, 2, 0, 3, 4, 0]);
});

test('extraChannelShape widens dimension 1 only, and refuses narrower parents or other dimensions', () => {
  const base = { modelRef: 'base', shape: [3, 4] };
  assert.deepEqual(extraChannelShape('w', base, [{ modelRef: 'a', shape: [3, 9] }, { modelRef: 'b', shape: [3, 4] }]), [3, 9]);
  assert.deepEqual(extraChannelShape('k', { modelRef: 'base', shape: [2, 4, 3, 3] }, [{ modelRef: 'a', shape: [2, 9, 3, 3] }]), [2, 9, 3, 3]);
  const refused = (models: { modelRef: string; shape: number[] }[], pattern: RegExp) =>
    assert.throws(() => extraChannelShape('w', base, models), (e: unknown) => e instanceof ShapeMismatchError && pattern.test(`${e.message} ${e.hint}`));
  refused([{ modelRef: 'a', shape: [5, 4] }], /'a' differs from the base in another dimension/);
  refused([{ modelRef: 'a', shape: [3, 2] }], /fewer input channels/);
  refused([{ modelRef: 'a', shape: [3, 9, 1] }], /\[3, 9, 1\]/);
  assert.throws(
    () => extraChannelShape('bias', { modelRef: 'base', shape: [4] }, [{ modelRef: 'a', shape: [9] }]),
    (e: unknown) => e instanceof ShapeMismatchError && /1-D/.test(e.hint ?? ''),
  );
});

test('task_arithmetic declares extra_channels (off by default); other task-vector methods do not', async () => {
  const spec = taskArithmetic.params.find((p) => p.name === 'extra_channels');
  assert.deepEqual([spec?.default, spec?.values], ['off', ['off', 'anyfit']]);
  const f = family();
  const config = {
    merge_method: 'ties',
    base_model: 'base',
    models: [{ model: 'inpaint', parameters: { weight: 1, density: 1 } }],
    parameters: { extra_channels: 'anyfit' },
  };
  await assert.rejects(
    runMerge(config, undefined, { models: new Map([['base', f.base], ['inpaint', f.inpaint]]), inMemory: true, progress: 'none' }),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID' && /unknown parameter 'extra_channels'/.test(e.message),
  );
});

test('AnyFit (α, β) = (0, 0) returns the base, with the extra channels zero', async () => {
  const { out, f } = await anyfit(0, 0);
  assert.deepEqual(out.info('conv_in.weight').shape, [3, 9]);
  const base = f.base.readFloat32('conv_in.weight');
  const got = out.readFloat32('conv_in.weight');
  for (let o = 0; o < 3; o++) {
    for (let c = 0; c < 9; c++) {
      // 0·W_inp is −0 where W_inp < 0; either zero is "zero"
      if (c < 4) assert.equal(got[o * 9 + c], base[o * 4 + c]);
      else assert.ok(got[o * 9 + c] === 0, `extra channel [${o}, ${c}] is ${got[o * 9 + c]}`);
    }
  }
  for (const name of ['model.layers.0.mlp.up_proj.weight', 'model.norm.weight']) {
    assert.deepEqual([...out.readFloat32(name)], [...f.base.readFloat32(name)]);
  }
  const plusZero = (v: number) => v + 0; // −0 + 0 = +0: compare zeros without their sign
  assert.deepEqual([...out.readFloat32('conv_k.weight')].map(plusZero), referenceAnyfit(f, 'conv_k.weight', 0, 0).values.map(plusZero));
});

test('AnyFit (α, β) = (1, 0) returns the wide (inpainting) parent exactly, extra channels included', async () => {
  const { out, f } = await anyfit(1, 0);
  for (const name of f.inpaint.names()) {
    assert.deepEqual(out.info(name).shape, f.inpaint.info(name).shape, name);
    assert.deepEqual([...out.readFloat32(name)], [...f.inpaint.readFloat32(name)], name);
  }
});

test('AnyFit (α, β) = (1.0, 1.1): shared channels are task arithmetic, extra channels α·W_inp (float64 reference)', async () => {
  const { out, f } = await anyfit(1.0, 1.1);
  for (const name of ['conv_in.weight', 'conv_k.weight']) {
    const reference = referenceAnyfit(f, name, 1.0, 1.1);
    assert.deepEqual(out.info(name).shape, reference.shape);
    assert.deepEqual([...out.readFloat32(name)], reference.values.map(Math.fround), name);
  }
  const { out: scaled, f: g } = await anyfit(0.6, 0.3);
  const x = g.inpaint.readFloat32('conv_in.weight');
  const got = scaled.readFloat32('conv_in.weight');
  for (let o = 0; o < 3; o++) for (let c = 4; c < 9; c++) assert.equal(got[o * 9 + c], Math.fround(0.6 * x[o * 9 + c]!));
});

test('without extra_channels the wider tensor is a shape mismatch naming both shapes', async () => {
  for (const setting of [null, 'off']) {
    await assert.rejects(anyfit(1, 0, setting), (e: unknown) => {
      assert.ok(e instanceof ShapeMismatchError);
      assert.equal(e.code, 'SHAPE_MISMATCH');
      assert.match(e.message, /'conv_in\.weight'/);
      assert.match(e.message, /base: \[3, 4\]/);
      assert.match(e.message, /inpaint: \[3, 9\]/);
      assert.match(e.hint ?? '', /extra_channels: anyfit/);
      return true;
    });
  }
});
