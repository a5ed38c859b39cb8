/**
 * Layering of src/ (style.md: lower folders never import higher ones; issues #18 and #22).
 *
 * The table below is the rule, lowest layer first. A file may import its own folder and any folder of a
 * strictly LOWER layer; folders that share a layer never import each other (the models stay independent of
 * one another). A new folder under src/ fails this test until it is given a layer here.
 *
 * Why this order:
 * - core: errors, rng, schema, dtypes, float16 codecs, atomic files, worker start-up. Imports nothing.
 * - io, runs: storage. Checkpoint formats; run records. runs/ is meant to be a leaf (#18): every command that
 *   stores a run uses it, so it sits low (the ask/tell loop that drives a store is evolve/loop.ts).
 * - kernels: WebAssembly SIMD compute for merging.
 * - nn: the training engine (#22): arena, layers, losses, optimisers, the one epoch loop. The old tfjs layers
 *   (src/train) are only a reference for tests now and live in test/support/tfjs; src/eval/llama-tf.ts is the
 *   one shipped tfjs user left.
 * - tasks: datasets, their windowing, scalers, splits and metrics, independent of any model.
 * - models: eval (Llama evaluator), continual, spatiotemporal, lora, kinship, merge.
 * - evolve: algorithms that drive the models (every ask/tell strategy, fitness, the evolution run).
 * - queue (above evolve, beside neuro and demo): distributed evaluation on Redis + BullMQ (#20): the job protocol, the coordinator's
 *   queue-backed batch evaluator, the worker. It knows jobs, not models; the CLI joins it to evolve's fitness.
 * - neuro, demo: pipelines built from evolve's strategies and loop. AD-NEv (neuro) drives its (μ+λ) GA and
 *   weight tuning from evolve/strategies/, so it sits above evolve; the demo is built from evolve, merge,
 *   kinship and eval.
 * - ui: the read-only dashboard (#19), beside the command line that starts it.
 * - cli: the command line.
 * - src/index.ts (no folder): the public library API, above every layer.
 *
 * Test files obey the same table. Files outside src/ (test/support, fixtures) may be imported by tests only:
 * a shipped module cannot reach them from dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importCycles, importEdges, layerViolations, moduleSpecifiers, sourceFiles, topFolder, type ImportEdge } from './import-graph.js';

const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['io', 'runs'],
  ['kernels'],
  ['nn'],
  ['tasks'],
  ['eval', 'continual', 'spatiotemporal', 'lora', 'kinship', 'merge'],
  ['evolve'],
  ['neuro', 'demo', 'queue'],
  ['ui'],
  ['cli'],
];

/**
 * Existing upward imports that other issues remove. Each entry must still exist (a fixed one fails the test
 * until it is deleted here), and nothing may be added without a named issue.
 */
const ALLOWED_VIOLATIONS: readonly (ImportEdge & { readonly why: string })[] = [];

/** Existing file-level cycles (each sorted), both named in #18 item 4. */
const ALLOWED_CYCLES: readonly (readonly string[])[] = [
  // the `Kernels` type lives in index.ts, which also builds the pool that implements it
  ['src/kernels/index.ts', 'src/kernels/pool.ts'],
  // `TensorSink` type and the fast path's name switch (#18 item 4: each method declares its own fast path)
  ['src/merge/executor.ts', 'src/merge/fast-path.ts'],
];

const ROOT = new URL('../../', import.meta.url).pathname;
const FILES = sourceFiles(ROOT, 'src');
const EDGES = importEdges(ROOT, FILES);
const key = (edge: ImportEdge): string => `${edge.from} -> ${edge.to}`;

/** The one file directly in src/: the public library API, above every layer (it may import any folder; the test
 * "shipped modules import nothing outside src/" keeps every shipped module from importing it). */
const PUBLIC_API = 'src/index.ts';

test('every folder under src/ has a layer, and no file but the public API sits directly in src/', () => {
  const folders = readdirSync(new URL('../../src/', import.meta.url), { withFileTypes: true });
  const placed = new Set(LAYERS.flat());
  assert.deepEqual(folders.filter((entry) => entry.isDirectory() && !placed.has(entry.name)).map((entry) => entry.name), [], 'give these folders a layer in LAYERS');
  assert.deepEqual(FILES.filter((file) => topFolder(file) === undefined), [PUBLIC_API]);
});

