/**
 * Test helpers: build safetensors file bytes by hand (no writer involved) so validation tests can start
 * from a known-good layout and break one rule at a time.
 */

export interface HandTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** defaults to consecutive offsets in the given order */
  offsets?: [number, number];
  data?: Uint8Array;
}

export interface HandFileOptions {
  metadata?: Record<string, unknown> | null;
  /** spaces appended to the JSON */
  padding?: number;
  /** replaces the whole header text (tensors still supply the data) */
  headerText?: string;
  /** overrides the 8-byte length field */
  claimedLength?: bigint;
  /** bytes appended after the data */
  trailing?: number;
}

const BITS: Record<string, number> = {
  F64: 64, F32: 32, F16: 16, BF16: 16, I64: 64, I32: 32, I16: 16, I8: 8, U64: 64, U32: 32, U16: 16, U8: 8, BOOL: 8,
  F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8, F6_E2M3: 6, F6_E3M2: 6, F4: 4, C64: 64,
};

export function byteLengthOf(dtype: string, shape: readonly number[]): number {
  return Math.ceil((shape.reduce((a, b) => a * b, 1) * (BITS[dtype] ?? 8)) / 8);
}

export function handFile(tensors: readonly HandTensor[], options: HandFileOptions = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) header.__metadata__ = options.metadata;
  let offset = 0;
  const chunks: [number, Uint8Array][] = [];
  for (const t of tensors) {
    const length = t.data?.length ?? byteLengthOf(t.dtype, t.shape);
    const offsets = t.offsets ?? [offset, offset + length];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets };
    chunks.push([offsets[0], t.data ?? new Uint8Array(length).map((_, i) => (i * 37 + offset) & 255)]);
    offset += length;
  }
  const text = (options.headerText ?? JSON.stringify(header)) + ' '.repeat(options.padding ?? 0);
  const json = new TextEncoder().encode(text);
  let dataLength = 0;
  for (const [begin, bytes] of chunks) dataLength = Math.max(dataLength, begin + bytes.length);
  const file = new Uint8Array(8 + json.length + dataLength + (options.trailing ?? 0));
  new DataView(file.buffer).setBigUint64(0, options.claimedLength ?? BigInt(json.length), true);
  file.set(json, 8);
  for (const [begin, bytes] of chunks) file.set(bytes, 8 + json.length + begin);
  return file;
}
