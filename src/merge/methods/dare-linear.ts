/**
 * DARE (linear) — Yu et al., "Language Models are Super Mario" (DARE), ICML 2024, arXiv:2311.03099.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): random drop with L1 rescale (P1), no consensus.
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const dareLinear = defineTaskVectorMethod({
  name: 'dare_linear',
  title: 'DARE (linear)',
  reference: 'arXiv:2311.03099',
  sparsifier: 'random',
  consensus: false,
  normalize: false,
  rescale: true,
});
