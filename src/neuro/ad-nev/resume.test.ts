import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adNevConfigSchema, BUDGETS } from './config.js';
import { finishedChannelIds, runAdNev } from './run.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/smap-msl-subset', import.meta.url));

test('a resumed run re-scores finished channels from their saved members: same metrics and seconds, the level stores never reopened', async () => {
  const config = adNevConfigSchema.parse({ ...BUDGETS.tiny, seed: 3, epochs: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-ad-nev-resume-'));
  try {
    const options = { runDir: dir, config, dataset: { dataset: 'smap', channels: ['A-5'], dataDir: FIXTURE }, workers: 1 };
    const first = await runAdNev(options);
    // were the channel evolved again, opening its level-1 run store here would fail: the path is now a file
    rmSync(join(dir, 'A-5', 'level1'), { recursive: true });
    writeFileSync(join(dir, 'A-5', 'level1'), 'not a run store');
    const again = await runAdNev(options);
    assert.deepEqual(again.reports, first.reports);
    const [a, b] = [first.outputs.get('A-5')!, again.outputs.get('A-5')!];
    for (const [level, output] of a.levels) {
      assert.deepEqual(b.levels.get(level)!.score, output.score, `${level} ensemble score`);
      assert.deepEqual(b.levels.get(level)!.decisions, output.decisions, `${level} decisions`);
    }
    // read-only scoring (a page rendered from a run another process writes): the same results, no file touched
    const files = (): string[] =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .sort()
        .map((f) => `${f} ${statSync(join(dir, f)).mtimeMs}`);
    const before = files();
    assert.deepEqual(finishedChannelIds(dir, ['A-6', 'A-5']), ['A-5']);
    const readOnly = await runAdNev({ ...options, readOnly: true });
    assert.deepEqual(readOnly.reports, first.reports);
    for (const [level, output] of a.levels) assert.deepEqual(readOnly.outputs.get('A-5')!.levels.get(level)!.decisions, output.decisions, `${level} read-only decisions`);
    assert.deepEqual(files(), before);
    await assert.rejects(runAdNev({ ...options, readOnly: true, dataset: { ...options.dataset, channels: ['A-5', 'A-6'] } }), /A-6 .* is not finished/);
    await assert.rejects(runAdNev({ ...options, readOnly: true, runDir: join(dir, 'none') }), /no run in/);
    // without a readable report.json the channel counts as unfinished and is evolved again (and fails here)
    writeFileSync(join(dir, 'A-5', 'report.json'), '{"id": "A-5", "lev');
    await assert.rejects(runAdNev(options));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
