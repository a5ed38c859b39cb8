/**
 * TIES-merging — Yadav et al., "TIES-Merging", NeurIPS 2023, arXiv:2306.01708.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): magnitude trim (per tensor, or per model with trim_scope: model, P4), sign election, disjoint mean.
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const ties = defineTaskVectorMethod({
  name: 'ties',
  title: 'TIES-merging',
  reference: 'arXiv:2306.01708',
  sparsifier: 'magnitude',
  consensus: true,
  normalize: true,
  rescale: false,
});