test('no folder imports a folder of its own or a higher layer, apart from the allow-list', () => {
  const found = layerViolations(EDGES, LAYERS).map(key);
  const allowed = ALLOWED_VIOLATIONS.map(key);
  assert.deepEqual(found.filter((edge) => !allowed.includes(edge)), [], 'new upward imports: import downwards only, or move the shared code to a lower layer');
  assert.deepEqual(allowed.filter((edge) => !found.includes(edge)), [], 'these allow-listed imports are gone: delete them from ALLOWED_VIOLATIONS');
});

test('no file-level import cycles, apart from the allow-list', () => {
  const found = importCycles(EDGES).map((cycle) => cycle.join(' <-> '));
  const allowed = ALLOWED_CYCLES.map((cycle) => cycle.join(' <-> '));
  assert.deepEqual(found.filter((cycle) => !allowed.includes(cycle)), [], 'new import cycles: move the shared type or function into a file both can import');
  assert.deepEqual(allowed.filter((cycle) => !found.includes(cycle)), [], 'these allow-listed cycles are gone: delete them from ALLOWED_CYCLES');
});

test('shipped modules import nothing outside src/ (only tests may use test/support)', () => {
  const outside = EDGES.filter((edge) => !edge.from.endsWith('.test.ts') && topFolder(edge.to) === undefined).map(key);
  assert.deepEqual(outside, []);
});

test('every relative import resolves to an existing file (the graph above is complete)', () => {
  assert.deepEqual(EDGES.filter((edge) => !existsSync(join(ROOT, edge.to))).map(key), []);
});

// The checks themselves, on hand-made inputs with known answers.

test('moduleSpecifiers finds every import form and ignores comments, strings and template literals', () => {
  const source = [
    "import type { A } from './a.js';",
    "import { b } from '../b.js';",
    "import './side-effect.js';",
    "export { c } from './c.js';",
    "export * as d from './d.js';",
    "const e = await import('./e.js');",
    "let f: import('./f.js').F;",
    "// import g from './comment.js';",
    "const h = \"import i from './string.js'\";",
    'const j = `import(${k})`;',
    "const u = new URL('./worker.js', import.meta.url);",
    "import fs from 'node:fs';",
  ].join('\n');
  assert.deepEqual(moduleSpecifiers(source), ['./a.js', '../b.js', './side-effect.js', './c.js', './d.js', './e.js', './f.js', 'node:fs']);
});

test('layerViolations flags upward and same-layer imports and nothing else', () => {
  const layers = [['core'], ['io', 'runs'], ['merge']];
  const edges: ImportEdge[] = [
    { from: 'src/merge/a.ts', to: 'src/io/b.ts' }, // down: fine
    { from: 'src/merge/a.ts', to: 'src/merge/x/c.ts' }, // own folder: fine
    { from: 'src/io/b.ts', to: 'src/core/d.ts' }, // down: fine
    { from: 'src/io/b.ts', to: 'test/support/e.ts' }, // outside src: judged by another test
    { from: 'src/core/d.ts', to: 'src/io/b.ts' }, // up
    { from: 'src/io/b.ts', to: 'src/runs/f.ts' }, // same layer
    { from: 'src/io/b.ts', to: 'src/nowhere/g.ts' }, // folder without a layer
  ];
  assert.deepEqual(layerViolations(edges, layers).map(key), ['src/core/d.ts -> src/io/b.ts', 'src/io/b.ts -> src/runs/f.ts', 'src/io/b.ts -> src/nowhere/g.ts']);
});

test('importCycles returns each strongly connected component once, sorted, self-imports included', () => {
  const edges: ImportEdge[] = [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'c', to: 'a' }, // a -> b -> c -> a
    { from: 'c', to: 'd' }, // d is reached but closes no cycle
    { from: 'e', to: 'f' },
    { from: 'f', to: 'e' }, // e <-> f
    { from: 'g', to: 'g' }, // self-import
    { from: 'h', to: 'a' }, // leads into a cycle without being on it
  ];
  assert.deepEqual(importCycles(edges), [['a', 'b', 'c'], ['e', 'f'], ['g']]);
  assert.deepEqual(importCycles([{ from: 'x', to: 'y' }, { from: 'y', to: 'z' }]), []);
});
