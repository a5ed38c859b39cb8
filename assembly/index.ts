// Entry point of the WebAssembly kernel module (build/kernels.wasm). Every export works on byte addresses in
// the imported shared memory and element counts; the TypeScript side (src/kernels/wasm/) owns all allocation.

export { bf16ToF32, f32ToBf16, f16ToF32, f32ToF16 } from './convert';
export { weightedSum } from './linear';
export { deltaStats, STATS_BLOCK } from './stats';
export { tiesMix, TIES_CONSENSUS, TIES_NORMALIZE } from './ties';
export { absHistogram11 } from './histogram';

/** First byte the TypeScript arena may use: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
export { linearF64, tiesCombineF64, findNonFinite, LINEAR_IN_BF16, LINEAR_OUT_BF16 } from './merge-f64';
export { linearF32 } from './merge-f32';
export { kinshipMoments, kinshipRecordLength, KINSHIP_BLOCK, KINSHIP_SQDIFF, KINSHIP_IN_BF16 } from './kinship';
export { absHistogramPrefix, keepBand, keepBandAt, dareKeep, absSumBlocks } from './sparsify';
export { dellaRows, dellaScratchBytes } from './della';
export { decodeTaskVector, deltaHistogramPrefix, TASK_INPUT_F32, TASK_INPUT_BF16, TASK_INPUT_F16 } from './sparsify';
export { deltaBand, absHistogramPrefixMany, DELTA_BAND_SCRATCH } from './select-band';
export { deltaBands, DELTA_BANDS_SCRATCH } from './select-bands';
export { taskVectorFinal } from './task-vector-final';
export { tiesCombineF32 } from './task-vector-mix-f32';
export { dareNorms, DARE_NORMS_SCRATCH } from './dare-norms';
