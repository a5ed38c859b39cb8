/**
 * DELLA-merging — Deep, Bhardwaj & Poria, "DELLA-Merging", arXiv:2406.11617.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): MagPrune (rank-based keep probabilities per row), L1 rescale (P2), sign election, disjoint mean.
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const della = defineTaskVectorMethod({
  name: 'della',
  title: 'DELLA-merging',
  reference: 'arXiv:2406.11617',
  sparsifier: 'della_magprune',
  consensus: true,
  normalize: true,
  rescale: true,
});
