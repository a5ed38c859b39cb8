/**
 * safetensors writer (formats.md §1.3). The header is fixed up front from the tensor specs, so tensors may
 * be written in any order with positional writes (by this writer, or by the caller at `tensorTarget`); data go to
 * a temporary file beside the target that is fsynced and renamed into place on commit, so a crash never leaves
 * a half-written file under the real name.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CheckpointError } from '../../core/errors.js';
import { DTYPE_BITS, isDType, type DType } from '../../core/dtype.js';
import { METADATA_KEY } from './header.js';
import { faultPoint } from '../../core/fault-points.js';

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

/** Largest single write, well below Node's 2 GiB per-call limit. */
const WRITE_CHUNK_BYTES = 1 << 30;

interface Placement {
  readonly begin: number;
  readonly end: number;
  written: boolean;
}

export class SafetensorsWriter {
  readonly path: string;
  readonly tempPath: string;
  /** absolute byte offset of the data buffer */
  readonly dataStart: number;
  readonly fileSize: number;
  private readonly placements: Map<string, Placement>;
  private fd: number | undefined;

  private constructor(path: string, tempPath: string, fd: number, dataStart: number, placements: Map<string, Placement>) {
    this.path = path;
    this.tempPath = tempPath;
    this.fd = fd;
    this.dataStart = dataStart;
    this.placements = placements;
    let dataLength = 0;
    for (const p of placements.values()) dataLength = Math.max(dataLength, p.end);
    this.fileSize = dataStart + dataLength;
  }

  /**
   * Lays out the tensors (descending element size, then name), writes the header and sizes the temporary
   * file. `metadata` is merged over `{"format": "pt"}`.
   */
  static create(path: string, specs: readonly TensorSpec[], metadata: Record<string, string> = {}): SafetensorsWriter {
    const { header, placements } = layOut(path, specs, metadata);
    const tempPath = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    let fd: number;
    try {
      fd = openSync(tempPath, 'wx');
    } catch (cause) {
      throw new CheckpointError(`cannot create ${tempPath}: ${(cause as Error).message}`, {
        code: 'IO_FAILED',
        file: path,
        cause,
        hint: 'check that the output folder exists and is writable',
      });
    }
    const writer = new SafetensorsWriter(path, tempPath, fd, header.length, placements);
    try {
      writer.writeAt(header, 0);
      // sizing the file first lets tensors land anywhere and leaves zero-length tensors nothing to do
      ftruncateSync(fd, writer.fileSize);
    } catch (error) {
      writer.abort();
      throw error;
    }
    for (const placement of placements.values()) if (placement.end === placement.begin) placement.written = true;
    return writer;
  }

  /** Writes one tensor's bytes at its offset; each tensor exactly once, in any order. */
  writeTensor(name: string, bytes: Uint8Array): void {
    const placement = this.placementOf(name);
    const expected = placement.end - placement.begin;
    if (bytes.length !== expected) {
      throw new CheckpointError(`expected ${expected} bytes, got ${bytes.length}`, {
        code: 'VALUE_INVALID',
        file: this.path,
        tensor: name,
        hint: 'the data must match the declared dtype and shape',
      });
    }
    this.assertNotWritten(name, placement);
    this.writeAt(bytes, this.dataStart + placement.begin);
    placement.written = true;
  }

  /**
   * Where `name`'s bytes go in the temporary file, for callers that write them themselves with positional
   * writes (e.g. kernel worker threads); they then call `markWritten(name)`. The descriptor stays valid until
   * commit() or abort().
   */
  tensorTarget(name: string): { readonly fd: number; readonly position: number; readonly byteLength: number } {
    const placement = this.placementOf(name);
    this.assertNotWritten(name, placement);
    return { fd: this.openFd(), position: this.dataStart + placement.begin, byteLength: placement.end - placement.begin };
  }

  /** Records that the caller wrote `name`'s bytes at its `tensorTarget`. */
  markWritten(name: string): void {
    const placement = this.placementOf(name);
    this.assertNotWritten(name, placement);
    placement.written = true;
  }

