import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError, ShapeMismatchError } from '../core/errors.js';
import { LoraMergedCheckpoint } from '../io/lora-view.js';
import { MemoryCheckpoint } from '../io/memory-checkpoint.js';
import { openAdapter, openCheckpoint } from '../io/open.js';
import type { LoraAdapter } from '../io/peft.js';
import { loraAdapterFromMemory } from './adapter-folder.js';
import { AdapterMismatchError, composeLora, composeLoraAdapter, writeComposedLora } from './compose.js';

const FIXTURES = 'test/fixtures/tiny-llama';
const DOMAINS = ['code', 'math', 'literature'] as const;

function openFixtureAdapters(): LoraAdapter[] {
  return DOMAINS.map((d) => openAdapter(join(FIXTURES, `lora-${d}`)));
}

function f32(data: Uint8Array): Float32Array {
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

test('one-hot weights return that adapter exactly (every tensor, bit for bit)', () => {
  const adapters = openFixtureAdapters();
  try {
    for (let k = 0; k < adapters.length; k++) {
      const weights = adapters.map((_, i) => (i === k ? 1 : 0));
      const composed = composeLora(adapters, weights);
      assert.deepEqual([...composed.tensors.keys()], adapters[k]!.weights.names());
      for (const [name, tensor] of composed.tensors) {
        assert.deepEqual(tensor.data, adapters[k]!.weights.readBytes(name), `${DOMAINS[k]} ${name}`);
      }
      assert.deepEqual(composed.config, adapters[0]!.config.raw);
    }
  } finally {
    adapters.forEach((a) => a.close());
  }
});

test('weights w (one negative) give the element-wise weighted sums Σ w_i A_i, Σ w_i B_i', () => {
  const adapters = openFixtureAdapters();
  const weights = [0.7, -0.4, 1.3];
  try {
    const composed = composeLora(adapters, weights);
    assert.equal(composed.tensors.size, 32);
    for (const [name, tensor] of composed.tensors) {
      const inputs = adapters.map((a) => a.weights.readFloat32(name));
      const expected: number[] = [];
      for (let j = 0; j < inputs[0]!.length; j++) {
        let sum = 0;
        for (let i = 0; i < 3; i++) sum += weights[i]! * inputs[i]![j]!;
        expected.push(Math.fround(sum));
      }
      assert.equal(tensor.dtype, 'F32');
      assert.deepEqual([...f32(tensor.data)], expected, name);
    }
  } finally {
    adapters.forEach((a) => a.close());
  }
});

/** float64 [rows, cols] product of row-major matrices. */
function matmul(b: ArrayLike<number>, a: ArrayLike<number>, rows: number, rank: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < rank; k++) for (let j = 0; j < cols; j++) out[i * cols + j] = out[i * cols + j]! + b[i * rank + k]! * a[k * cols + j]!;
  return out;
}

function sumWeighted(arrays: readonly Float32Array[], weights: readonly number[]): Float64Array {
  const out = new Float64Array(arrays[0]!.length);
  arrays.forEach((x, i) => x.forEach((v, j) => (out[j] = out[j]! + weights[i]! * v)));
  return out;
}

