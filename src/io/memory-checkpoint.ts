/**
 * An in-memory `Checkpoint` (io/checkpoint.ts) over a Map of raw tensors: for tests, synthetic models and
 * results that have not been written yet. Byte lengths are checked against dtype × shape on construction.
 */
import { bytesPerElement, numelOf, type DType } from '../core/dtype.js';
import { CheckpointError } from '../core/errors.js';
import type { Checkpoint, TensorInfo } from './checkpoint.js';
import { bytesToFloat32 } from './convert.js';

export interface MemoryTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** little-endian bytes, row-major */
  readonly data: Uint8Array;
}

export class MemoryCheckpoint implements Checkpoint {
  readonly source: string;
  readonly config: Record<string, unknown> | undefined;
  private readonly tensors: Map<string, MemoryTensor>;
  private closed = false;

  constructor(
    tensors: ReadonlyMap<string, MemoryTensor> | Iterable<readonly [string, MemoryTensor]>,
    options: { source?: string; config?: Record<string, unknown> } = {},
  ) {
    this.source = options.source ?? '<memory>';
    this.config = options.config;
    this.tensors = new Map(tensors);
    for (const [name, tensor] of this.tensors) {
      const size = bytesPerElement(tensor.dtype);
      const expected = size === undefined ? undefined : numelOf(tensor.shape) * size;
      if (expected !== tensor.data.byteLength) {
        throw new CheckpointError(
          `tensor data is ${tensor.data.byteLength} bytes but ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${expected ?? 'a whole number of'} bytes`,
          {
            file: this.source,
            tensor: name,
            hint: 'pass little-endian bytes of exactly numel × element size',
          },
        );
      }
    }
  }

  /** Builds a float32 checkpoint from plain number arrays, e.g. `{w: {shape: [2, 2], values: [1, 2, 3, 4]}}`. */
  static fromFloat32(
    tensors: Record<string, { shape: readonly number[]; values: ArrayLike<number> }>,
    options: { source?: string; config?: Record<string, unknown> } = {},
  ): MemoryCheckpoint {
    const entries = Object.entries(tensors).map(([name, { shape, values }]): [string, MemoryTensor] => {
      const array = Float32Array.from(values);
      return [name, { dtype: 'F32', shape, data: new Uint8Array(array.buffer, array.byteOffset, array.byteLength) }];
    });
    return new MemoryCheckpoint(entries, options);
  }

  names(): string[] {
    this.assertOpen();
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const tensor = this.get(name);
    return { name, dtype: tensor.dtype, shape: tensor.shape, byteLength: tensor.data.byteLength };
  }

  readBytes(name: string): Uint8Array {
    return this.get(name).data.slice();
  }

  readFloat32(name: string): Float32Array {
    const tensor = this.get(name);
    return bytesToFloat32(tensor.data, tensor.dtype, { file: this.source, tensor: name });
  }

  close(): void {
    this.closed = true;
  }

  private get(name: string): MemoryTensor {
    this.assertOpen();
    const tensor = this.tensors.get(name);
    if (tensor === undefined) {
      throw new CheckpointError(`no tensor named '${name}' (${this.tensors.size} tensors present)`, {
        code: 'TENSOR_NOT_FOUND',
        file: this.source,
        tensor: name,
        hint: 'list the tensor names with `modelevo inspect --tensors`',
      });
    }
    return tensor;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new CheckpointError('checkpoint is closed', {
        code: 'IO_FAILED',
        file: this.source,
        hint: 'open the checkpoint again',
      });
    }
  }
}
