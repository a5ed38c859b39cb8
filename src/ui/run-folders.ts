/**
 * Which folders the dashboard may read: the `--runs` roots and what lies inside them, nothing else. A run is
 * named by its root's index and its path relative to that root (`0/cma`, `1/ad/P-1/level1`); every name a
 * request brings is checked here before any file is touched — no absolute path, no `..` segment, and after
 * resolving symlinks the real path must still lie inside the root's real path.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { STORE_FILE } from '../runs/store.js';

export interface RunFolder {
  /** `<root index>/<relative path>`: the run's name in URLs */
  readonly ref: string;
  readonly root: number;
  readonly relative: string;
  readonly dir: string;
}

/** Refused path: the server answers 403. */
export class PathRefusedError extends ModelevoError {
  constructor(requested: string, why: string) {
    super('VALUE_INVALID', `path '${requested}' refused: ${why}`, { hint: 'the dashboard reads only inside the folders given with --runs', details: { requested } });
  }
}

/** how deep run stores are looked for below a root (AD-NEv keeps one store per <channel>/<level>) */
const MAX_DEPTH = 4;

export class RunFolders {
  readonly roots: readonly string[];
  private readonly realRoots: readonly string[];

  constructor(roots: readonly string[]) {
    this.roots = roots.map((root) => resolve(root));
    this.realRoots = this.roots.map((root) => (existsSync(root) ? realpathSync(root) : root));
  }

  /**
   * The real directory `requested` names (`<root index>/<relative path>`, or just `<root index>`), or a
   * PathRefusedError. `mustExist`: the folder (or file) must exist.
   */
  resolve(requested: string, mustExist = true): string {
    if (requested.includes('\0')) throw new PathRefusedError(requested, 'contains a NUL byte');
    const [head, ...rest] = requested.split('/');
    const index = Number(head);
    if (!/^\d+$/.test(head ?? '') || index >= this.roots.length) throw new PathRefusedError(requested, `no run folder #${head}`);
    const inside = rest.join('/');
    if (isAbsolute(inside) || /^[a-zA-Z]:/.test(inside)) throw new PathRefusedError(requested, 'absolute paths are not accepted');
    if (inside.split(/[\\/]/).some((segment) => segment === '..')) throw new PathRefusedError(requested, "'..' segments are not accepted");
    const root = this.realRoots[index]!;
    const candidate = join(root, inside);
    if (!existsSync(candidate)) {
      if (mustExist) throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no such run or file: ${requested}`, { hint: 'the runs list shows what exists' });
      return candidate;
    }
    const real = realpathSync(candidate);
    if (real !== root && !real.startsWith(root + sep)) throw new PathRefusedError(requested, 'it leads outside the run folders (symlink)');
    return real;
  }

  /**
   * Every folder under the roots holding `marker` (default: a run store), depth ≤ 4, symlinked folders not
   * followed, in root then path order.
   */
  list(marker: string = STORE_FILE): RunFolder[] {
    const found: RunFolder[] = [];
    this.realRoots.forEach((root, index) => {
      const walk = (dir: string, depth: number) => {
        let entries;
        try {
          entries = readdirSync(dir, { withFileTypes: true });
        } catch {
          return; // unreadable folder: nothing to show
        }
        if (entries.some((entry) => entry.isFile() && entry.name === marker)) {
          const rel = relative(root, dir).split(sep).join('/');
          found.push({ ref: rel ? `${index}/${rel}` : `${index}`, root: index, relative: rel, dir });
        }
        if (depth >= MAX_DEPTH) return;
        for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
          if (entry.isDirectory() && entry.name !== 'artifacts' && entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(join(dir, entry.name), depth + 1);
        }
      };
      if (existsSync(root) && statSync(root).isDirectory()) walk(root, 0);
    });
    return found;
  }
}
