/**
 * Task arithmetic — Ilharco et al., "Editing Models with Task Arithmetic", ICLR 2023, arXiv:2212.04089.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): no sparsifier, no consensus; out = B + λ·Σ w_i·δ_i.
 * With `extra_channels: anyfit` it is "task_arithmetic with the channel rule" (AnyFit, arXiv:2405.18172;
 * evolutionary-merging.md §3; see ../extra-channels.ts).
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const taskArithmetic = defineTaskVectorMethod({
  name: 'task_arithmetic',
  title: 'Task arithmetic',
  reference: 'arXiv:2212.04089',
  sparsifier: undefined,
  consensus: false,
  normalize: false,
  rescale: false,
  extraChannels: true,
});
