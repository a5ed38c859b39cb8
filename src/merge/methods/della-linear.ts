/**
 * DELLA (linear) — Deep, Bhardwaj & Poria, "DELLA-Merging", arXiv:2406.11617.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): MagPrune with L1 rescale (P2), no consensus.
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const dellaLinear = defineTaskVectorMethod({
  name: 'della_linear',
  title: 'DELLA (linear)',
  reference: 'arXiv:2406.11617',
  sparsifier: 'della_magprune',
  consensus: false,
  normalize: false,
  rescale: true,
});
