/**
 * Two "one home" rules of issue #22 held by test, over shipped src/ (test files are not shipped and not checked):
 * - every worker thread starts through core/worker-start.ts (it knows how to start a .ts entry under tsx and a
 *   .js one from dist/), so `new Worker(` appears in that file only;
 * - tfjs is used by the Llama evaluator only (src/eval/llama-tf.ts); the old tfjs training layers are a test
 *   reference in test/support/tfjs. package.json lists tfjs-core and its wasm backend for that one user (tfjs itself is a devDependency).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constructionLines, moduleSpecifiers, sourceFiles } from './import-graph.js';

const ROOT = join(new URL('.', import.meta.url).pathname, '..', '..');
const SHIPPED = sourceFiles(ROOT, 'src').filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.case.ts'));
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** Line numbers (1-based) that construct a worker thread directly. */
const workerConstructions = (text: string): number[] => constructionLines(text, 'Worker');

test('workerConstructions finds `new Worker(` and not other constructors or mentions', () => {
  assert.deepEqual(workerConstructions("const w = new Worker(url);\nnew WorkerHandle(x);\nstartWorker(import.meta.url, './w');\nreturn new Worker(src, { eval: true });\nnew SharedWorker(x);"), [1, 4]);
});

test('only core/worker-start.ts constructs worker threads in shipped src/', () => {
  const starters = SHIPPED.filter((file) => workerConstructions(read(file)).length > 0);
  assert.deepEqual(starters, ['src/core/worker-start.ts'], 'start workers with startWorker(import.meta.url, entry) from src/core/worker-start.ts');
});

test('only the Llama evaluator imports tfjs in shipped src/', () => {
  const users = SHIPPED.filter((file) => moduleSpecifiers(read(file), file).some((spec) => spec.startsWith('@tensorflow/')));
  assert.deepEqual(users, ['src/eval/llama-tf.ts'], 'the tfjs training reference lives in test/support/tfjs; shipped code trains on src/nn');
});
