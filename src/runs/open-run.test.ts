import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { codeVersion } from './code-version.js';
import { openRun } from './open-run.js';

const refused = (pattern: RegExp, code = 'CONFIG_INVALID') => (error: unknown) => error instanceof ModelevoError && error.code === code && pattern.test(error.message);

test('codeVersion is the package version plus the checkout commit when there is one', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const found = codeVersion();
  assert.ok(found.startsWith(`modelevo-${version}`), found);
  let head: string | undefined;
  try {
    head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: new URL('.', import.meta.url).pathname, encoding: 'utf8' }).trim();
  } catch {
    head = undefined;
  }
  assert.match(found, head ? new RegExp(`^modelevo-${version.replace(/\./g, '\\.')}\\+${head}(-dirty)?$`) : new RegExp(`^modelevo-${version.replace(/\./g, '\\.')}$`));
  assert.equal(codeVersion(), found, 'computed once');
});

test('openRun: new, refused, resumed — the one set of rules every stored command follows', () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-open-run-'));
  try {
    const dir = join(root, 'run');
    const options = { kind: 'test-kind', seed: 4, config: { a: 1, budget: 10 } };
    assert.throws(() => openRun(dir, { ...options, resume: true }), refused(/no run found/, 'CHECKPOINT_NOT_FOUND'));
    const created = openRun(dir, { ...options, resume: false });
    assert.equal(created.resumed, false);
    assert.deepEqual([created.store.manifest().kind, created.store.manifest().seed, created.store.manifest().codeVersion], ['test-kind', 4, codeVersion()]);
    created.store.close();

    assert.throws(() => openRun(dir, { ...options, resume: false }), refused(/holds an unfinished test-kind run/));
    assert.throws(() => openRun(dir, { ...options, kind: 'other', resume: true }), refused(/holds a 'test-kind' run, expected 'other'/));
    assert.throws(() => openRun(dir, { ...options, config: { a: 2, budget: 10 }, resume: true }), refused(/options differ from the stored run in a$/));
    assert.throws(() => openRun(dir, { ...options, config: { a: 1, budget: 20 }, resume: true }), refused(/in budget$/));
    const raised = openRun(dir, { ...options, config: { a: 1, budget: 20 }, resume: true, mayDiffer: ['budget'] });
    assert.equal(raised.resumed, true);
    raised.store.setStatus('finished');
    raised.store.close();

    assert.throws(() => openRun(dir, { ...options, resume: 'if-present' }), refused(/already holds a finished test-kind run/));
    assert.throws(() => openRun(dir, { ...options, resume: false, continueFinished: true }), refused(/already holds a finished/));
    const continued = openRun(dir, { ...options, resume: 'if-present', continueFinished: true });
    assert.equal(continued.resumed, true);
    continued.store.close();
    const elsewhere = openRun(join(root, 'fresh'), { ...options, resume: 'if-present' });
    assert.equal(elsewhere.resumed, false);
    elsewhere.store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
