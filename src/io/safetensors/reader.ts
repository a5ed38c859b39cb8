/**
 * Lazy safetensors reader (formats.md §1): the header is read and fully validated at open; tensor data are
 * read on demand with positional reads in chunks below Node's 2 GiB single-read limit, straight into the
 * destination typed array, so offsets beyond 4 GB work and nothing but the requested tensor is loaded.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CheckpointError } from '../../core/errors.js';
import { numelOf } from '../../core/dtype.js';
import type { Checkpoint, TensorInfo } from '../checkpoint.js';
import { bytesToFloat32 } from '../convert.js';
import { bf16ToF32Array, f16ToF32Array } from '../../core/float16.js';
import { parseSafetensorsHeader, readHeaderLength, type ParsedHeader, type SafetensorsEntry } from './header.js';

export { parseSafetensorsHeader, readHeaderLength, type ParsedHeader, type SafetensorsEntry } from './header.js';

/** Largest single read: 1 GiB keeps well below the 2 GiB per-call limit. */
export const READ_CHUNK_BYTES = 1 << 30;

export class SafetensorsFile implements Checkpoint {
  readonly path: string;
  readonly source: string;
  readonly config = undefined;
  readonly metadata: Record<string, string> | undefined;
  /** absolute byte offset of the data buffer (8 + header length) */
  readonly dataStart: number;
  readonly fileSize: number;
  private readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  private fd: number | undefined;

  private constructor(path: string, fd: number, fileSize: number, dataStart: number, header: ParsedHeader) {
    this.path = path;
    this.source = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.dataStart = dataStart;
    this.metadata = header.metadata;
    this.entries = header.entries;
  }

  /** Opens and validates `path`; throws a CheckpointError with the spec's `reason` for a malformed file. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new CheckpointError(missing ? 'file not found' : `cannot open: ${(cause as Error).message}`, {
        code: missing ? 'CHECKPOINT_NOT_FOUND' : 'IO_FAILED',
        file: path,
        cause,
        hint: missing ? 'check the path' : 'check the file permissions',
      });
    }
    try {
      const fileSize = fstatSync(fd).size;
      const prefix = new Uint8Array(8);
      const available = prefix.subarray(0, Math.min(8, fileSize));
      readFully(fd, available, 0, path);
      const headerLength = readHeaderLength(available, fileSize, path);
      const headerBytes = new Uint8Array(headerLength);
      readFully(fd, headerBytes, 8, path);
      const header = parseSafetensorsHeader(headerBytes, fileSize, path);
      return new SafetensorsFile(path, fd, fileSize, 8 + headerLength, header);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** dtype, shape and data offsets (relative to `dataStart`) of one tensor */
  entry(name: string): SafetensorsEntry {
    const entry = this.entries.get(name);
    if (entry === undefined) {
      throw new CheckpointError(`no tensor named '${name}'`, {
        code: 'TENSOR_NOT_FOUND',
        file: this.path,
        tensor: name,
        details: { available: this.entries.size },
        hint: 'list the tensor names with `modelevo inspect <file> --tensors`',
      });
    }
    return entry;
  }

  info(name: string): TensorInfo {
    const { dtype, shape, begin, end } = this.entry(name);
    return { name, dtype, shape, byteLength: end - begin };
  }

  /** Reads the tensor's stored bytes into `target`, whose length must equal the tensor's byte length. */
  readInto(name: string, target: Uint8Array): void {
    const { begin, end } = this.entry(name);
    if (target.length !== end - begin) {
      throw new CheckpointError(`target holds ${target.length} bytes, the tensor has ${end - begin}`, {
        code: 'VALUE_INVALID',
        file: this.path,
        tensor: name,
        hint: 'size the target with info(name).byteLength',
      });
    }
    readFully(this.openFd(), target, this.dataStart + begin, this.path, name);
  }

