/**
 * Loads build/nn.wasm (assembly/nn.ts, `npm run build:wasm`) on a shared WebAssembly.Memory. The memory is
 * sized once for the planned arena and never grows, so Float32Array views over it stay valid for a model's
 * life; `shared: true` lets a second worker instantiate the module on the same memory (data parallelism).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelevoError } from '../../../core/errors.js';

export const WASM_PAGE_BYTES = 65536;
const MAX_WASM_PAGES = 65536;

/** Exports of assembly/nn.ts; pointers are byte addresses, counts element counts. */
export interface NnWasmExports {
  heapBase(): number;
  gemmScratchFloats(): number;
  sgemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    scratch: number,
  ): void;

  nnBiasActivation(y: number, bias: number, rows: number, cols: number, act: number, pre: number): void;
  nnActivation(x: number, y: number, n: number, act: number): void;
  nnActivationBackward(dy: number, x: number, y: number, dx: number, n: number, act: number): void;
  nnColumnSums(x: number, rows: number, cols: number, out: number): void;
  nnMultiply(x: number, m: number, y: number, n: number): void;
  nnSumSquares(x: number, n: number): number;
  nnSgdStep(p: number, g: number, velocity: number, n: number, lr: number, momentum: number, nesterov: number, weightDecay: number, gradScale: number): void;
  nnAdamStep(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: number,
    gradScale: number,
    c1: number,
    c2: number,
  ): void;
  nnIm2col1d(x: number, cols: number, batch: number, channels: number, length: number, kernel: number, stride: number, padding: number, dilation: number, outLength: number): void;
  nnCol2im1d(cols: number, x: number, batch: number, channels: number, length: number, kernel: number, stride: number, padding: number, dilation: number, outLength: number): void;
  nnSwapAxes01(src: number, dst: number, p: number, q: number, r: number): void;
  nnSparseDiffuse(coo: number, nnz: number, x: number, y: number, width: number, transposed: number): void;
  nnChannelBiasRelu(y: number, bias: number, outer: number, channels: number, inner: number, relu: number): void;
  nnChannelSums(x: number, outer: number, channels: number, inner: number, out: number): void;
  nnBatchNormForward(x: number, y: number, gamma: number, beta: number, runMean: number, runVar: number, xhat: number, invStd: number, outer: number, channels: number, inner: number, eps: number, momentum: number, training: number): void;
  nnBatchNormBackward(dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, xhat: number, invStd: number, outer: number, channels: number, inner: number, training: number): void;
}

const REQUIRED_EXPORTS: readonly (keyof NnWasmExports)[] = [
  'heapBase',
  'gemmScratchFloats',
  'sgemm',
  'nnBiasActivation',
  'nnActivation',
  'nnActivationBackward',
  'nnColumnSums',
  'nnMultiply',
  'nnSumSquares',
  'nnSgdStep',
  'nnAdamStep',
  'nnIm2col1d',
  'nnCol2im1d',
  'nnSwapAxes01',
  'nnSparseDiffuse',
  'nnChannelBiasRelu',
  'nnChannelSums',
  'nnBatchNormForward',
  'nnBatchNormBackward',
];

/** The same relative path from src/nn/kernels/wasm/*.ts and dist/nn/kernels/wasm/*.js. */
export const NN_WASM_URL = new URL('../../../../build/nn.wasm', import.meta.url);

let compiled: WebAssembly.Module | undefined;

export function loadNnModule(url: URL = NN_WASM_URL): WebAssembly.Module {
  if (compiled) return compiled;
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new ModelevoError('KERNEL_UNAVAILABLE', `engine kernels not found: expected ${path}, found no file`, {
      hint: "run `npm run build:wasm` to compile assembly/nn.ts into build/nn.wasm, or use kernels: 'reference'",
      details: { path },
    });
  }
  const module = new WebAssembly.Module(readFileSync(path));
  const names = new Set(WebAssembly.Module.exports(module).map((entry) => entry.name));
  const missing = REQUIRED_EXPORTS.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new ModelevoError('KERNEL_UNAVAILABLE', `engine kernels at ${path} lack exports: ${missing.join(', ')}`, {
      hint: 'the file is stale; rebuild with `npm run build:wasm`',
      details: { path, missing },
    });
  }
  compiled = module;
  return module;
}

/** A shared memory of exactly `bytes` (rounded up to whole pages); it must not grow afterwards. */
export function createFixedSharedMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
  if (pages > MAX_WASM_PAGES) {
    throw new ModelevoError('MEMORY_EXHAUSTED', `engine arena needs ${bytes} bytes, expected at most 4 GiB`, {
      hint: 'use a smaller batch size or model',
      details: { bytes },
    });
  }
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

export function instantiateNn(module: WebAssembly.Module, memory: WebAssembly.Memory): NnWasmExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as NnWasmExports;
}