  /** Checks every tensor was written, then fsyncs, closes and renames the file into place. */
  commit(): void {
    const fd = this.openFd();
    const missing = [...this.placements].filter(([, p]) => !p.written).map(([name]) => name);
    if (missing.length > 0) {
      throw new CheckpointError(`${missing.length} tensor(s) not written: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`, {
        code: 'VALUE_INVALID',
        file: this.path,
        details: { missing },
        hint: 'write every declared tensor before commit(), or abort()',
      });
    }
    try {
      fsyncSync(fd);
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.tempPath, this.path);
    } catch (cause) {
      this.abort();
      throw new CheckpointError(`cannot finish writing: ${(cause as Error).message}`, { code: 'IO_FAILED', file: this.path, cause });
    }
  }

  /** Closes and deletes the temporary file; safe to call more than once. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // the descriptor is being discarded either way
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tempPath);
    } catch {
      // already gone (committed or removed)
    }
  }

  private placementOf(name: string): Placement {
    const placement = this.placements.get(name);
    if (placement === undefined) {
      throw new CheckpointError(`tensor '${name}' was not declared when the writer was created`, {
        code: 'TENSOR_NOT_FOUND',
        file: this.path,
        tensor: name,
        hint: 'pass every tensor to SafetensorsWriter.create',
      });
    }
    return placement;
  }

  /** Zero-length tensors count as written from the start and may be "written" again harmlessly. */
  private assertNotWritten(name: string, placement: Placement): void {
    if (placement.written && placement.end > placement.begin) {
      throw new CheckpointError('tensor was already written', { code: 'VALUE_INVALID', file: this.path, tensor: name });
    }
  }

  private writeAt(bytes: Uint8Array, position: number): void {
    const fd = this.openFd();
    let done = 0;
    try {
      faultPoint('write');
      while (done < bytes.length) {
        const length = Math.min(WRITE_CHUNK_BYTES, bytes.length - done);
        done += writeSync(fd, bytes, done, length, position + done);
      }
    } catch (cause) {
      const errno = (cause as NodeJS.ErrnoException).code;
      const full = errno === 'ENOSPC' || errno === 'EDQUOT';
      throw new CheckpointError(`${full ? 'no space left on the device: ' : ''}write at byte ${position + done} failed: ${(cause as Error).message}`, {
        code: 'IO_FAILED',
        file: this.path,
        cause,
        details: errno ? { errno } : {},
        hint: full ? 'free disk space (or write to another disk) and run again; nothing was left behind' : 'check that the output folder is writable',
      });
    }
  }

  private openFd(): number {
    if (this.fd === undefined) {
      throw new CheckpointError('writer is already committed or aborted', { code: 'IO_FAILED', file: this.path });
    }
    return this.fd;
  }
}

/** Writes a whole tensor set to `path` (atomically, like SafetensorsWriter). */
export function writeSafetensors(
  path: string,
  tensors: readonly (TensorSpec & { data: Uint8Array })[],
  metadata?: Record<string, string>,
): void {
  const writer = SafetensorsWriter.create(path, tensors, metadata);
  try {
    for (const tensor of tensors) writer.writeTensor(tensor.name, tensor.data);
    writer.commit();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Element size used for ordering; sub-byte dtypes count as 1. */
function elementAlignment(dtype: DType): number {
  return Math.max(1, Math.floor(DTYPE_BITS[dtype] / 8));
}

function layOut(
  path: string,
  specs: readonly TensorSpec[],
  metadata: Record<string, string>,
): { header: Uint8Array; placements: Map<string, Placement> } {
  const invalid = (message: string, tensor?: string): never => {
    throw new CheckpointError(message, { code: 'VALUE_INVALID', file: path, tensor, hint: 'fix the tensor specs passed to the writer' });
  };
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.name === METADATA_KEY || spec.name.length === 0) invalid(`'${spec.name}' is not a valid tensor name`, spec.name);
    if (seen.has(spec.name)) invalid('tensor name given twice', spec.name);
    seen.add(spec.name);
    if (!isDType(spec.dtype)) invalid(`unknown dtype ${JSON.stringify(spec.dtype)}`, spec.name);
    if (!spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      invalid(`shape [${spec.shape.join(', ')}] must hold non-negative integers`, spec.name);
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') invalid(`metadata '${key}' must be a string, got ${typeof value}`);
  }
  const ordered = [...specs].sort(
    (a, b) => elementAlignment(b.dtype) - elementAlignment(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const placements = new Map<string, Placement>();
  // `format` first and always "pt": transformers rejects other values and some versions a missing key
  const fullMetadata: Record<string, string> = { format: 'pt', ...metadata };
  fullMetadata.format = 'pt';
  const entries: string[] = [`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(fullMetadata)}`];
  let offset = 0;
  for (const spec of ordered) {
    let elements = 1;
    for (const d of spec.shape) elements *= d;
    const bits = elements * DTYPE_BITS[spec.dtype];
    if (!Number.isSafeInteger(bits)) invalid(`shape [${spec.shape.join(', ')}] is too large`, spec.name);
    if (bits % 8 !== 0) invalid(`${elements} ${spec.dtype} elements are not a whole number of bytes`, spec.name);
    const end = offset + bits / 8;
    placements.set(spec.name, { begin: offset, end, written: false });
    const entry = { dtype: spec.dtype, shape: spec.shape, data_offsets: [offset, end] };
    entries.push(`${JSON.stringify(spec.name)}:${JSON.stringify(entry)}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, placements };
}
