/**
 * Test-only helpers for kinship: an independent float64 reading of safetensors fixtures (no modelevo I/O
 * code), an in-memory Checkpoint, and straightforward double-precision metric formulas over concatenated
 * delta vectors — the reference the streaming code is checked against.
 */
import { readFileSync } from 'node:fs';
import type { DType } from '../../src/core/dtype.js';
import { numelOf } from '../../src/core/dtype.js';
import { CheckpointError } from '../../src/core/errors.js';
import type { Checkpoint, TensorInfo } from '../../src/io/checkpoint.js';
import { parsePlainHeader } from '../support/plain-safetensors.js';

export const FAMILY_DIR = new URL('../fixtures/tiny-llama/', import.meta.url).pathname;

export interface F64Tensor {
  readonly shape: number[];
  readonly values: Float64Array;
}

/** Parses a safetensors file holding F32/BF16 tensors into float64 arrays, in stored (offset) order. */
export function readSafetensorsF64(path: string): Map<string, F64Tensor> {
  const bytes = readFileSync(path);
  const header = parsePlainHeader(bytes);
  const entries = [...header.entries].sort((a, b) => a[1].begin - b[1].begin);
  const out = new Map<string, F64Tensor>();
  for (const [name, { dtype, shape, begin }] of entries) {
    const count = numelOf(shape);
    const values = new Float64Array(count);
    const at = header.dataStart + begin;
    if (dtype === 'F32') for (let i = 0; i < count; i++) values[i] = bytes.readFloatLE(at + 4 * i);
    else if (dtype === 'BF16') {
      const widened = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        widened.setUint32(0, bytes.readUInt16LE(at + 2 * i) << 16, false);
        values[i] = widened.getFloat32(0, false);
      }
    } else throw new Error(`test reader: unsupported dtype ${dtype} for ${name}`);
    out.set(name, { shape, values });
  }
  return out;
}

export function readFamilyModel(folder: string): Map<string, F64Tensor> {
  return readSafetensorsF64(`${FAMILY_DIR}${folder}/model.safetensors`);
}

/** base + (alpha/r)·B·A on every adapted projection, in float64 (PEFT LoRA, no rounding to float32) */
export function loraMergedF64(base: Map<string, F64Tensor>, adapterFolder: string): Map<string, F64Tensor> {
  const config = JSON.parse(readFileSync(`${FAMILY_DIR}${adapterFolder}/adapter_config.json`, 'utf8')) as {
    r: number;
    lora_alpha: number;
  };
  const scale = config.lora_alpha / config.r;
  const adapter = readSafetensorsF64(`${FAMILY_DIR}${adapterFolder}/adapter_model.safetensors`);
  const out = new Map<string, F64Tensor>();
  for (const [name, tensor] of base) {
    const stem = `base_model.model.${name.replace(/\.weight$/, '')}`;
    const a = adapter.get(`${stem}.lora_A.weight`);
    const b = adapter.get(`${stem}.lora_B.weight`);
    if (!a || !b) {
      out.set(name, tensor);
      continue;
    }
    const [rows, cols] = tensor.shape as [number, number];
    const rank = a.shape[0]!;
    const values = Float64Array.from(tensor.values);
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cols; i++) {
        let sum = 0;
        for (let k = 0; k < rank; k++) sum += b.values[o * rank + k]! * a.values[k * cols + i]!;
        values[o * cols + i] = values[o * cols + i]! + scale * sum;
      }
    }
    out.set(name, { shape: tensor.shape, values });
  }
  return out;
}

export interface MemoryTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array | Float64Array;
  readonly dtype?: DType;
}

/** A Checkpoint over in-memory tensors (values rounded to float32 on read), in insertion order. */
export function memoryCheckpoint(source: string, tensors: Map<string, MemoryTensor>): Checkpoint {
  let closed = false;
  const get = (name: string): MemoryTensor => {
    if (closed) throw new CheckpointError('checkpoint is closed', { file: source, tensor: name });
    const tensor = tensors.get(name);
    if (!tensor) throw new CheckpointError('no such tensor', { file: source, tensor: name, code: 'TENSOR_NOT_FOUND' });
    return tensor;
  };
  return {
    source,
    config: undefined,
    names: () => [...tensors.keys()],
    has: (name) => tensors.has(name),
    info: (name): TensorInfo => {
      const t = get(name);
      return { name, dtype: t.dtype ?? 'F32', shape: t.shape, byteLength: 4 * numelOf(t.shape) };
    },
    readBytes: (name) => new Uint8Array(new Float32Array(get(name).values).buffer),
    readFloat32: (name) => new Float32Array(get(name).values),
    close: () => {
      closed = true;
    },
  };
}

export function checkpointFromF64(source: string, tensors: Map<string, F64Tensor>): Checkpoint {
  return memoryCheckpoint(source, tensors);
}

/** Concatenates M − B over `names` (base order), truncating vocabulary tensors to `vocabRows` rows. */
export function concatenatedDelta(
  model: Map<string, F64Tensor>,
  base: Map<string, F64Tensor>,
  names: readonly string[],
  vocabRows?: number,
): Float64Array {
  const parts: number[] = [];
  for (const name of names) {
    const b = base.get(name)!;
    const m = model.get(name)!;
    let count = b.values.length;
    if (vocabRows !== undefined && /(embed_tokens|lm_head)\.weight$/.test(name)) {
      count = vocabRows * (b.values.length / b.shape[0]!);
    }
    // float32 rounding of the model mirrors what a checkpoint's readFloat32 returns
    for (let i = 0; i < count; i++) parts.push(Math.fround(m.values[i]!) - Math.fround(b.values[i]!));
  }
  return Float64Array.from(parts);
}

function mean(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

export function referencePcc(x: Float64Array, y: Float64Array): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

export function referenceCosine(x: Float64Array, y: Float64Array): number {
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += x[i]! * y[i]!;
    sxx += x[i]! ** 2;
    syy += y[i]! ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

export function referenceEuclidean(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2;
  return Math.sqrt(s);
}
