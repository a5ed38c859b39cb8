/**
 * Model Breadcrumbs — Davari & Belilovsky, "Model Breadcrumbs", ECCV 2024, arXiv:2312.06795.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): drop the smallest and the gamma largest magnitudes (band to the end when n_top = 0, P3).
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const breadcrumbs = defineTaskVectorMethod({
  name: 'breadcrumbs',
  title: 'Model Breadcrumbs',
  reference: 'arXiv:2312.06795',
  sparsifier: 'magnitude_outliers',
  consensus: false,
  normalize: false,
  rescale: false,
});
