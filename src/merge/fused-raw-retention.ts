/**
 * Where the block-wise task-vector passes (fused-task-vectors.ts, issue #16) may keep a tensor's raw input bytes
 * from the LOAD pass to the later ones, so those read memory instead of the shards again: the leading
 * `bytesPerInput` bytes of each input, in the arena bytes the whole-vector path's float32 vectors occupy (idle
 * while the passes run; ≥ 4 bytes per element and input, so kept bytes stay ≤ largest tensor × inputs, inside
 * the merge's 3× memory bound). Blocks past the kept elements are read from the shards by every pass.
 *
 * Off by default (0): on the loaded 2-core box of 2026-12-06 keeping bytes never paid. Copying the page cache
 * into a DRAM-sized region and reading it back moves more memory than two page-cache copies into an L2-sized
 * scratch, and the region's first touch faults (whole tensors: +128K faults, ties on fam2 4.1–4.5 → 6.2–7.5
 * CPU-s; 32 MiB per input: fam2 ~+0.3 CPU-s, fam6 no difference). `bench/merge-profile.ts --retain-bytes N`
 * measures it again (e.g. idle); tests set it to cover the kept, partial and re-reading paths.
 */
import { L1_BLOCK } from './sparsify.js';

export const rawRetention = { bytesPerInput: 0 };

/** The kept region of one tensor: address (0: none), bytes between inputs, kept leading elements. */
export interface KeptRaw {
  readonly address: number;
  readonly stride: number;
  readonly elements: number;
}

/** The region for `inputs` inputs of n elements of `width` bytes, or address 0 when nothing is kept. */
export function keptRaw(region: { readonly address: number; readonly bytes: number } | undefined, inputs: number, n: number, width: number): KeptRaw {
  // whole blocks (block starts are multiples of L1_BLOCK), or the whole tensor
  const elements = Math.min(n, Math.floor(rawRetention.bytesPerInput / width / L1_BLOCK) * L1_BLOCK);
  const stride = Math.ceil((elements * width) / 64) * 64;
  const fits = region !== undefined && elements > 0 && inputs * stride <= region.bytes;
  return fits ? { address: region.address, stride, elements } : { address: 0, stride: 0, elements: 0 };
}
