/**
 * Exported names that no other file imports (issue #18 item 5: dead exports). Read with the TypeScript parser
 * over src/, test/, scripts/ and bench/: a name counts as used when another file imports it by name
 * (`import { x }`, `import type { x }`, `export { x } from`, `import('./f.js').x` in a type). A namespace import,
 * `export * from` or a dynamic `import()` uses every export of its target (which of them is not tracked).
 * Run `node --import tsx test/architecture/dead-exports.ts` to print the list (dead-exports.test.ts fails on
 * the unreferenced ones).
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { sourceFiles } from './import-graph.js';

/** Folders whose files may import from src/ (each is read whole). */
export const READ_FOLDERS = ['src', 'test', 'scripts', 'bench'] as const;

export interface FileExports {
  /** names this file declares as exported (re-exports of other files' names included) */
  readonly exported: Set<string>;
  /** (target file, name) pairs this file imports; name '*' stands for every export of the target */
  readonly imported: { readonly file: string; readonly name: string }[];
  /** how often each identifier occurs in the file (its declaration included) */
  readonly identifiers: Map<string, number>;
}

/** Resolves `./x.js` (NodeNext style) from `from` to a repository path ending in .ts; undefined for packages. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.(js|mjs)$/, '.ts');
}

function hasExportModifier(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The exports and imports of one file's source text (`file` is its repository path, for resolving imports). */
export function scanFile(file: string, source: string): FileExports {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const exported = new Set<string>();
  const imported: { file: string; name: string }[] = [];
  const identifiers = new Map<string, number>();
  const use = (specifier: string, name: string): void => {
    const target = resolveSpecifier(file, specifier);
    if (target !== undefined) imported.push({ file: target, name });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) identifiers.set(node.text, (identifiers.get(node.text) ?? 0) + 1);
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const specifier = node.moduleSpecifier.text;
      if (clause?.name) use(specifier, 'default');
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) use(specifier, '*');
      else if (bindings) for (const element of bindings.elements) use(specifier, (element.propertyName ?? element.name).text);
    } else if (ts.isExportDeclaration(node)) {
      const specifier = node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : undefined;
      const clause = node.exportClause;
      if (clause === undefined) {
        if (specifier !== undefined) use(specifier, '*');
      } else if (ts.isNamespaceExport(clause)) {
        exported.add(clause.name.text);
        if (specifier !== undefined) use(specifier, '*');
      } else {
        for (const element of clause.elements) {
          exported.add(element.name.text);
          if (specifier !== undefined) use(specifier, (element.propertyName ?? element.name).text);
        }
      }
    } else if (ts.isExportAssignment(node)) {
      exported.add('default');
    } else if (hasExportModifier(node)) {
      if (ts.isVariableStatement(node)) {
        for (const declaration of node.declarationList.declarations) {
          if (ts.isIdentifier(declaration.name)) exported.add(declaration.name.text);
        }
      } else if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node)) && node.name) {
        const isDefault = (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
        exported.add(isDefault ? 'default' : node.name.text);
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) use(argument.text, '*');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const qualifier = node.qualifier;
      const first = qualifier === undefined ? undefined : ts.isIdentifier(qualifier) ? qualifier : leftmost(qualifier);
      use(node.argument.literal.text, first?.text ?? '*');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { exported, imported, identifiers };
}

function leftmost(name: ts.QualifiedName): ts.Identifier {
  let left: ts.EntityName = name;
  while (ts.isQualifiedName(left)) left = left.left;
  return left;
}

/**
 * `file#name` for every export of a shipped src/ file that no other file imports, sorted. `scanned` maps a
 * repository path to its scan; `shipped` lists the files whose exports are judged.
 */
export function deadExports(scanned: ReadonlyMap<string, FileExports>, shipped: readonly string[]): string[] {
  const used = new Map<string, Set<string>>();
  for (const [from, { imported }] of scanned) {
    for (const { file, name } of imported) {
      if (file === from) continue;
      if (!used.has(file)) used.set(file, new Set());
      used.get(file)!.add(name);
    }
  }
  const dead: string[] = [];
  for (const file of shipped) {
    const names = used.get(file);
    if (names?.has('*')) continue;
    for (const name of scanned.get(file)?.exported ?? []) {
      if (!names?.has(name)) dead.push(`${file}#${name}`);
    }
  }
  return dead.sort();
}

/**
 * The dead code among the dead exports: names no other file imports and their own file never mentions again
 * (beyond the declaration). The rest of `deadExports` is exported more widely than needed, not unused.
 */
export function unreferencedExports(scanned: ReadonlyMap<string, FileExports>, shipped: readonly string[]): string[] {
  return deadExports(scanned, shipped).filter((entry) => {
    const [file, name] = entry.split('#') as [string, string];
    return (scanned.get(file)?.identifiers.get(name) ?? 0) <= 1;
  });
}

/** Scans every .ts/.mts/.tsx file of READ_FOLDERS under `root`. */
export function scanRepository(root: string): Map<string, FileExports> {
  const scanned = new Map<string, FileExports>();
  for (const folder of READ_FOLDERS) {
    for (const file of sourceFiles(root, folder)) scanned.set(file, scanFile(file, readFileSync(join(root, file), 'utf8')));
  }
  return scanned;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const scanned = scanRepository(root);
  const shipped = [...scanned.keys()].filter((f) => f.startsWith('src/') && !f.endsWith('.test.ts') && !f.endsWith('.case.ts'));
  const unreferenced = new Set(unreferencedExports(scanned, shipped));
  // unreferenced: dead code; the others are used in their own file only (an `export` more than needed)
  for (const entry of deadExports(scanned, shipped)) console.log(`${unreferenced.has(entry) ? 'unreferenced' : 'local only  '} ${entry}`);
}
