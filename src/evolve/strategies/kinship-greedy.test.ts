import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  kinshipGreedy,
  kinshipNeeded,
  recordKinship,
  type KinshipGreedyCandidate,
  type KinshipGreedyParams,
  type KinshipGreedyState,
} from './kinship-greedy.js';

type V = number[];
/**
 * Synthetic family: models are vectors, a merge is the midpoint, fitness = −‖x − target‖, kinship = cosine.
 * Foundations a, b, c form a related cluster; d and e are unrelated. The target lies off the cluster's hull
 * toward d, so merging within the top-k cluster plateaus, and only merging the best with its least related
 * model moves toward the target.
 */
const FOUNDATIONS: Record<string, V> = { a: [1, 0, 0], b: [0.9, 0.2, 0], c: [0.9, 0, 0.2], d: [0, 0, -1], e: [0, 1, 0] };
const TARGET: V = [0.7, 0.3, -0.2];

function run(over: Partial<KinshipGreedyParams>) {
  const vectors = new Map(Object.entries(FOUNDATIONS));
  const fitness = (x: V) => -Math.sqrt(x.reduce((s, v, i) => s + (v - TARGET[i]!) ** 2, 0));
  const cosine = (a: V, b: V) => a.reduce((s, v, i) => s + v * b[i]!, 0) / Math.hypot(...a) / Math.hypot(...b);
  const params: KinshipGreedyParams = {
    objective: 'max',
    foundations: Object.keys(FOUNDATIONS),
    k: 3,
    variant: 'kinship',
    explorationPool: 'all',
    stopAtKinship: null,
    maxGenerations: 10,
    ...over,
  };
  let state = kinshipGreedy.init(params, 0);
  const asked: KinshipGreedyCandidate[][] = [];
  const history: KinshipGreedyState[] = [];
  while (!kinshipGreedy.stopReason(params, state)) {
    state = recordKinship(state, kinshipNeeded(params, state).map(([a, b]) => ({ a, b, value: cosine(vectors.get(a)!, vectors.get(b)!) })));
    const { candidates, state: afterAsk } = kinshipGreedy.ask(params, state);
    asked.push(candidates);
    const scores = candidates.map((c) => {
      if (c.kind === 'merge') vectors.set(c.id, vectors.get(c.parents[0])!.map((v, i) => (v + vectors.get(c.parents[1])![i]!) / 2));
      return fitness(vectors.get(c.id)!);
    });
    state = kinshipGreedy.tell(params, afterAsk, candidates, scores).state;
    history.push(state);
  }
  return { state, asked, history, best: kinshipGreedy.best(state)! };
}

test('plain greedy stalls on the cluster; kinship exploration escapes the plateau', () => {
  const greedy = run({ variant: 'greedy' });
  const kinship = run({ variant: 'kinship' });
  assert.equal(greedy.state.stop, 'top-k unchanged');
  assert.ok(Math.abs(greedy.best.fitness - -0.20124619379649927) < 1e-12, `greedy ${greedy.best.fitness}`);
  assert.ok(kinship.best.fitness > greedy.best.fitness + 0.05, `kinship ${kinship.best.fitness} vs greedy ${greedy.best.fitness}`);
  // the escape comes from an exploration merge whose parents are weakly related
  const explorations = kinship.asked.flat().filter((c) => c.kind === 'merge' && c.exploration);
  assert.ok(explorations.length > 0);
});

test('the first generation merges every foundation pair; the best parent comes first', () => {
  const { asked, history } = run({});
  assert.deepEqual(asked[0]!.map((c) => c.id), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(asked[1]!.length, 10);
  for (const c of asked[1]!) {
    if (c.kind !== 'merge') continue;
    const [p, q] = c.parents;
    const fp = history[0]!.models.find((m) => m.id === p)!.fitness!;
    const fq = history[0]!.models.find((m) => m.id === q)!.fitness!;
    assert.ok(fp >= fq);
  }
});

test('never merges an unordered pair twice; exploration off means no exploration candidates', () => {
  for (const variant of ['kinship', 'greedy', 'random'] as const) {
    const { asked } = run({ variant });
    const pairs = asked.flat().flatMap((c) => (c.kind === 'merge' ? [[...c.parents].sort().join('|')] : []));
    assert.equal(new Set(pairs).size, pairs.length, variant);
    if (variant !== 'kinship') assert.ok(asked.flat().every((c) => c.kind !== 'merge' || !c.exploration));
  }
});

test('the kinship early stop ends the run once the top-k are closely related', () => {
  const stopped = run({ stopAtKinship: 0.9 });
  const full = run({});
  assert.equal(stopped.state.stop, 'kinship saturated');
  assert.ok(stopped.state.evaluations < full.state.evaluations);
});

test('ask without the needed kinship values fails with a clear error', () => {
  const params: KinshipGreedyParams = { objective: 'max', foundations: ['a', 'b', 'c'], k: 2, variant: 'kinship', explorationPool: 'all', stopAtKinship: null, maxGenerations: 5 };
  let state = kinshipGreedy.init(params, 0);
  for (const scores of [[1, 2, 3], [4, 5, 6]]) {
    const asked = kinshipGreedy.ask(params, state);
    state = kinshipGreedy.tell(params, asked.state, asked.candidates, scores).state;
  }
  assert.ok(kinshipNeeded(params, state).length > 0);
  assert.throws(() => kinshipGreedy.ask(params, state), /kinship between .* is not recorded/);
});
