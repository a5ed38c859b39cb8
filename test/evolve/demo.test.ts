import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEvolutionDemo } from '../../src/demo/evolution-demo.js';

test('the evolution demo selects on dev, reports the test split with the reference protocol', async () => {
  const out = mkdtempSync(join(tmpdir(), 'modelevo-demo-'));
  try {
    let text = '';
    const result = await runEvolutionDemo({ fixtures: 'test/fixtures', out, devWindows: 1, cmaBudget: 4, evolverGenerations: 1, threads: 1, resultsFile: join(out, 'results.md'), write: (t) => (text += t) });
    const reference = JSON.parse(readFileSync('test/fixtures/tiny-llama/reference-losses.json', 'utf8')) as { losses: Record<string, Record<string, number>> };
    // the test split is exactly the fixture protocol: the base and experts reproduce transformers' losses
    for (const row of result.rows.filter((r) => r.kind === 'input')) {
      for (const [domain, loss] of Object.entries(row.test)) assert.ok(Math.abs(loss - reference.losses[row.model]![domain]!) < 1e-4, `${row.model} ${domain}`);
    }
    // the static merge reported is the one with the lowest development loss
    const staticRow = result.rows.find((r) => r.kind === 'static')!;
    assert.equal(staticRow.model, result.bestStatic);
    assert.equal(Object.keys(result.staticDev).length, 8);
    assert.equal(result.staticDev[result.bestStatic], Math.min(...Object.values(result.staticDev)));
    assert.match(text, /best static merge on dev: /);
    // evolved rows carry their run's best development fitness
    const evolved = result.rows.filter((r) => r.kind === 'evolved');
    assert.equal(evolved.length, 2);
    evolved.forEach((row, i) => assert.equal(row.dev, result.runs[i]!.best!.fitness));
    assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| base \| — \| /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
