/**
 * Plain-TypeScript specifications of the WebAssembly kernels (assembly/*.ts; engines.md §4, §8): the slow
 * reference every fast path is tested against. Float32 kernels round after every operation with Math.fround
 * in the documented order, so the SIMD kernels must agree bit for bit; deltaStats is a plain float64 sum.
 * Conversions are written from the number formats themselves (exponent and significand in float64), not
 * from the bit tricks the SIMD code uses, so the two implementations check each other; NaN conventions are
 * those of float16.ts (the project's conversion reference), which the tests also compare against.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

function bitsOfFloat32(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

function float32OfBits(bits: number): number {
  u32Scratch[0] = bits >>> 0;
  return f32Scratch[0]!;
}

/** Round a non-negative float64 to an integer, ties to even. */
function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const fraction = v - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The e with 2^e ≤ v < 2^(e+1) for finite v > 0 (Math.log2 alone may round across a power of two). */
function binadeOf(v: number): number {
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e -= 1;
  if (2 ** (e + 1) <= v) e += 1;
  return e;
}

/** bfloat16 bits → float32 value: the bf16 pattern is the top half of the float32 pattern. */
export function bf16BitsToFloat32Ref(bits: number): number {
  return float32OfBits((bits & 0xffff) << 16);
}

/** float32 value → bfloat16 bits, round to nearest even; NaN → quiet NaN keeping sign and top payload. */
export function float32ToBf16BitsRef(x: number): number {
  const bits = bitsOfFloat32(x);
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(x)) return (bits >>> 16) | 0x0040;
  const magnitude = Math.abs(Math.fround(x));
  if (magnitude === Infinity) return sign | 0x7f80;
  if (magnitude === 0) return sign;
  // bf16 keeps 8 significand bits (7 stored) with float32's exponent range, subnormals included.
  const e = Math.max(binadeOf(magnitude), -126);
  const quantum = 2 ** (e - 7);
  const rounded = roundHalfEven(magnitude / quantum) * quantum;
  if (rounded >= 2 ** 128) return sign | 0x7f80;
  return sign | (bitsOfFloat32(rounded) >>> 16);
}

/** IEEE binary16 bits → float32 value (as a JS number a signalling NaN may come back quiet; see the bits form). */
export function f16BitsToFloat32Ref(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) {
    if (mantissa === 0) return sign * Infinity;
    // NaN: keep sign and payload, widened into the float32 significand, and set the quiet bit.
    return float32OfBits(((bits & 0x8000) << 16) | 0x7fc00000 | (mantissa << 13));
  }
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** float32 value → IEEE binary16 bits, round to nearest even; NaN → sign | 0x7e00. */
export function float32ToF16BitsRef(x: number): number {
  const bits = bitsOfFloat32(x);
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(x)) return sign | 0x7e00;
  const magnitude = Math.abs(Math.fround(x));
  if (magnitude === 0) return sign;
  if (magnitude < 2 ** -14) {
    // Subnormal range: multiples of 2^-24; rounding up to 1024·2^-24 gives the smallest normal's bits.
    return sign | roundHalfEven(magnitude * 2 ** 24);
  }
  let e = binadeOf(magnitude);
  let significand = roundHalfEven((magnitude / 2 ** e - 1) * 1024);
  if (significand === 1024) {
    significand = 0;
    e += 1;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | significand;
}

// Bit-pattern forms: a NaN read into a JS number may lose its signalling bit, so the array kernels below
// move float32 data as bits and only go through numbers for non-NaN values.

/** float32 bits of the bf16 pattern (exact, NaN payloads included). */
export function bf16BitsToFloat32BitsRef(bits: number): number {
  return ((bits & 0xffff) << 16) >>> 0;
}

/** float32 bits of the binary16 pattern; a NaN keeps its sign and payload and becomes quiet. */
export function f16BitsToFloat32BitsRef(bits: number): number {
  if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) {
    return (((bits & 0x8000) << 16) | 0x7fc00000 | ((bits & 0x3ff) << 13)) >>> 0;
  }
  return bitsOfFloat32(f16BitsToFloat32Ref(bits));
}

export function float32BitsToBf16BitsRef(bits: number): number {
  if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) return (bits >>> 16) | 0x0040;
  return float32ToBf16BitsRef(float32OfBits(bits));
}

export function float32BitsToF16BitsRef(bits: number): number {
  if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) return ((bits >>> 16) & 0x8000) | 0x7e00;
  return float32ToF16BitsRef(float32OfBits(bits));
}

