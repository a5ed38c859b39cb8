/**
 * A source checkout's worker entry bundled into one ES module, so a worker starts without tsx.
 *
 * Under tsx every worker thread registers tsx's loader and starts its own hooks thread: ~0.2 s per worker, and a
 * kernel pool of two started in 0.42–0.54 s (0.07–0.09 s from compiled dist/). The bundle starts like dist/.
 * It is built with esbuild (a dev dependency, which a source checkout has) into node_modules/.cache, once per
 * change of its sources: a manifest lists every input file with its size and mtime, and any difference rebuilds.
 * Each module's `import.meta.url` is replaced by its own file URL, so paths computed from it (the wasm files)
 * still resolve from the bundle; a module that uses another `import.meta` property is not bundled. Packages stay
 * imports, resolved from node_modules as before. Returns undefined when anything fails: the caller then starts
 * the worker through tsx, as before.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'modelevo-workers');

/** What scripts/worker-bundle-build.ts records beside a bundle. */
export interface Manifest {
  readonly esbuild: string;
  readonly inputs: readonly { readonly path: string; readonly size: number; readonly mtimeMs: number }[];
}

/** The bundled form of the .ts module at `entryUrl` (a file URL), or undefined (see the header). */
export function bundledWorkerUrl(entryUrl: URL): URL | undefined {
  try {
    const entry = fileURLToPath(entryUrl);
    const name = createHash('sha256').update(entry).digest('hex').slice(0, 16);
    const bundle = join(CACHE, `${name}.mjs`);
    const manifestPath = join(CACHE, `${name}.json`);
    const esbuild = createRequire(import.meta.url).resolve('esbuild');
    const version = (JSON.parse(readFileSync(join(esbuild, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    if (!upToDate(bundle, manifestPath, version)) {
      // esbuild's plugins (the per-module import.meta.url) need its async API: the build runs in a child process,
      // once per change of the sources, so this function stays synchronous like the Worker constructor
      const builder = join(ROOT, 'scripts', 'worker-bundle-build.ts');
      const run = spawnSync(process.execPath, ['--import', 'tsx', builder, entry, bundle, manifestPath], { cwd: ROOT, encoding: 'utf8' });
      if (run.status !== 0) return undefined;
    }
    return pathToFileURL(bundle);
  } catch {
    return undefined;
  }
}

/** The manifest of a bundle whose inputs are all unchanged. */
function upToDate(bundle: string, manifestPath: string, version: string): boolean {
  if (!existsSync(bundle) || !existsSync(manifestPath)) return false;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  if (manifest.esbuild !== version) return false;
  return manifest.inputs.every((input) => {
    if (!existsSync(input.path)) return false;
    const stat = statSync(input.path);
    return stat.size === input.size && stat.mtimeMs === input.mtimeMs;
  });
}
