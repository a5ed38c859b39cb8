/**
 * The import graph of src/, read with the TypeScript parser (so comments, strings and template literals never
 * count as imports), and the two checks the layering test runs on it: imports that point up the layer table,
 * and file-level import cycles. Type-only imports count: they couple files just as much.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** One relative import, both ends as repository paths with `/` ('src/io/open.ts'). */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** Every module specifier in a TypeScript source: static, type-only, re-export, dynamic `import()` and `import('x').T`. */
export function moduleSpecifiers(source: string, fileName = 'module.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** `.ts` files under `dir` (repository-relative, `/`-separated), sorted. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(relative(root, full).split(sep).join('/'));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** Relative imports of the given files; `./x.js` resolves to `x.ts` (NodeNext style), package imports are skipped. */
export function importEdges(root: string, files: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const specifier of moduleSpecifiers(readFileSync(join(root, from), 'utf8'), from)) {
      if (!specifier.startsWith('.')) continue;
      const to = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/** The folder right under src/ that a path belongs to ('src/merge/methods/ties.ts' → 'merge'); undefined outside src/. */
export function topFolder(path: string): string | undefined {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : undefined;
}

/**
 * Imports that break the layer table: a file may import its own folder and folders of strictly lower layers
 * only (folders sharing a layer do not import each other). Paths outside src/ are not judged here.
 */
export function layerViolations(edges: readonly ImportEdge[], layers: readonly (readonly string[])[]): ImportEdge[] {
  const layerOf = new Map<string, number>();
  layers.forEach((folders, index) => folders.forEach((folder) => layerOf.set(folder, index)));
  return edges.filter(({ from, to }) => {
    const a = topFolder(from);
    const b = topFolder(to);
    if (a === undefined || b === undefined || a === b) return false;
    return !((layerOf.get(b) ?? Infinity) < (layerOf.get(a) ?? -Infinity));
  });
}

/** Strongly connected components with more than one file (or a file importing itself): the import cycles, each sorted. */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, []);
    next.get(from)!.push(to);
    if (!next.has(to)) next.set(to, []);
  }
  // Tarjan's algorithm, iterative so deep import chains cannot overflow the stack
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; child: number }[] = [{ node: start, child: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const children = next.get(frame.node)!;
      if (frame.child < children.length) {
        const child = children[frame.child++]!;
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfLoop = component.length === 1 && children.includes(frame.node);
      if (component.length > 1 || selfLoop) cycles.push(component.sort());
    }
  }
  return cycles.sort((x, y) => x[0]!.localeCompare(y[0]!));
}

/** Line numbers (1-based) of `new <className>(` in source text (not subclasses, not `x.new…`, not longer names). */
export function constructionLines(text: string, className: string): number[] {
  const pattern = new RegExp(`(^|[^\\w.])new ${className}\\(`);
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (pattern.test(line)) lines.push(i + 1);
  });
  return lines;
}
