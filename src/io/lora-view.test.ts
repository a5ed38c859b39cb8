import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { asFloat32, readPlainSafetensors } from '../../test/support/plain-safetensors.js';
import type { Checkpoint } from './checkpoint.js';
import { bytesToFloat32 } from './convert.js';
import { HfCheckpoint } from './hf-folder.js';
import { LoraMergedCheckpoint } from './lora-view.js';
import { MemoryCheckpoint, type MemoryTensor } from './memory-checkpoint.js';
import { parseLoraConfig, planAdapter, readLoraAdapter, type LoraAdapter } from './peft.js';

const FIXTURES = 'test/fixtures/tiny-llama';

/** s·(B·A) added to W in float64, the product formed in full first, then transposed if asked. */
function referenceMerge(
  w: ArrayLike<number>,
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  scale: number,
  transposed: boolean,
): Float64Array {
  const [outRows, rank] = [bShape[0]!, bShape[1]!];
  const inCols = aShape[1]!;
  const product = new Float64Array(outRows * inCols);
  for (let i = 0; i < outRows; i++) {
    for (let j = 0; j < inCols; j++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += b[i * rank + k]! * a[k * inCols + j]!;
      product[i * inCols + j] = sum;
    }
  }
  const merged = new Float64Array(w.length);
  for (let i = 0; i < outRows; i++) {
    for (let j = 0; j < inCols; j++) {
      const at = transposed ? j * outRows + i : i * inCols + j;
      merged[at] = w[at]! + scale * product[i * inCols + j]!;
    }
  }
  return merged;
}

/** |got − ref| within float32 rounding of ref (half an ulp, plus slack for the float64 sum order). */
function assertFloat32Close(got: Float32Array, ref: Float64Array, label: string): void {
  assert.equal(got.length, ref.length, `${label}: length`);
  for (let i = 0; i < ref.length; i++) {
    const tolerance = Math.abs(ref[i]!) * 2 ** -24 * 1.001 + 2 ** -140;
    assert.ok(Math.abs(got[i]! - ref[i]!) <= tolerance, `${label}[${i}]: got ${got[i]}, expected ${ref[i]} ± ${tolerance}`);
  }
}

function f32(shape: number[], values: ArrayLike<number>): MemoryTensor {
  const array = Float32Array.from(values);
  return { dtype: 'F32', shape, data: new Uint8Array(array.buffer) };
}

/** deterministic small pseudo-random values */
function values(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 12.9898 + i * 78.233) * 0.5));
}

function memoryAdapter(config: Record<string, unknown>, tensors: Record<string, MemoryTensor>): LoraAdapter {
  const weights = new MemoryCheckpoint(Object.entries(tensors), { source: 'synthetic/adapter_model.safetensors' });
  const parsed = parseLoraConfig({ peft_type: 'LORA', ...config }, 'synthetic/adapter_config.json');
  const { updates, replacements } = planAdapter(parsed, weights, weights.source);
  return { path: 'synthetic', config: parsed, weights, updates, replacements, close: () => weights.close() };
}

function read(checkpoint: Checkpoint, name: string): Float32Array {
  return checkpoint.readFloat32(name);
}

test('base+lora-code equals W + 2·B·A on every touched tensor; untouched tensors are byte-identical', () => {
  const baseTensors = readPlainSafetensors(join(FIXTURES, 'base', 'model.safetensors'));
  const loraTensors = readPlainSafetensors(join(FIXTURES, 'lora-code', 'adapter_model.safetensors'));
  const view = new LoraMergedCheckpoint(HfCheckpoint.open(join(FIXTURES, 'base')), readLoraAdapter(join(FIXTURES, 'lora-code')));
  try {
    assert.equal(view.names().length, baseTensors.size);
    let touched = 0;
    let largestDelta = 0;
    for (const [name, tensor] of baseTensors) {
      const module = name.replace(/\.weight$/, '');
      const a = loraTensors.get(`base_model.model.${module}.lora_A.weight`);
      const b = loraTensors.get(`base_model.model.${module}.lora_B.weight`);
      if (a === undefined || b === undefined) {
        assert.deepEqual(view.readBytes(name), tensor.data, `${name} passes through unchanged`);
        continue;
      }
      touched++;
      const w = asFloat32(tensor);
      const ref = referenceMerge(w, asFloat32(a), a.shape, asFloat32(b), b.shape, 16 / 8, false);
      const got = view.readFloat32(name);
      assertFloat32Close(got, ref, name);
      for (let i = 0; i < w.length; i++) largestDelta = Math.max(largestDelta, Math.abs(ref[i]! - w[i]!));
      const bytes = view.readBytes(name);
      assert.deepEqual(bytes, new Uint8Array(got.buffer, got.byteOffset, got.byteLength), `${name}: readBytes encodes readFloat32 as F32`);
      assert.deepEqual(view.info(name), { ...view.base.info(name) });
    }
    assert.equal(touched, 16, '4 layers × q/k/v/o');
    assert.deepEqual(view.touched().length, 16);
    assert.ok(largestDelta > 1e-3, `the adapter changes weights noticeably (max |ΔW| = ${largestDelta})`);
  } finally {
    view.close();
  }
});

