/**
 * No dead exports in shipped src/ (issue #18 item 5): an exported name that no file of src/, test/, scripts/ or
 * bench/ imports and its own file never uses is dead code — delete it (or list it below with the reason).
 * Names exported but used only in their own file are listed by `node --import tsx test/architecture/dead-exports.ts`
 * and not failed on: that is an export wider than needed, not unused code. src/index.ts is the public library API
 * and is not judged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { deadExports, scanFile, scanRepository, unreferencedExports } from './dead-exports.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OWNED_ELSEWHERE = 'owned by another change this session, delete after merge';

const PUBLIC_API = new Set(['src/index.ts']);

/** `file#name` allowed to stay unreferenced, with the reason. */
const ALLOWED: ReadonlyMap<string, string> = new Map([
  ['src/spatiotemporal/coms2t/prompt-encoder.ts#promptLoss', `${OWNED_ELSEWHERE} (the ComS2T port onto src/nn)`],
  ['src/ui/store-reader.ts#hasStore', `${OWNED_ELSEWHERE} (the continual view)`],
]);

test('scanFile reads exports, named, namespace, re-export, dynamic and import-type uses', () => {
  const source = [
    "import { a, b as c } from './x.js';",
    "import * as all from './y.js';",
    "import type { T } from '../z.js';",
    "export { r } from './r.js';",
    "export * from './s.js';",
    'export const k = 1, m = 2;',
    'export function f(): void {}',
    'export interface I {}',
    "export type U = import('./u.js').Shape;",
    "const later = () => import('./d.js');",
    "import { ext } from 'node:fs';",
  ].join('\n');
  const scanned = scanFile('src/p/q.ts', source);
  assert.deepEqual([...scanned.exported].sort(), ['I', 'U', 'f', 'k', 'm', 'r']);
  assert.deepEqual(
    scanned.imported.map(({ file, name }) => `${file}#${name}`),
    ['src/p/x.ts#a', 'src/p/x.ts#b', 'src/p/y.ts#*', 'src/z.ts#T', 'src/p/r.ts#r', 'src/p/s.ts#*', 'src/p/u.ts#Shape', 'src/p/d.ts#*'],
  );
});

test('deadExports and unreferencedExports: imported, used-locally and unused names told apart', () => {
  const scanned = new Map([
    ['src/a.ts', scanFile('src/a.ts', 'export const used = 1;\nexport const local = 2;\nexport const unused = 3;\nconst twice = local + local;')],
    ['test/a.test.ts', scanFile('test/a.test.ts', "import { used } from '../src/a.js';")],
    ['src/all.ts', scanFile('src/all.ts', 'export const x = 1;')],
    ['src/b.ts', scanFile('src/b.ts', "import * as all from './all.js';")],
  ]);
  assert.deepEqual(deadExports(scanned, ['src/a.ts', 'src/all.ts']), ['src/a.ts#local', 'src/a.ts#unused']);
  assert.deepEqual(unreferencedExports(scanned, ['src/a.ts', 'src/all.ts']), ['src/a.ts#unused']);
});

test('no unreferenced export in shipped src/ outside the allow-list', () => {
  const scanned = scanRepository(ROOT);
  const shipped = [...scanned.keys()].filter((f) => f.startsWith('src/') && !f.endsWith('.test.ts') && !f.endsWith('.case.ts') && !PUBLIC_API.has(f));
  const unreferenced = unreferencedExports(scanned, shipped);
  assert.deepEqual(unreferenced.filter((entry) => !ALLOWED.has(entry)), [], 'delete these exports (nothing imports or uses them), or list them with the reason');
  const stale = [...ALLOWED.keys()].filter((entry) => !unreferenced.includes(entry) && !ALLOWED.get(entry)!.startsWith(OWNED_ELSEWHERE));
  assert.deepEqual(stale, [], 'these allow-list entries are referenced now: delete them');
});
