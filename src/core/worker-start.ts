/**
 * The one way modelevo starts a worker thread, from a source checkout under tsx and from compiled dist/.
 *
 * The worker's entry is a sibling of the calling module with the caller's own extension: `.js` when
 * compiled, `.ts` under tsx. A `.ts` entry starts from its bundle (worker-bundle.ts: one ES module, no tsx in
 * the worker, ~0.2 s less per worker); when it cannot be bundled, through a one-line bootstrap that registers
 * tsx's loader first (Node 20 does not apply `--import tsx` loader hooks to a worker's entry module). tsx and
 * esbuild are resolved from this module (not from the cwd), and only in a source checkout: the compiled path
 * never touches them.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ModelevoError } from './errors.js';
import { bundledWorkerUrl } from './worker-bundle.js';

/**
 * Starts `entry` (a path without extension, relative to `callerUrl`, e.g. `'./worker'`) in a new worker.
 * Pass the caller's `import.meta.url`. `options` go to the Worker unchanged (workerData, execArgv, …).
 */
export function startWorker(callerUrl: string, entry: string, options: WorkerOptions = {}): Worker {
  const extension = sourceExtension(callerUrl);
  const entryUrl = new URL(`${entry}${extension}`, callerUrl);
  if (extension === '.js') return new Worker(entryUrl, options);
  const bundled = bundledWorkerUrl(entryUrl);
  if (bundled !== undefined) return new Worker(bundled, { ...options, execArgv: withoutTsx(options.execArgv ?? process.execArgv) });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entryUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

// a bundled worker needs no loader: `--import tsx` in its execArgv would start tsx's hooks thread in it anyway
function withoutTsx(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (flag === '--import' && execArgv[i + 1] === 'tsx') i++;
    else if (flag !== '--import=tsx') kept.push(flag);
  }
  return kept;
}

function sourceExtension(callerUrl: string): '.ts' | '.js' {
  const path = new URL(callerUrl).pathname;
  if (path.endsWith('.ts')) return '.ts';
  if (path.endsWith('.js')) return '.js';
  throw new ModelevoError('INTERNAL', `a worker's caller must be a .ts or .js module, got ${callerUrl}`, {
    hint: "pass the calling module's import.meta.url",
  });
}
