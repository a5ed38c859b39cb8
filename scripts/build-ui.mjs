#!/usr/bin/env node
// Bundles the dashboard page (src/ui/web/main.ts + uPlot) into build/ui/app.js and build/ui/app.css with
// esbuild, so `modelevo ui` serves everything itself: no CDN, works with no network.
import { buildSync } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function buildUi(outDir = join(ROOT, 'build', 'ui')) {
  mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [join(ROOT, 'src', 'ui', 'web', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    legalComments: 'inline',
    outfile: join(outDir, 'app.js'),
    logLevel: 'warning',
  });
  const css = [readFileSync(join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8'), readFileSync(join(ROOT, 'src', 'ui', 'web', 'app.css'), 'utf8')].join('\n');
  writeFileSync(join(outDir, 'app.css'), css);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`dashboard page bundled into ${buildUi()}\n`);
}
