import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineage, lineageSvg, stepSummaries, fitnessChartSvg } from './report.js';
import type { IndividualRecord } from './store.js';

const rec = (step: number, index: number, key: string, fitness: number, parents?: string[]): IndividualRecord => ({
  step,
  index,
  key,
  genome: key,
  fitness,
  seconds: 0,
  ...(parents ? { parents } : {}),
});

const records = [rec(1, 0, 'a', 3), rec(1, 1, 'b', 1), rec(1, 2, 'c', NaN), rec(2, 0, 'ab', 2, ['a', 'b']), rec(2, 1, 'bc', 5, ['b', 'c']), rec(3, 0, 'ab-bc', 0.5, ['ab', 'bc'])];

test('step summaries: best, median and best-so-far per objective, failures ignored', () => {
  assert.deepEqual(stepSummaries(records, 'min').map((s) => [s.step, s.count, s.best, s.bestSoFar]), [[1, 3, 1, 1], [2, 2, 2, 1], [3, 1, 0.5, 0.5]]);
  assert.deepEqual(stepSummaries(records, 'max').map((s) => s.bestSoFar), [3, 5, 5]);
});

test('lineage walks recorded parents breadth-first, each ancestor once', () => {
  assert.deepEqual(lineage(records, 'ab-bc').map((l) => l.key), ['ab-bc', 'ab', 'bc', 'a', 'b', 'c']);
});

test('the chart is a self-contained SVG with three series', () => {
  const svg = fitnessChartSvg(stepSummaries(records, 'min'));
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 3);
  assert.doesNotMatch(svg, /NaN/);
});

test('the lineage graph draws every ancestor once and one edge per recorded parent link', () => {
  const svg = lineageSvg(records, 'ab-bc');
  assert.equal((svg.match(/<circle/g) ?? []).length, 6);
  assert.equal((svg.match(/<line/g) ?? []).length, 6);
  assert.equal(lineageSvg(records, 'a'), '');
});
