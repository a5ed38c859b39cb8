import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './atomic-file.js';

test('writeFileAtomic replaces the file, creates missing folders and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-atomic-'));
  try {
    const path = join(dir, 'nested', 'out.md');
    writeFileAtomic(path, 'first');
    writeFileAtomic(path, 'second');
    assert.equal(readFileSync(path, 'utf8'), 'second');
    writeJsonAtomic(join(dir, 'r.json'), { a: [1, 2] });
    assert.equal(readFileSync(join(dir, 'r.json'), 'utf8'), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['out.md']);
    // a target that cannot be replaced (a non-empty folder) fails, keeps the target and removes the temporary file
    assert.throws(() => writeFileAtomic(join(dir, 'nested'), 'x'));
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['out.md']);
    assert.deepEqual(readdirSync(dir).sort(), ['nested', 'r.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
