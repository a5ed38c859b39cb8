import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IndividualRecord } from '../runs/store.js';
import { lineageOf, objectiveOf, objectiveOfRun, referencesOf, summariseCandidate } from './views.js';

const record = (key: string, fitness: number, extra: Partial<IndividualRecord> = {}): IndividualRecord => ({ step: 0, index: 0, key, genome: [], fitness, seconds: 0, ...extra });

test('referencesOf: the latest references event wins; malformed entries are dropped', () => {
  const events = [
    { seq: 1, time: '', type: 'references', payload: { references: [{ label: 'base', fitness: 1 }] } },
    { seq: 2, time: '', type: 'tell', payload: {} },
    { seq: 3, time: '', type: 'references', payload: { references: [{ label: 'base', fitness: 2 }, { label: 'x' }, { label: 'best static (ties)', fitness: 0.5 }] } },
  ];
  assert.deepEqual(referencesOf(events), [{ label: 'base', fitness: 2 }, { label: 'best static (ties)', fitness: 0.5 }]);
  assert.deepEqual(referencesOf([]), []);
});

test('objectiveOf: AD-NEv params, a builtin fitness (loss: min), a module fitness with its objective', () => {
  assert.equal(objectiveOf({ params: { objective: 'min' } }), 'min');
  assert.equal(objectiveOf({ fitness: { builtin: {} } }), 'min');
  assert.equal(objectiveOf({ fitness: { module: { objective: 'max' } } }), 'max');
  assert.equal(objectiveOf({ fitness: { val_mae: { objective: 'min' } } }), 'min');
  assert.equal(objectiveOfRun('st-synevo', {}), 'min');
});

test('lineageOf: Evolver children are accepted when not worse than their slot parent (minimising), strategy from the recipe', () => {
  const records = [
    record('a', 2),
    record('b', 3),
    record('c', 1.5, { parents: ['a', 'b'], recipe: { parent: 'a', mutation: 'interpolate' } }),
    record('d', 2.5, { parents: ['c', 'b'], recipe: { parent: 'c', mutation: 'rand/1' } }),
  ];
  const nodes = lineageOf(records, 'd', 'min');
  assert.deepEqual(nodes.map((n) => [n.key, n.strategy, n.accepted]), [['d', 'rand/1', false], ['c', 'interpolate', true], ['b', null, null], ['a', null, null]]);
  assert.equal(lineageOf(records, 'd', 'max')[0]!.accepted, true);
});

test('summariseCandidate: mutation, merge method, or the first genes', () => {
  assert.equal(summariseCandidate(record('k', 1, { recipe: { mutation: 'rand/1', F: 0.5 } })), 'rand/1 F=0.5');
  assert.equal(summariseCandidate(record('k', 1, { recipe: { merge_method: 'ties' } })), 'ties');
  assert.equal(summariseCandidate(record('k', 1, { genome: [0.123456, 1, 2, 3, 4] })), '[0.123, 1.00, 2.00, 3.00, … (5)]');
});
