/**
 * Model Breadcrumbs with TIES sign consensus — Davari & Belilovsky, "Model Breadcrumbs", ECCV 2024, arXiv:2312.06795.
 * merge-methods.md §3.6 (a configuration of the shared pipeline): Breadcrumbs band, then sign election.
 */
import { defineTaskVectorMethod } from '../task-vector.js';

export const breadcrumbsTies = defineTaskVectorMethod({
  name: 'breadcrumbs_ties',
  title: 'Model Breadcrumbs with TIES sign consensus',
  reference: 'arXiv:2312.06795',
  sparsifier: 'magnitude_outliers',
  consensus: true,
  normalize: false,
  rescale: false,
});
