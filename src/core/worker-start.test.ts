import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorker } from './worker-start.js';
import { bundledWorkerUrl } from './worker-bundle.js';
import { ModelevoError } from './errors.js';

function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  }).finally(() => worker.terminate());
}

test('a .ts caller starts its .ts sibling (bundled, or through tsx), with workerData and execArgv passed through', async () => {
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

// worker-bundle.ts: a source-checkout worker starts from one bundled module, without tsx in the worker
test('a .ts worker is bundled: it keeps its own import.meta.url, runs without tsx, and is rebuilt when a source changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-worker-bundle-'));
  try {
    const write = (answer: number): void => {
      writeFileSync(join(dir, 'answer.ts'), `export const answer: number = ${answer};\n`);
      writeFileSync(
        join(dir, 'entry.ts'),
        "import { parentPort } from 'node:worker_threads';\nimport { answer } from './answer.js';\n" +
          'const tsx = process.execArgv.some((a) => a.includes(\'tsx\'));\nparentPort!.postMessage({ answer, url: import.meta.url, tsx });\n',
      );
    };
    write(1);
    const caller = pathToFileURL(join(dir, 'caller.ts')).href;
    const entryUrl = pathToFileURL(join(dir, 'entry.ts'));
    const bundled = bundledWorkerUrl(entryUrl);
    assert.ok(bundled !== undefined && bundled.pathname.endsWith('.mjs'), 'the entry is bundled');
    assert.deepEqual(await firstMessage(startWorker(caller, './entry', { execArgv: ['--import', 'tsx'] })), { answer: 1, url: entryUrl.href, tsx: false });
    // an imported module changes: same size, another mtime — the bundle is rebuilt
    write(2);
    utimesSync(join(dir, 'answer.ts'), new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await firstMessage(startWorker(caller, './entry', { execArgv: [] })), { answer: 2, url: entryUrl.href, tsx: false });
    rmSync(fileURLToPath(bundled), { force: true });
    rmSync(fileURLToPath(bundled).replace(/\.mjs$/, '.json'), { force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that uses import.meta beyond url is not bundled and starts through tsx', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-worker-bundle-'));
  try {
    // an ES module package, as the project is (tsx would load a lone .ts outside it as CommonJS)
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'entry.ts'), "import { parentPort } from 'node:worker_threads';\nconst here: string = import.meta.dirname ?? 'none';\nparentPort!.postMessage(typeof here);\n");
    assert.equal(bundledWorkerUrl(pathToFileURL(join(dir, 'entry.ts'))), undefined);
    assert.equal(await firstMessage(startWorker(pathToFileURL(join(dir, 'caller.ts')).href, './entry', { execArgv: [] })), 'string');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
