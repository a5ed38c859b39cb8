import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IndividualRecord } from '../runs/store.js';
import { gatesOf, lineageOf, objectiveOf, objectiveOfRun, referencesOf, runView, stageEpochsOf, summariseCandidate, viewKindOf, weightSplitOf } from './views.js';
import type { RunHeader, StoredEvent } from './store-reader.js';

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

test('runView of a continual run: per seed the stored rows and bases, the summary once the seed finished; no fitness parts', () => {
  const header = { id: 'c', kind: 'continual', createdAt: '', seed: 0, config: { method: 'gpm' }, codeVersion: '', status: 'running', storedStatus: 'running', steps: 0, evaluations: 0, failed: 0, lastSeq: 4 } satisfies RunHeader;
  const summary = { acc: 0.75, bwt: -0.1, bwtAll: -0.05, forgetting: 0.1 };
  const events: StoredEvent[] = [
    { seq: 1, time: '', type: 'continual-task', payload: { seed: 0, task: 0, row: [0.9, 0.5], seconds: 1, basisSizes: [3, 0] } },
    { seq: 2, time: '', type: 'continual-task', payload: { seed: 0, task: 1, row: [0.8, 0.7], seconds: 1, basisSizes: [5, 0] } },
    { seq: 3, time: '', type: 'continual-seed', payload: { result: { seed: 0, accuracy: [[0.9, 0.5], [0.8, 0.7]], summary } } },
    { seq: 4, time: '', type: 'continual-task', payload: { seed: 1, task: 0, row: [0.6, 0.4], seconds: 1, basisSizes: [2, 0] } },
  ];
  const view = runView({ header, individuals: [], events });
  assert.equal(view.view, 'continual');
  assert.deepEqual(view.continual, [
    { seed: 0, accuracy: [[0.9, 0.5], [0.8, 0.7]], basisSizesPerTask: [[3, 0], [5, 0]], summary },
    { seed: 1, accuracy: [[0.6, 0.4]], basisSizesPerTask: [[2, 0]] },
  ]);
  assert.deepEqual([view.steps, view.lineage, view.best], [[], [], null]);
  assert.equal(runView({ header: { ...header, kind: 'evolve' }, individuals: [], events }).continual, null);
  assert.equal(viewKindOf('continual'), 'continual');
});

test('weightSplitOf: st coms2t stores the eligible count and the dynamic names; stable = eligible − dynamic; the latest event wins', () => {
  const event = (seq: number, payload: unknown): StoredEvent => ({ seq, time: '', type: 'weight-split', payload });
  const stored = { method: 'tensor-ratio', eligible: 5, dynamic: ['a', 'b'], frozen: ['c', 'd', 'e'], scores: {} };
  assert.deepEqual(weightSplitOf([event(1, { ...stored, eligible: 9 }), event(2, stored)]), { method: 'tensor-ratio', eligible: 5, dynamic: 2, stable: 3, stableShare: 0.6, frozen: 3 });
  assert.deepEqual(weightSplitOf([event(1, { method: 'element-variance', eligible: ['a', 'b'], dynamic: ['a', 'b'], frozen: [] })]), { method: 'element-variance', eligible: 2, dynamic: 2, stable: 0, stableShare: 0, frozen: 0 });
  assert.equal(weightSplitOf([{ seq: 1, time: '', type: 'log', payload: {} }]), null);
});

test('stageEpochsOf: epoch events per stage in order, sorted by epoch, a repeated epoch (resume) replaced; gatesOf keeps every gate', () => {
  const e = (seq: number, type: string, payload: unknown): StoredEvent => ({ seq, time: '', type, payload });
  const events = [
    e(1, 'epoch', { stage: 'stage 0', epoch: 1, trainLoss: 3, valMae: 5 }),
    e(2, 'gate', { group: 'p0', admitted: true }),
    e(3, 'epoch', { stage: 'stage 0', epoch: 2, trainLoss: 2, valMae: null }),
    e(4, 'epoch', { stage: 'stage 0', epoch: 1, trainLoss: 2.5, valMae: 4.5 }),
    e(5, 'epoch', { stage: 'stage 1b (none)', epoch: 1, trainLoss: 1, valMae: 4 }),
    e(6, 'log', { line: 'x' }),
  ];
  assert.deepEqual(stageEpochsOf(events), [
    { stage: 'stage 0', epoch: [1, 2], trainLoss: [2.5, 2], valMae: [4.5, null] },
    { stage: 'stage 1b (none)', epoch: [1], trainLoss: [1], valMae: [4] },
  ]);
  assert.deepEqual(gatesOf(events), [{ group: 'p0', admitted: true }]);
});
