/**
 * The lazy checkpoint view every modelevo command works on: tensor names, dtypes and shapes up front,
 * tensor data read one tensor at a time on demand. Implemented by safetensors files, HF folders (single file
 * or sharded), LoRA-merged views and in-memory checkpoints.
 */
import type { DType } from '../core/dtype.js';

export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** data bytes of the tensor as stored */
  readonly byteLength: number;
}

export interface Checkpoint {
  /** what the user named (path, `model+lora` reference, or a label for in-memory checkpoints) */
  readonly source: string;
  /** parsed config.json when the checkpoint is an HF folder */
  readonly config: Record<string, unknown> | undefined;
  /** tensor names in a stable order (stored order for files) */
  names(): string[];
  has(name: string): boolean;
  /** throws a TENSOR_NOT_FOUND CheckpointError for an unknown name */
  info(name: string): TensorInfo;
  /** raw little-endian bytes as stored (dtype `info(name).dtype`) */
  readBytes(name: string): Uint8Array;
  /** values converted to float32 (floats exactly widened/narrowed; F64 rounded; ints converted) */
  readFloat32(name: string): Float32Array;
  /** releases file handles; further reads throw */
  close(): void;
}
