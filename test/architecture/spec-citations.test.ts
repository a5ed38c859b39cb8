/**
 * Every specification a source header cites ships with the repository (issue #18 item 5). A header is the
 * leading block comment of a file under src/; a citation is any `*.md` name in it. A path (`docs/evolve.md`,
 * `test/fixtures/README.md`) must exist from the repository root; a bare name (`synevo.md §4`) must exist in
 * docs/spec/, docs/ or the root (README.md, BENCHMARKS.md) (docs/spec/README.md states the convention).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { sourceFiles } from './import-graph.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Files a header names as something a command writes, not as a document to read. */
const OUTPUT_NAMES = new Set(['report.md']);

/** The `*.md` names in a file's leading block comment. */
export function headerCitations(text: string): string[] {
  const header = /^\s*(?:#![^\n]*\n\s*)?\/\*[\s\S]*?\*\//.exec(text)?.[0] ?? '';
  return [...header.matchAll(/(?<![\w./-])([\w./-]+\.md)\b/g)].map((m) => m[1]!);
}

function resolves(citation: string): boolean {
  if (existsSync(join(ROOT, citation))) return true;
  return !citation.includes('/') && (existsSync(join(ROOT, 'docs', 'spec', citation)) || existsSync(join(ROOT, 'docs', citation)));
}

test('headerCitations reads the leading block comment only', () => {
  const text = '/**\n * SynEVO (synevo.md §4; docs/evolve.md).\n */\n// later: other.md\nconst x = "y.md";\n';
  assert.deepEqual(headerCitations(text), ['synevo.md', 'docs/evolve.md']);
});

test('every *.md a src/ header cites exists (docs/spec/, docs/ or a path from the root)', () => {
  const files = sourceFiles(ROOT, 'src');
  const missing: string[] = [];
  let cited = 0;
  for (const file of files) {
    for (const citation of headerCitations(readFileSync(join(ROOT, file), 'utf8'))) {
      if (OUTPUT_NAMES.has(citation)) continue;
      cited++;
      if (!resolves(citation)) missing.push(`${file}: ${citation}`);
    }
  }
  assert.ok(cited > 150, `expected the ~200 citations of the code base, found ${cited}`);
  assert.deepEqual(missing, []);
});
