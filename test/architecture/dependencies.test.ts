/**
 * package.json's runtime `dependencies` are exactly the packages shipped src/ imports: a package used by src/ but
 * listed only under devDependencies (or arriving only as another package's dependency) breaks an install without
 * dev packages, and a runtime dependency nothing in src/ imports is dead weight for every user. Test files and the
 * tests' tfjs reference (test/support) may use devDependencies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { moduleSpecifiers, sourceFiles } from './import-graph.js';

const ROOT = join(new URL('.', import.meta.url).pathname, '..', '..');
const SHIPPED = sourceFiles(ROOT, 'src').filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.case.ts'));

/** The package a bare specifier names ('@scope/name/sub' → '@scope/name', 'name/sub' → 'name'); undefined for relative paths and node built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  if (builtinModules.includes(specifier.split('/')[0]!)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

test('packageOf names the package of scoped, unscoped and sub-path specifiers and skips built-ins', () => {
  assert.deepEqual(
    ['@tensorflow/tfjs-core', '@scope/pkg/dist/x.js', 'yaml', 'uplot/dist/uPlot.esm.js', './a.js', '../b.js', 'node:fs', 'fs', 'fs/promises'].map(packageOf),
    ['@tensorflow/tfjs-core', '@scope/pkg', 'yaml', 'uplot', undefined, undefined, undefined, undefined, undefined],
  );
});

test('runtime dependencies are exactly the packages shipped src/ imports', () => {
  const imported = new Map<string, string>();
  for (const file of SHIPPED) {
    for (const specifier of moduleSpecifiers(readFileSync(join(ROOT, file), 'utf8'), file)) {
      const name = packageOf(specifier);
      if (name !== undefined && !imported.has(name)) imported.set(name, file);
    }
  }
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const listed = new Set(Object.keys(manifest.dependencies));
  const missing = [...imported].filter(([name]) => !listed.has(name)).map(([name, file]) => `${name} (imported by ${file})`);
  const unused = [...listed].filter((name) => !imported.has(name));
  assert.deepEqual(missing, [], 'add these to "dependencies" in package.json (npm install --save-exact <name>)');
  assert.deepEqual(unused, [], 'nothing in shipped src/ imports these: move them to "devDependencies" or remove them');
});
