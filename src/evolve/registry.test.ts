import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EVOLVE_STRATEGY_NAMES, STRATEGIES, STRATEGY_NAMES, describeStrategy, strategyConfigSchema } from './registry.js';
import { parseEvolveConfig } from './config.js';
import { ConfigError } from '../core/errors.js';

test('every registered strategy object carries its registry name, a title and a reference', () => {
  for (const name of STRATEGY_NAMES) {
    const entry = STRATEGIES[name];
    if ('strategy' in entry) assert.equal(entry.strategy.name, name);
    const { title, reference } = describeStrategy(name);
    assert.ok(title.length > 10 && reference.length > 3, name);
  }
  assert.deepEqual(EVOLVE_STRATEGY_NAMES, ['cma-es', 'random', 'grid-greedy', 'evolver', 'kinship-greedy', 'lorahub']);
});

test('the strategy schema is derived from the registry: every evolve name parses, anything else is refused', () => {
  const schema = strategyConfigSchema();
  const minimal: Record<string, object> = { 'cma-es': { genome: { merge_method: 'linear' } }, random: { genome: { merge_method: 'linear' } }, lorahub: { adapters: ['a', 'b'] } };
  for (const name of EVOLVE_STRATEGY_NAMES) assert.equal(schema.safeParse({ name, ...minimal[name] }).success, true, name);
  for (const name of ['elitist-ga', 'weight-tuning', 'cmaes']) assert.equal(schema.safeParse({ name }).success, false, name);
  // options are strict per strategy: a key of another strategy is refused
  assert.equal(schema.safeParse({ name: 'grid-greedy', sigma0: 0.2 }).success, false);
  assert.deepEqual(schema.parse({ name: 'grid-greedy' }), { name: 'grid-greedy', step: 0.1, low: 0, high: 2 });
});

test("a strategy's own config checks run through its registry entry (paths and messages as before)", () => {
  const base = { fitness: { builtin: { texts: { a: 'a.txt' } } } };
  assert.throws(
    () => parseEvolveConfig({ ...base, models: ['a'], strategy: { name: 'grid-greedy', start: [1, 2] } }),
    (error: unknown) =>
      error instanceof ConfigError &&
      JSON.stringify(error.issues.map((i) => [i.path, i.message])) ===
        JSON.stringify([
          [['models'], 'strategy grid-greedy needs at least 2 models'],
          [['base_model'], 'grid-greedy (task arithmetic over residuals) needs base_model'],
          [['strategy', 'start'], 'expected 1 start coefficients (one per model), got 2'],
        ]),
  );
  assert.throws(
    () => parseEvolveConfig({ fitness: { command: { run: 'x', objective: 'max' } }, strategy: { name: 'lorahub', adapters: ['a', 'b'] } }),
    (error: unknown) => error instanceof ConfigError && error.issues.map((i) => i.path.join('.')).join(',') === 'base_model,fitness',
  );
});

test('docs/evolve.md has one strategy row per evolve strategy, naming every option key of its schema', () => {
  const docs = readFileSync(new URL('../../docs/evolve.md', import.meta.url), 'utf8');
  const section = docs.slice(docs.indexOf('### Strategies'), docs.indexOf('### Fitness'));
  const rows = new Map(section.split('\n').filter((line) => /^\| `[a-z-]+` \|/.test(line) && !line.startsWith('| `name`')).map((line) => [line.slice(3, line.indexOf('`', 3)), line]));
  assert.deepEqual([...rows.keys()], [...EVOLVE_STRATEGY_NAMES]);
  for (const name of EVOLVE_STRATEGY_NAMES) {
    for (const key of Object.keys(STRATEGIES[name].evolve.options)) assert.match(rows.get(name)!, new RegExp(`\`${key}[:\`]`), `${name}: option ${key}`);
  }
});
