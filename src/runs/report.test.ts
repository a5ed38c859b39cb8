import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineage, lineageSvg, stepSummaries, fitnessChartSvg, wrapName } from './report.js';
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

test('a one-step run still draws its points (markers), and reference lines sit at their fitness with their labels', () => {
  const one = stepSummaries([rec(1, 0, 'x', 2), rec(1, 1, 'y', 4)], 'min');
  const svg = fitnessChartSvg(one, [{ label: 'base test/fixtures/tiny-llama/base', fitness: 1 }, { label: 'expert-code', fitness: 5 }], 640, 280);
  // three series × one step → three markers
  assert.equal((svg.match(/<circle/g) ?? []).length, 3);
  // y range [1, 5] over the plot height 280 − 16 − 36: the base line at the bottom (y = 244), the expert at the top (y = 16)
  assert.match(svg, /<line x1="64" x2="490" y1="244.0" y2="244.0"/);
  assert.match(svg, /<line x1="64" x2="490" y1="16.0" y2="16.0"/);
  assert.match(svg, /base test\/fixtures\/tiny-llama\/base 1.0000/);
  assert.match(svg, /expert-code 5.0000/);
});

test('long model names are wrapped, never cut: the lines join back into the full name', () => {
  const name = 'merge(test/fixtures/tiny-llama-v2/expert-literature,test/fixtures/tiny-llama-v2/expert-code)';
  const lines = wrapName(name, 28);
  assert.equal(lines.join(''), name);
  assert.ok(lines.every((l) => l.length <= 28));
  assert.ok(lines.length >= 4);
  const svg = lineageSvg([rec(1, 0, 'test/fixtures/tiny-llama-v2/expert-literature', 2), rec(1, 1, 'b', 3), rec(2, 0, name, 1, ['test/fixtures/tiny-llama-v2/expert-literature', 'b'])], name);
  const text = [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]).join('');
  assert.ok(text.includes(name), 'the full child name appears in the graph');
  assert.ok(text.includes('test/fixtures/tiny-llama-v2/expert-literature'));
  assert.doesNotMatch(svg, /…/);
});