test('base+composed: update is s·(Σ w_i B_i)(Σ w_i A_i), and differs from Σ w_i B_i A_i', () => {
  const adapters = openFixtureAdapters();
  const weights = [0.5, 0.3, -0.2];
  const base = openCheckpoint(join(FIXTURES, 'base'));
  const composed = composeLoraAdapter(adapters, weights);
  const view = new LoraMergedCheckpoint(base, composed);
  try {
    assert.equal(view.touched().length, 16);
    let worstRelativeGap = Infinity;
    for (const update of composed.updates.values()) {
      const w = base.readFloat32(update.target);
      const merged = view.readFloat32(update.target);
      const [rows, cols] = base.info(update.target).shape as [number, number];
      const rank = update.rank;
      const aSum = sumWeighted(adapters.map((a) => a.weights.readFloat32(update.aName)), weights);
      const bSum = sumWeighted(adapters.map((a) => a.weights.readFloat32(update.bName)), weights);
      const product = matmul(bSum, aSum, rows, rank, cols);
      const absProduct = matmul(bSum.map(Math.abs), aSum.map(Math.abs), rows, rank, cols);
      const s = update.scale;
      assert.equal(s, 2);
      let gap = 0;
      let norm = 0;
      const perAdapter = new Float64Array(rows * cols);
      adapters.forEach((a, i) => {
        const p = matmul(a.weights.readFloat32(update.bName), a.weights.readFloat32(update.aName), rows, rank, cols);
        p.forEach((v, j) => (perAdapter[j] = perAdapter[j]! + weights[i]! * v));
      });
      for (let j = 0; j < rows * cols; j++) {
        const expected = w[j]! + s * product[j]!;
        // rounding of the composed factors (2⁻²⁴ each) plus the final float32 rounding of W'
        const bound = 3 * 2 ** -24 * s * absProduct[j]! + 2 ** -23 * Math.abs(expected) + 1e-30;
        assert.ok(Math.abs(merged[j]! - expected) <= bound, `${update.target}[${j}]: ${merged[j]} vs ${expected}`);
        gap += (s * product[j]! - s * perAdapter[j]!) ** 2;
        norm += (s * perAdapter[j]!) ** 2;
      }
      worstRelativeGap = Math.min(worstRelativeGap, Math.sqrt(gap / norm));
    }
    // the LoraHub update is a genuinely different matrix from task arithmetic over the three LoRA views
    assert.ok(worstRelativeGap > 0.1, `smallest relative gap ${worstRelativeGap}`);
  } finally {
    view.close();
    adapters.forEach((a) => a.close());
  }
});

