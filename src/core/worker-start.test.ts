import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorker } from './worker-start.js';
import { ModelevoError } from './errors.js';

function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  }).finally(() => worker.terminate());
}

test('a .ts caller starts its .ts sibling through tsx, with workerData and execArgv passed through', async () => {
  // the caller URL only fixes the folder and the extension; the file itself need not exist
  const caller = new URL('../../test/support/caller.ts', import.meta.url).href;
  const reply = await firstMessage(startWorker(caller, './echo-worker', { workerData: { seed: 7 }, execArgv: [] }));
  const entry = new URL('../../test/support/echo-worker.ts', import.meta.url).href;
  assert.deepEqual(reply, { workerData: { seed: 7 }, execArgv: [], errorName: 'ModelevoError', url: entry });
});

test('a .js caller starts its .js sibling directly (the compiled dist/ path, no tsx)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-worker-start-'));
  try {
    writeFileSync(
      join(dir, 'echo.js'),
      "import { parentPort, workerData } from 'node:worker_threads'; parentPort.postMessage({ workerData, url: import.meta.url });",
    );
    const caller = pathToFileURL(join(dir, 'caller.js')).href;
    const reply = await firstMessage(startWorker(caller, './echo', { workerData: [1, 2, 3], execArgv: [] }));
    // the entry module itself is the worker (no eval bootstrap in between)
    assert.deepEqual(reply, { workerData: [1, 2, 3], url: pathToFileURL(join(dir, 'echo.js')).href });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a caller that is neither .ts nor .js is refused with a typed error', () => {
  assert.throws(() => startWorker('file:///tmp/caller.mjs', './worker'), (error: unknown) => error instanceof ModelevoError && error.code === 'INTERNAL');
});
