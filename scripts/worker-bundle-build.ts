/**
 * Child-process entry of src/core/worker-bundle.ts (source checkouts only, so not shipped in src/): bundles one worker entry with esbuild's async API (its plugins are not
 * available synchronously) and writes the bundle and its manifest atomically.
 *
 *   node --import tsx scripts/worker-bundle-build.ts <entry.ts> <bundle.mjs> <manifest.json>
 *
 * Exits non-zero (the caller then starts the worker through tsx) when a module cannot be bundled faithfully.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, version } from 'esbuild';
import { writeFileAtomic, writeJsonAtomic } from '../src/core/atomic-file.js';
import type { Manifest } from '../src/core/worker-bundle.js';

async function main(entry: string, bundle: string, manifestPath: string): Promise<void> {
  const inputs = new Map<string, { size: number; mtimeMs: number }>();
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
    plugins: [
      {
        name: 'own-import-meta-url',
        setup(builder) {
          builder.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
            // stat before reading: a file edited meanwhile is newer on disk than in the manifest, so rebuilt
            const stat = statSync(args.path);
            inputs.set(resolve(args.path), { size: stat.size, mtimeMs: stat.mtimeMs });
            const source = readFileSync(args.path, 'utf8');
            // each module keeps its own URL; import.meta.resolve/dirname/… would need more than a literal
            if (/import\.meta\.(?!url\b)/.test(source)) throw new Error(`${args.path} uses import.meta beyond url`);
            const contents = source.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href));
            return { contents, loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js' };
          });
        },
      },
    ],
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no bundle');
  writeFileAtomic(bundle, output.contents);
  const manifest: Manifest = { esbuild: version, inputs: [...inputs].map(([path, stat]) => ({ path, ...stat })) };
  writeJsonAtomic(manifestPath, manifest);
}

const [entry, bundle, manifestPath] = process.argv.slice(2);
if (entry === undefined || bundle === undefined || manifestPath === undefined) {
  process.stderr.write('usage: worker-bundle-build.ts <entry.ts> <bundle.mjs> <manifest.json>\n');
  process.exit(2);
}
main(entry, bundle, manifestPath).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
