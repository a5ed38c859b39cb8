/**
 * The code version stored in every run's manifest: modelevo's package version and, when the code runs from
 * a git checkout, the commit (with "-dirty" when files differ from it). One function, computed once per
 * process, so every command records the same string for the same code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// src/runs/ and dist/runs/ both sit two folders below the package root
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

let cached: string | undefined;

function gitCommit(root: string): string | undefined {
  try {
    const run = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    const commit = run('rev-parse', '--short=12', 'HEAD');
    const dirty = run('status', '--porcelain', '--untracked-files=no').length > 0;
    return `${commit}${dirty ? '-dirty' : ''}`;
  } catch {
    return undefined; // not a checkout, or git not installed: the package version alone
  }
}

/** `modelevo-<version>` or `modelevo-<version>+<commit>[-dirty]`. */
export function codeVersion(): string {
  if (cached !== undefined) return cached;
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    // a bundled copy without package.json beside it
  }
  const commit = gitCommit(dirname(fileURLToPath(PACKAGE_JSON)));
  cached = `modelevo-${version}${commit ? `+${commit}` : ''}`;
  return cached;
}
