/**
 * Each method declares its own fast path (issue #18 item 4): the set that opts in is exactly the one the
 * kernel tests cover bit for bit (fast-path.test.ts), so a new method runs its reference `mergeTensor` until
 * it declares a path on purpose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MERGE_METHODS } from './registry.js';

test('the methods with a fast path and their declarations', () => {
  const declared = Object.fromEntries(Object.values(MERGE_METHODS).flatMap((m) => (m.fastPath ? [[m.name, m.fastPath]] : [])));
  assert.deepEqual(declared, {
    linear: { kind: 'linear' },
    ties: { kind: 'task_vector', sparsifier: 'magnitude', consensus: true, rescale: false },
    task_arithmetic: { kind: 'task_vector', sparsifier: undefined, consensus: false, rescale: false },
    dare_ties: { kind: 'task_vector', sparsifier: 'random', consensus: true, rescale: true },
    dare_linear: { kind: 'task_vector', sparsifier: 'random', consensus: false, rescale: true },
    della: { kind: 'task_vector', sparsifier: 'della_magprune', consensus: true, rescale: true },
    della_linear: { kind: 'task_vector', sparsifier: 'della_magprune', consensus: false, rescale: true },
    breadcrumbs_ties: { kind: 'task_vector', sparsifier: 'magnitude_outliers', consensus: true, rescale: false },
    breadcrumbs: { kind: 'task_vector', sparsifier: 'magnitude_outliers', consensus: false, rescale: false },
  });
});
