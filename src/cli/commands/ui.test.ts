/** `modelevo ui`: the default bind address is 127.0.0.1 (no warning); another host is warned about. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUi } from './ui.js';

const runs = mkdtempSync(join(tmpdir(), 'ui-command-'));
test.after(() => rmSync(runs, { recursive: true, force: true }));

test('binds to 127.0.0.1 by default and serves the runs list there', async () => {
  const lines: string[] = [];
  const server = await startUi({ runs: [runs], port: 0 }, (line) => lines.push(line));
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(!lines.some((l) => l.startsWith('warning')));
    const res = await fetch(`${server.url}api/runs`);
    assert.equal(res.status, 200);
  } finally {
    await server.close();
  }
});

test('a non-loopback --host prints the warning that runs are visible to the network', async () => {
  const lines: string[] = [];
  const server = await startUi({ runs: [runs], port: 0, host: '0.0.0.0' }, (line) => lines.push(line));
  try {
    assert.match(lines[0] ?? '', /^warning: listening on 0\.0\.0\.0: the runs under .* are visible to the network \(read-only\)$/);
  } finally {
    await server.close();
  }
});