test('fan_in_fan_out transposes the product (GPT-2 Conv1D weights stored [in, out])', () => {
  const [inF, outF, r] = [3, 4, 2];
  const w = values(inF * outF, 1);
  const a = values(r * inF, 2);
  const b = values(outF * r, 3);
  const base = new MemoryCheckpoint([['h.0.attn.c_attn.weight', f32([inF, outF], w)], ['h.0.ln.weight', f32([3], [1, 2, 3])]]);
  const adapter = memoryAdapter(
    { r, lora_alpha: 4, fan_in_fan_out: true, target_modules: ['c_attn'] },
    {
      'base_model.model.h.0.attn.c_attn.lora_A.weight': f32([r, inF], a),
      'base_model.model.h.0.attn.c_attn.lora_B.weight': f32([outF, r], b),
    },
  );
  const view = new LoraMergedCheckpoint(base, adapter);
  assertFloat32Close(read(view, 'h.0.attn.c_attn.weight'), referenceMerge(w, a, [r, inF], b, [outF, r], 2, true), 'c_attn');
  assert.deepEqual([...read(view, 'h.0.ln.weight')], [1, 2, 3]);
  // without fan_in_fan_out the same [in, out] base weight cannot take a [out, in] delta
  const wrong = memoryAdapter(
    { r, lora_alpha: 4, target_modules: ['c_attn'] },
    {
      'base_model.model.h.0.attn.c_attn.lora_A.weight': f32([r, inF], a),
      'base_model.model.h.0.attn.c_attn.lora_B.weight': f32([outF, r], b),
    },
  );
  assert.throws(
    () => new LoraMergedCheckpoint(base, wrong),
    (e: unknown) => e instanceof ModelevoError && e.code === 'SHAPE_MISMATCH' && /\[3, 4\]/.test(e.message) && /\[4, 3\]/.test(e.message) && /fan_in_fan_out/.test(e.hint ?? ''),
  );
});

test('rank_pattern / alpha_pattern give per-module scales; rsLoRA divides by √r', () => {
  const d = 4;
  const w = values(d * d, 5);
  const tensors: Record<string, MemoryTensor> = {
    'base_model.model.layers.0.q_proj.lora_A.weight': f32([4, d], values(4 * d, 6)),
    'base_model.model.layers.0.q_proj.lora_B.weight': f32([d, 4], values(d * 4, 7)),
    'base_model.model.layers.0.k_proj.lora_A.weight': f32([1, d], values(d, 8)),
    'base_model.model.layers.0.k_proj.lora_B.weight': f32([d, 1], values(d, 9)),
  };
  const base = new MemoryCheckpoint([['layers.0.q_proj.weight', f32([d, d], w)], ['layers.0.k_proj.weight', f32([d, d], w)]]);
  const check = (config: Record<string, unknown>, qScale: number, kScale: number): void => {
    const view = new LoraMergedCheckpoint(base, memoryAdapter(config, tensors));
    const t = (n: string): number[] => [...asFloat32({ dtype: 'F32', shape: [], data: tensors[n]!.data })];
    const q = referenceMerge(w, t('base_model.model.layers.0.q_proj.lora_A.weight'), [4, d], t('base_model.model.layers.0.q_proj.lora_B.weight'), [d, 4], qScale, false);
    const k = referenceMerge(w, t('base_model.model.layers.0.k_proj.lora_A.weight'), [1, d], t('base_model.model.layers.0.k_proj.lora_B.weight'), [d, 1], kScale, false);
    assertFloat32Close(read(view, 'layers.0.q_proj.weight'), q, `q_proj ${JSON.stringify(config)}`);
    assertFloat32Close(read(view, 'layers.0.k_proj.weight'), k, `k_proj ${JSON.stringify(config)}`);
  };
  const common = { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'k_proj'], rank_pattern: { k_proj: 1 } };
  check(common, 8 / 4, 8 / 1);
  check({ ...common, alpha_pattern: { 'layers\\.0\\.k_proj': 3 } }, 8 / 4, 3 / 1);
  check({ ...common, use_rslora: true }, 8 / Math.sqrt(4), 8 / Math.sqrt(1));
  // a rank that disagrees with the saved factors is reported, not silently used
  assert.throws(
    () => memoryAdapter({ r: 4, lora_alpha: 8 }, tensors),
    (e: unknown) => e instanceof ModelevoError && e.code === 'ADAPTER_INVALID' && /k_proj/.test(e.message) && /rank_pattern/.test(e.hint ?? ''),
  );
});

