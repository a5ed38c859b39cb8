import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cachedPart, epochProgress, headCommit, partCachePath, rerunCommand, runPartIfMain, startMeasurement } from '../scripts/results-st/part-cache.js';

test('part cache: path and rerun command of a part', () => {
  assert.equal(partCachePath('coms2t'), 'docs/results/spatiotemporal/coms2t.json');
  assert.equal(rerunCommand('gwn'), 'npm run results:spatiotemporal -- --rerun gwn');
});

test('part cache: measures once, writes the JSON atomically, reuses it, and measures again on rerun', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'part-cache-'));
  try {
    const cachePath = join(dir, 'nested', 'part.json');
    let measured = 0;
    const measure = async (): Promise<{ value: number }> => ({ value: ++measured * 10 });
    const render = (cache: { value: number }): string => `value ${cache.value}`;
    assert.equal(await cachedPart({ cachePath, rerun: false, measure, render }), 'value 10');
    assert.equal(readFileSync(cachePath, 'utf8'), '{\n  "value": 10\n}\n');
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['part.json'], 'no temp file left behind');
    assert.equal(await cachedPart({ cachePath, rerun: false, measure, render }), 'value 10');
    assert.equal(measured, 1, 'the cache is reused without measuring');
    // the cache is what is rendered, not a fresh measurement
    writeFileSync(cachePath, '{"value": 7}\n');
    assert.equal(await cachedPart({ cachePath, rerun: false, measure, render }), 'value 7');
    assert.equal(await cachedPart({ cachePath, rerun: true, measure, render }), 'value 20');
    assert.equal(measured, 2);
    assert.deepEqual(JSON.parse(readFileSync(cachePath, 'utf8')), { value: 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('part cache: the provenance header has the cache key order and spans the measurement', async () => {
  const clock = startMeasurement();
  await new Promise((resolve) => setTimeout(resolve, 30));
  const before = Date.now();
  const header = clock.finish({ commit: 'abc1234', command: 'cmd', budget: { epochs: 3 } });
  assert.deepEqual(Object.keys(header), ['commit', 'date', 'command', 'budget', 'loadBefore', 'loadAfter', 'totalSeconds']);
  assert.equal(header.commit, 'abc1234');
  assert.equal(header.command, 'cmd');
  assert.deepEqual(header.budget, { epochs: 3 });
  assert.equal(header.loadBefore.length, 3);
  assert.equal(header.loadAfter.length, 3);
  assert.ok(header.totalSeconds >= 0.025 && header.totalSeconds < 5, `totalSeconds ${header.totalSeconds}`);
  assert.ok(Math.abs(Date.parse(header.date) - before) < 1000, header.date);
});

test('part cache: HEAD commit, marked only when asked and src/ or scripts/ differ', () => {
  const head = headCommit();
  assert.match(head, /^[0-9a-f]{7,}$/);
  const marked = headCommit({ markUncommitted: true });
  assert.ok(marked === head || marked === `${head} (with uncommitted changes in src/ or scripts/)`, marked);
});

test('part cache: epoch progress line, with and without a stage', () => {
  const line = epochProgress({ epoch: 3, trainLoss: 1.23456, valMae: 2.5, seconds: 12.34 });
  assert.match(line, /^epoch 3: train 1\.235 val 2\.500 \(12\.3 s, load \d+\.\d\)$/);
  assert.match(epochProgress({ epoch: 1, trainLoss: 1, valMae: 2, seconds: 3 }, 'stage0'), /^stage0 epoch 1: train 1\.000 val 2\.000 \(3\.0 s, load /);
});

test('part cache: a part runs and prints itself only when it is the entry script', async (t) => {
  const calls: boolean[] = [];
  const runPart = async (options: { rerun: boolean }): Promise<string> => {
    calls.push(options.rerun);
    return 'section\n';
  };
  await runPartIfMain('file:///not/the/entry/point.ts', runPart);
  assert.deepEqual(calls, [], 'an imported part does not run');
  const argv = process.argv;
  const printed: string[] = [];
  t.mock.method(process.stdout, 'write', (text: string) => printed.push(text) > 0);
  try {
    process.argv = [argv[0]!, '/tmp/entry-part.ts', '--rerun'];
    await runPartIfMain(pathToFileURL('/tmp/entry-part.ts').href, runPart);
  } finally {
    process.argv = argv;
    t.mock.restoreAll();
  }
  assert.deepEqual(calls, [true]);
  assert.deepEqual(printed, ['section\n']);
});
