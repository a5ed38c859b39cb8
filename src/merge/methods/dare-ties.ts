/**
 * DARE with TIES sign consensus — Yu et al., "Language Models are Super Mario" (DARE), ICML 2024, arXiv:2311.03099.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): random drop with L1 rescale (P1), sign election.
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const dareTies = defineTaskVectorMethod({
  name: 'dare_ties',
  title: 'DARE with TIES sign consensus',
  reference: 'arXiv:2311.03099',
  sparsifier: 'random',
  consensus: true,
  normalize: false,
  rescale: true,
});