  /**
   * Reads `target.length` bytes of the tensor starting `byteOffset` bytes into it. Streaming a large tensor
   * through one small reused buffer keeps the destination in cache, which is faster than landing the whole
   * tensor in memory (see BENCHMARKS.md, bench:io).
   */
  readRangeInto(name: string, byteOffset: number, target: Uint8Array): void {
    const { begin, end } = this.entry(name);
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset + target.length > end - begin) {
      throw new CheckpointError(`range [${byteOffset}, ${byteOffset + target.length}) is outside the tensor's ${end - begin} bytes`, {
        code: 'VALUE_INVALID',
        file: this.path,
        tensor: name,
        hint: 'keep byteOffset + target.length within info(name).byteLength',
      });
    }
    readFully(this.openFd(), target, this.dataStart + begin + byteOffset, this.path, name);
  }

  /**
   * Where `length` stored bytes of the tensor from `byteOffset` on live in the open file: its descriptor and
   * absolute position. Lets a worker thread of this process read the range itself with positional reads; the
   * descriptor stays valid until close().
   */
  fileRange(name: string, byteOffset: number, length: number): { readonly fd: number; readonly position: number } {
    const { begin, end } = this.entry(name);
    if (!Number.isSafeInteger(byteOffset) || !Number.isSafeInteger(length) || byteOffset < 0 || length < 0 || byteOffset + length > end - begin) {
      throw new CheckpointError(`range [${byteOffset}, ${byteOffset + length}) is outside the tensor's ${end - begin} bytes`, {
        code: 'VALUE_INVALID',
        file: this.path,
        tensor: name,
        hint: 'keep byteOffset + length within info(name).byteLength',
      });
    }
    return { fd: this.openFd(), position: this.dataStart + begin + byteOffset };
  }

  readBytes(name: string): Uint8Array {
    const { begin, end } = this.entry(name);
    const bytes = new Uint8Array(end - begin);
    this.readInto(name, bytes);
    return bytes;
  }

  readFloat32(name: string): Float32Array {
    const values = new Float32Array(numelOf(this.entry(name).shape));
    this.readFloat32Into(name, values);
    return values;
  }

  /**
   * Like readFloat32 but into a caller-owned array of exactly numel elements, so streaming consumers can
   * reuse one buffer: fresh memory costs page faults that are slower than the read itself.
   */
  readFloat32Into(name: string, target: Float32Array): void {
    const { dtype, shape } = this.entry(name);
    const count = numelOf(shape);
    if (target.length !== count) {
      throw new CheckpointError(`target holds ${target.length} values, the tensor has ${count}`, {
        code: 'VALUE_INVALID',
        file: this.path,
        tensor: name,
        hint: 'size the target with the product of info(name).shape',
      });
    }
    if (dtype === 'F32') {
      this.readInto(name, new Uint8Array(target.buffer, target.byteOffset, 4 * count));
    } else if (dtype === 'BF16' || dtype === 'F16') {
      // stream through a cache-sized scratch buffer: the 16-bit data never make a round trip through memory
      const widen = dtype === 'BF16' ? bf16ToF32Array : f16ToF32Array;
      const scratch = halfScratch();
      for (let done = 0; done < count; done += scratch.length) {
        const n = Math.min(scratch.length, count - done);
        const halves = scratch.subarray(0, n);
        this.readRangeInto(name, 2 * done, new Uint8Array(halves.buffer, 0, 2 * n));
        widen(halves, target.subarray(done, done + n));
      }
    } else {
      target.set(bytesToFloat32(this.readBytes(name), dtype, { file: this.path, tensor: name }));
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private openFd(): number {
    if (this.fd === undefined) {
      throw new CheckpointError('file is closed', { code: 'IO_FAILED', file: this.path, hint: 'open the file again' });
    }
    return this.fd;
  }
}

/** 16-bit values per conversion chunk: 512 KiB, well inside a 2 MiB L2 cache. */
const HALF_SCRATCH_ELEMENTS = 1 << 18;
let halfScratchBuffer: Uint16Array | undefined;

function halfScratch(): Uint16Array {
  halfScratchBuffer ??= new Uint16Array(HALF_SCRATCH_ELEMENTS);
  return halfScratchBuffer;
}

/** Fills `target` from `position` with positional reads of at most READ_CHUNK_BYTES each. */
function readFully(fd: number, target: Uint8Array, position: number, file: string, tensor?: string): void {
  let done = 0;
  while (done < target.length) {
    const length = Math.min(READ_CHUNK_BYTES, target.length - done);
    let read: number;
    try {
      read = readSync(fd, target, done, length, position + done);
    } catch (cause) {
      throw new CheckpointError(`read of ${length} bytes at byte ${position + done} failed: ${(cause as Error).message}`, {
        code: 'IO_FAILED',
        file,
        tensor,
        cause,
        hint: 'check the disk and that the file was not modified while open',
      });
    }
    if (read === 0) {
      throw new CheckpointError(`file ended at byte ${position + done}, expected ${target.length - done} more bytes`, {
        code: 'IO_FAILED',
        file,
        tensor,
        hint: 'the file was truncated after it was opened',
      });
    }
    done += read;
  }
}