test('a written composed adapter loads with openAdapter and as base+adapter, equal to the in-memory one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-compose-'));
  const adapters = openFixtureAdapters();
  const weights = [1.2, -0.5, 0.25];
  try {
    const out = writeComposedLora(adapters, weights, join(dir, 'hub'));
    const loaded = openAdapter(out);
    const memory = composeLora(adapters, weights);
    try {
      assert.equal(loaded.config.r, 8);
      assert.equal(loaded.config.loraAlpha, 16);
      assert.deepEqual(loaded.weights.names().sort(), [...memory.tensors.keys()].sort());
      for (const [name, tensor] of memory.tensors) assert.deepEqual(loaded.weights.readBytes(name), tensor.data, name);
    } finally {
      loaded.close();
    }
    const fromDisk = openCheckpoint(`${join(FIXTURES, 'base')}+${out}`);
    const inMemory = new LoraMergedCheckpoint(openCheckpoint(join(FIXTURES, 'base')), composeLoraAdapter(adapters, weights));
    try {
      for (const name of ['model.layers.2.self_attn.v_proj.weight', 'model.layers.0.mlp.up_proj.weight']) {
        assert.deepEqual(fromDisk.readFloat32(name), inMemory.readFloat32(name), name);
      }
    } finally {
      fromDisk.close();
      inMemory.close();
    }
    // an existing non-empty folder is refused unless overwrite is set
    assert.throws(() => writeComposedLora(adapters, weights, out), (e: unknown) => e instanceof ModelevoError && e.code === 'IO_FAILED');
    writeComposedLora(adapters, [1, 0, 0], out, { overwrite: true });
    assert.deepEqual(
      readFileSync(join(out, 'adapter_model.safetensors')).length,
      readFileSync(join(FIXTURES, 'lora-code', 'adapter_model.safetensors')).length,
    );
  } finally {
    adapters.forEach((a) => a.close());
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A one-module in-memory adapter; `overrides` patch the config, `shapes` the tensor shapes. */
function tinyAdapter(label: string, overrides: Record<string, unknown> = {}, options: { r?: number; module?: string; out?: number } = {}): LoraAdapter {
  const r = options.r ?? 2;
  const module = options.module ?? 'model.layers.0.self_attn.q_proj';
  const out = options.out ?? 4;
  const values = (n: number) => Array.from({ length: n }, (_, i) => (i % 5) - 2);
  const weights = MemoryCheckpoint.fromFloat32({
    [`base_model.model.${module}.lora_A.weight`]: { shape: [r, 4], values: values(r * 4) },
    [`base_model.model.${module}.lora_B.weight`]: { shape: [out, r], values: values(out * r) },
  });
  const tensors = new Map(weights.names().map((n) => [n, { dtype: 'F32' as const, shape: weights.info(n).shape, data: weights.readBytes(n) }]));
  const config = { peft_type: 'LORA', r, lora_alpha: 4, target_modules: ['q_proj'], ...overrides };
  return loraAdapterFromMemory({ config, tensors }, label);
}

test('mismatched adapters are rejected with an error naming the field and both adapters', () => {
  const reference = tinyAdapter('a');
  const cases: { other: LoraAdapter; field: string; pattern: RegExp }[] = [
    { other: tinyAdapter('b', { r: 3 }, { r: 3 }), field: 'r', pattern: /adapters differ in r: 'a' has 2, 'b' has 3/ },
    { other: tinyAdapter('b', { lora_alpha: 8 }), field: 'lora_alpha', pattern: /lora_alpha: 'a' has 4, 'b' has 8/ },
    { other: tinyAdapter('b', { target_modules: ['q_proj', 'v_proj'] }), field: 'target_modules', pattern: /target_modules/ },
    { other: tinyAdapter('b', { use_rslora: true }), field: 'use_rslora', pattern: /use_rslora/ },
    {
      other: tinyAdapter('b', {}, { module: 'model.layers.1.self_attn.q_proj' }),
      field: 'tensors',
      pattern: /tensor 'base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight' is in 'a' but not in 'b'/,
    },
  ];
  for (const { other, field, pattern } of cases) {
    assert.throws(
      () => composeLora([reference, other], [0.5, 0.5]),
      (e: unknown) => e instanceof AdapterMismatchError && e.code === 'ADAPTER_MISMATCH' && e.details.field === field && pattern.test(e.message),
      field,
    );
  }
  // target_modules compare as a set
  assert.equal(composeLora([tinyAdapter('a', { target_modules: ['q_proj', 'k_proj'] }), tinyAdapter('b', { target_modules: ['k_proj', 'q_proj'] })], [1, 1]).tensors.size, 2);
  assert.throws(
    () => composeLora([reference, tinyAdapter('b', {}, { out: 6 })], [1, 1]),
    (e: unknown) => e instanceof ShapeMismatchError && /a: \[4, 2\]; b: \[6, 2\]/.test(e.message),
  );
  assert.throws(() => composeLora([reference, tinyAdapter('b')], [1]), /expected 2 weights \(one per adapter\), got 1/);
  assert.throws(() => composeLora([reference, tinyAdapter('b')], [1, Number.NaN]), /expected a finite number/);
  // the tiny-llama fixtures themselves: rank 8 vs a rank-4 adapter on disk
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-compose-bad-'));
  try {
    const low = join(dir, 'low');
    mkdirSync(low);
    const config = JSON.parse(readFileSync(join(FIXTURES, 'lora-code', 'adapter_config.json'), 'utf8'));
    writeFileSync(join(low, 'adapter_config.json'), JSON.stringify({ ...config, lora_alpha: 32 }));
    writeFileSync(join(low, 'adapter_model.safetensors'), readFileSync(join(FIXTURES, 'lora-math', 'adapter_model.safetensors')));
    const code = openAdapter(join(FIXTURES, 'lora-code'));
    const odd = openAdapter(low);
    try {
      assert.throws(() => composeLora([code, odd], [1, 1]), /lora_alpha: '.*lora-code' has 16, '.*low' has 32/);
    } finally {
      code.close();
      odd.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