test('embedding LoRA adds s·(B·A)ᵀ; modules_to_save tensors replace the base tensor', () => {
  const [vocab, dim, r] = [5, 3, 2];
  const emb = values(vocab * dim, 11);
  const a = values(r * vocab, 12);
  const b = values(dim * r, 13);
  const score = values(2 * dim, 14);
  const base = new MemoryCheckpoint([
    ['model.embed_tokens.weight', f32([vocab, dim], emb)],
    ['score.weight', f32([2, dim], values(2 * dim, 15))],
  ]);
  const adapter = memoryAdapter(
    { r, lora_alpha: 1, target_modules: ['embed_tokens'], modules_to_save: ['score'] },
    {
      'base_model.model.model.embed_tokens.lora_embedding_A': f32([r, vocab], a),
      'base_model.model.model.embed_tokens.lora_embedding_B': f32([dim, r], b),
      'base_model.model.score.weight': f32([2, dim], score),
    },
  );
  const view = new LoraMergedCheckpoint(base, adapter);
  assertFloat32Close(read(view, 'model.embed_tokens.weight'), referenceMerge(emb, a, [r, vocab], b, [dim, r], 0.5, true), 'embed');
  assert.deepEqual([...read(view, 'score.weight')], [...Float32Array.from(score)]);
  assert.deepEqual(view.touched(), ['model.embed_tokens.weight', 'score.weight']);
});

test('a 16-bit base is merged in float32 and encoded back in its own dtype', () => {
  const w = Float32Array.from(values(4, 21));
  const base = new MemoryCheckpoint([['l.weight', { dtype: 'BF16', shape: [2, 2], data: bf16Bytes(w) }]]);
  const adapter = memoryAdapter(
    { r: 1, lora_alpha: 1 },
    { 'base_model.model.l.lora_A.weight': f32([1, 2], [0.5, -0.25]), 'base_model.model.l.lora_B.weight': f32([2, 1], [1, 2]) },
  );
  const view = new LoraMergedCheckpoint(base, adapter);
  const bytes = view.readBytes('l.weight');
  assert.equal(bytes.byteLength, 8, 'BF16 in, BF16 out');
  const decoded = bytesToFloat32(bytes, 'BF16');
  const wBf16 = bytesToFloat32(bf16Bytes(w), 'BF16');
  const ref = referenceMerge(wBf16, [0.5, -0.25], [1, 2], [1, 2], [2, 1], 1, false);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(decoded[i]! - ref[i]!) <= Math.abs(ref[i]!) * 2 ** -8, `bf16[${i}]`);
  assert.equal(view.info('l.weight').dtype, 'BF16');
});

test('an adapter for a module the base lacks is an ADAPTER_INVALID error naming both', () => {
  const base = new MemoryCheckpoint([['other.weight', f32([2, 2], [1, 2, 3, 4])]]);
  const adapter = memoryAdapter(
    { r: 1, lora_alpha: 1 },
    { 'base_model.model.l.lora_A.weight': f32([1, 2], [1, 1]), 'base_model.model.l.lora_B.weight': f32([2, 1], [1, 1]) },
  );
  assert.throws(
    () => new LoraMergedCheckpoint(base, adapter),
    (e: unknown) => e instanceof ModelevoError && e.code === 'ADAPTER_INVALID' && /'l\.weight'/.test(e.message) && /lora_A/.test(e.message),
  );
});

/** float32 → bfloat16 by truncation-free round-to-nearest-even, written here independently of convert.ts */
function bf16Bytes(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer.slice(0));
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const u = bits[i]!;
    out[i] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return new Uint8Array(out.buffer);
}