function bitsView(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

export function bf16ToF32Ref(src: Uint16Array, dst: Float32Array): void {
  const out = bitsView(dst);
  for (let i = 0; i < src.length; i++) out[i] = bf16BitsToFloat32BitsRef(src[i]!);
}

export function f32ToBf16Ref(src: Float32Array, dst: Uint16Array): void {
  const input = bitsView(src);
  for (let i = 0; i < input.length; i++) dst[i] = float32BitsToBf16BitsRef(input[i]!);
}

export function f16ToF32Ref(src: Uint16Array, dst: Float32Array): void {
  const out = bitsView(dst);
  for (let i = 0; i < src.length; i++) out[i] = f16BitsToFloat32BitsRef(src[i]!);
}

export function f32ToF16Ref(src: Float32Array, dst: Uint16Array): void {
  const input = bitsView(src);
  for (let i = 0; i < input.length; i++) dst[i] = float32BitsToF16BitsRef(input[i]!);
}

/** out = Σ_j w_j·x_j in float32: acc = w_0·x_0, then acc = acc + w_j·x_j in model order. */
export function weightedSumRef(out: Float32Array, inputs: readonly Float32Array[], weights: readonly number[]): void {
  const w = weights.map((x) => Math.fround(x));
  for (let i = 0; i < out.length; i++) {
    if (inputs.length === 0) {
      out[i] = 0;
      continue;
    }
    let acc = Math.fround(w[0]! * inputs[0]![i]!);
    for (let j = 1; j < inputs.length; j++) acc = Math.fround(acc + Math.fround(w[j]! * inputs[j]![i]!));
    out[i] = acc;
  }
}

/** Float64 sums of x = a − base and y = b − base (base omitted: x = a, y = b). */
export interface DeltaStats {
  readonly n: number;
  readonly sumX: number;
  readonly sumY: number;
  readonly sumXX: number;
  readonly sumYY: number;
  readonly sumXY: number;
}

export function deltaStatsRef(a: Float32Array, b: Float32Array, base?: Float32Array): DeltaStats {
  let sumX = 0;
  let sumY = 0;
  let sumXX = 0;
  let sumYY = 0;
  let sumXY = 0;
  for (let i = 0; i < a.length; i++) {
    const z = base ? base[i]! : 0;
    const x = a[i]! - z;
    const y = b[i]! - z;
    sumX += x;
    sumY += y;
    sumXX += x * x;
    sumYY += y * y;
    sumXY += x * y;
  }
  return { n: a.length, sumX, sumY, sumXX, sumYY, sumXY };
}

/** Options of the fused TIES mix (merge-methods.md §3.6 steps 3–7). */
export interface TiesMixOptions {
  /** per-model trim thresholds: δ_j is kept where |δ_j| ≥ threshold_j (0 keeps everything) */
  readonly thresholds: readonly number[];
  readonly weights: readonly number[];
  /** λ of step 7 */
  readonly lambda: number;
  /** sign election (step 4); false gives task-arithmetic mixing */
  readonly consensus: boolean;
  /** divide by the (masked) weight sum (step 6) */
  readonly normalize: boolean;
}

/** Fused TIES mix in float32, operation for operation as assembly/ties.ts. */
export function tiesMixRef(
  out: Float32Array,
  base: Float32Array,
  models: readonly Float32Array[],
  options: TiesMixOptions,
): void {
  const f = Math.fround;
  const tiny = f(1e-8);
  const thresholds = options.thresholds.map(f);
  const weights = options.weights.map(f);
  const lambda = f(options.lambda);
  let weightSum = 0;
  for (const w of weights) weightSum = f(weightSum + w);
  if (Math.abs(weightSum) < tiny) weightSum = 1;
  const trimmed = (j: number, i: number, b: number): number => {
    const delta = f(models[j]![i]! - b);
    return Math.abs(delta) >= thresholds[j]! ? f(weights[j]! * delta) : 0;
  };
  for (let i = 0; i < out.length; i++) {
    const b = base[i]!;
    let sum = 0;
    for (let j = 0; j < models.length; j++) sum = f(sum + trimmed(j, i, b));
    let mixed = sum;
    let divisor = weightSum;
    if (options.consensus) {
      const positive = sum >= 0;
      mixed = 0;
      divisor = 0;
      for (let j = 0; j < models.length; j++) {
        const d = trimmed(j, i, b);
        if (positive ? d > 0 : d < 0) {
          mixed = f(mixed + d);
          divisor = f(divisor + weights[j]!);
        }
      }
      if (Math.abs(divisor) < tiny) divisor = 1;
    }
    if (options.normalize) mixed = f(mixed / divisor);
    out[i] = f(b + f(lambda * mixed));
  }
}

/** Adds to `hist` (2048 bins) the count of each top-11-bit prefix of |x|'s float32 bit pattern. */
export function absHistogram11Ref(x: Float32Array, hist: Uint32Array): void {
  const bits = bitsView(x);
  for (let i = 0; i < bits.length; i++) {
    const bin = (bits[i]! & 0x7fffffff) >>> 20;
    hist[bin] = hist[bin]! + 1;
  }
}
