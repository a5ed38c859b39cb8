// Entry point of the training engine's WebAssembly module (build/nn.wasm, `npm run build:wasm`). Like
// build/kernels.wasm it imports one shared memory and works on byte addresses into it; the TypeScript side
// (src/nn/kernels/wasm/) plans the arena and owns every allocation.

export { sgemm, gemmScratchFloats } from './nn-gemm';

/** First byte the arena may use: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
export {
  nnBiasActivation,
  nnActivation,
  nnActivationBackward,
  nnColumnSums,
  nnMultiply,
  nnSumSquares,
  nnSgdStep,
  nnAdamStep,
} from './nn-elementwise';
export { nnIm2col1d, nnCol2im1d, nnSwapAxes01, nnSparseDiffuse, nnChannelBiasRelu, nnChannelSums, nnBatchNormForward, nnBatchNormBackward } from './nn-conv';
