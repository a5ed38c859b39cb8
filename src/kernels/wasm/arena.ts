/**
 * Bump allocator over the shared kernel memory. Allocation is stack-like: take a `mark()`, allocate the inputs
 * and outputs of one operation, `release(mark)` afterwards. Memory grows on demand up to wasm32's 4 GiB; big
 * tensors are streamed through fixed-size chunks (see pool.ts) so one operation never needs more than that.
 */
import { ModelevoError } from '../../core/errors.js';
import { MAX_WASM_PAGES, WASM_PAGE_BYTES } from './loader.js';

/** Cache-line alignment keeps SIMD loads aligned and workers off each other's lines. */
export const ARENA_ALIGN = 64;

const MAX_BYTES = MAX_WASM_PAGES * WASM_PAGE_BYTES;

export class WasmArena {
  private topByte: number;
  private readonly knownBuffers = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly memory: WebAssembly.Memory,
    /** first usable byte (the module's heap base) */
    readonly baseByte: number,
  ) {
    this.topByte = alignUp(baseByte, ARENA_ALIGN);
  }

  /** The current buffer; every buffer object ever returned is remembered so `owns` recognises older views. */
  get buffer(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    this.knownBuffers.add(buffer);
    return buffer;
  }

  get usedBytes(): number {
    return this.topByte - this.baseByte;
  }

  mark(): number {
    return this.topByte;
  }

  release(mark: number): void {
    if (mark < this.baseByte || mark > this.topByte) {
      throw new ModelevoError('INTERNAL', `arena release(${mark}) outside [${this.baseByte}, ${this.topByte}]`);
    }
    this.topByte = mark;
  }

  /** Reserves `bytes` bytes (aligned) and returns the byte address. */
  allocBytes(bytes: number): number {
    const start = alignUp(this.topByte, ARENA_ALIGN);
    const end = start + bytes;
    if (end > MAX_BYTES) {
      throw new ModelevoError(
        'MEMORY_EXHAUSTED',
        `kernel arena needs ${end} bytes, more than wasm32's ${MAX_BYTES}-byte limit`,
        {
          hint: 'process the tensor in smaller chunks (pool option chunkBytes) or free arena buffers with release()',
          details: { requested: bytes, inUse: this.usedBytes },
        },
      );
    }
    this.ensureCapacity(end);
    this.topByte = end;
    return start;
  }

  f32(n: number): Float32Array {
    const pointer = this.allocBytes(n * 4);
    return new Float32Array(this.buffer, pointer, n);
  }

  u16(n: number): Uint16Array {
    const pointer = this.allocBytes(n * 2);
    return new Uint16Array(this.buffer, pointer, n);
  }

  u32(n: number): Uint32Array {
    const pointer = this.allocBytes(n * 4);
    return new Uint32Array(this.buffer, pointer, n);
  }

  f64(n: number): Float64Array {
    const pointer = this.allocBytes(n * 8);
    return new Float64Array(this.buffer, pointer, n);
  }

  /** True when `view` lies in this arena's memory, so kernels can use it in place without a copy. */
  owns(view: ArrayBufferView): boolean {
    if (!this.knownBuffers.has(view.buffer)) return false;
    return view.byteOffset >= this.baseByte;
  }

  private ensureCapacity(endByte: number): void {
    const current = this.memory.buffer.byteLength;
    if (endByte <= current) return;
    // Grow geometrically so streaming many tensors does not grow page by page.
    const wanted = Math.min(MAX_BYTES, Math.max(endByte, current * 1.5));
    const pages = Math.ceil((wanted - current) / WASM_PAGE_BYTES);
    try {
      this.memory.grow(pages);
    } catch (cause) {
      try {
        this.memory.grow(Math.ceil((endByte - current) / WASM_PAGE_BYTES));
      } catch {
        throw new ModelevoError('MEMORY_EXHAUSTED', `could not grow kernel memory from ${current} to ${endByte} bytes`, {
          hint: 'lower the pool option chunkBytes, or free memory in this process',
          details: { current, wanted: endByte },
          cause,
        });
      }
    }
    this.knownBuffers.add(this.memory.buffer);
  }
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
