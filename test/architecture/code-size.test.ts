/**
 * Size limits for shipped code under src/ (style.md §3, issue #18 item 5): a file over FILE_LIMIT lines or a
 * function over FUNCTION_LIMIT lines fails, unless listed below with the reason. A function's length is its
 * whole span, first to last line, nested functions included (what a reader has to hold at once). Test files
 * (`*.test.ts`, `*.case.ts`) are not shipped and are not checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './import-graph.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE_LIMIT = 400;
const FUNCTION_LIMIT = 120;

/** `file` or `file#function` over its limit, with the reason it stays. Keep it short and honest. */
const ALLOWED: ReadonlyMap<string, string> = new Map([
  ['src/io/safetensors/strict-json.ts#parseStrictJson', 'one scanner: its nested helpers (≤ 50 lines each) share the cursor and the container stack'],
]);

export interface FunctionSpan {
  readonly name: string;
  /** 1-based first line */
  readonly line: number;
  readonly lines: number;
}

/** Every function with a body (declarations, methods, accessors, constructors, arrows, expressions) and its line span. */
export function functionSpans(source: string, fileName = 'module.ts'): FunctionSpan[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const spans: FunctionSpan[] = [];
  const lineOf = (position: number): number => file.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = lineOf(node.getStart(file));
      spans.push({ name: functionName(node, file), line: first, lines: lineOf(node.end) - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return spans;
}

/** The declared name, or the variable / property an anonymous function is assigned to, or '<anonymous>'. */
function functionName(node: ts.SignatureDeclaration, file: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name !== undefined) return node.name.getText(file);
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name !== undefined) {
    return parent.name.getText(file);
  }
  return '<anonymous>';
}

test('functionSpans measures declarations, methods and assigned arrows, nested ones included in their parent', () => {
  const source = ['function outer() {', '  const inner = () => {', '    return 1;', '  };', '  return inner();', '}', 'class A {', '  m(): void {}', '}', 'const f = function () {', '};'].join('\n');
  assert.deepEqual(functionSpans(source), [
    { name: 'outer', line: 1, lines: 6 },
    { name: 'inner', line: 2, lines: 3 },
    { name: 'm', line: 8, lines: 1 },
    { name: 'f', line: 10, lines: 2 },
  ]);
});

test(`no shipped src/ file over ${FILE_LIMIT} lines and no function over ${FUNCTION_LIMIT} lines outside the allow-list`, () => {
  const shipped = sourceFiles(ROOT, 'src').filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.case.ts'));
  const over: string[] = [];
  const used = new Set<string>();
  const report = (key: string, text: string): void => {
    if (ALLOWED.has(key)) used.add(key);
    else over.push(text);
  };
  for (const file of shipped) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (lines > FILE_LIMIT) report(file, `${file}: ${lines} lines`);
    for (const span of functionSpans(text, file)) {
      if (span.lines > FUNCTION_LIMIT) report(`${file}#${span.name}`, `${file}:${span.line} ${span.name}: ${span.lines} lines`);
    }
  }
  assert.deepEqual(over, [], 'split by meaningful pieces (a step, a phase, a helper with a name), or add an allow-list entry with the reason');
  const stale = [...ALLOWED.keys()].filter((key) => !used.has(key));
  assert.deepEqual(stale, [], 'these allow-list entries are within the limits now: delete them');
});
