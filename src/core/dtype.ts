/** safetensors dtypes (formats.md §1.4) and their sizes. */

export const DTYPE_BITS = {
  F64: 64,
  F32: 32,
  F16: 16,
  BF16: 16,
  I64: 64,
  I32: 32,
  I16: 16,
  I8: 8,
  U64: 64,
  U32: 32,
  U16: 16,
  U8: 8,
  BOOL: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  F6_E2M3: 6,
  F6_E3M2: 6,
  F4: 4,
  C64: 64,
} as const satisfies Record<string, number>;

export type DType = keyof typeof DTYPE_BITS;

export const DTYPES = Object.keys(DTYPE_BITS) as DType[];

/** dtypes the merge engine computes in (converted to float32 on read). */
export const FLOAT_COMPUTE_DTYPES = ['F64', 'F32', 'F16', 'BF16'] as const satisfies readonly DType[];
export type FloatDType = (typeof FLOAT_COMPUTE_DTYPES)[number];

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BITS, name);
}

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return (FLOAT_COMPUTE_DTYPES as readonly string[]).includes(dtype);
}

/** Element size in bytes; undefined for sub-byte dtypes (F4, F6_*). */
export function bytesPerElement(dtype: DType): number | undefined {
  const bits = DTYPE_BITS[dtype];
  return bits % 8 === 0 ? bits / 8 : undefined;
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
