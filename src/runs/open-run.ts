/**
 * `openRun`: the one way a command opens the run it stores — a new run in an empty folder, or the run already
 * there when the command resumes. It refuses a folder that holds a run of another kind, a finished run (unless
 * the command may continue one), an unfinished run when the command was not asked to resume, and a resume with
 * a configuration other than the stored one. The manifest's code version comes from `codeVersion()`.
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { codeVersion } from './code-version.js';
import { RunStore } from './store.js';

export interface OpenRunOptions {
  /** what stores the run ('evolve', 'st-synevo', 'ad-nev-level1' …) */
  readonly kind: string;
  readonly seed: number;
  /** everything that determines the run's numbers; compared on resume */
  readonly config: unknown;
  /**
   * false: start a new run (a folder that holds one is refused); true: continue the run in the folder (it
   * must exist); 'if-present': continue it when there is one, start otherwise
   */
  readonly resume: boolean | 'if-present';
  /** a finished run may be continued (evolve with a raised budget; AD-NEv re-reading a finished level) */
  readonly continueFinished?: boolean;
  /** top-level config keys that may differ on resume (evolve's budget) */
  readonly mayDiffer?: readonly string[];
  /** manifest id (default: a random UUID) */
  readonly id?: string;
}

export interface OpenedRun {
  readonly store: RunStore;
  readonly resumed: boolean;
}

export function openRun(dir: string, options: OpenRunOptions): OpenedRun {
  if (!existsSync(join(resolve(dir), 'run.sqlite')) && options.resume !== true) {
    const store = RunStore.create(dir, {
      id: options.id ?? randomUUID(),
      kind: options.kind,
      createdAt: new Date().toISOString(),
      seed: options.seed,
      config: options.config,
      codeVersion: codeVersion(),
    });
    return { store, resumed: false };
  }
  // missing with resume: true → RunStore.open's "no run found" error
  const store = RunStore.open(dir);
  try {
    const manifest = store.manifest();
    if (manifest.kind !== options.kind) {
      throw new ModelevoError('CONFIG_INVALID', `run directory ${dir} holds a '${manifest.kind}' run, expected '${options.kind}'`, {
        hint: 'choose another --run-dir for this command',
        details: { dir, expected: options.kind, found: manifest.kind },
      });
    }
    if (manifest.status === 'finished' && !(options.continueFinished && options.resume)) {
      throw new ModelevoError('CONFIG_INVALID', `run directory ${dir} already holds a finished ${manifest.kind} run`, {
        hint: `\`modelevo runs show ${dir}\` prints it; choose another --run-dir for a new run`,
        details: { dir, status: manifest.status },
      });
    }
    if (!options.resume) {
      throw new ModelevoError('CONFIG_INVALID', `run directory ${dir} holds an unfinished ${manifest.kind} run (status ${manifest.status})`, {
        hint: 'pass --resume to continue it, or choose another --run-dir',
        details: { dir, status: manifest.status },
      });
    }
    const differing = differingKeys(manifest.config, options.config).filter((key) => !options.mayDiffer?.includes(key));
    if (differing.length > 0) {
      throw new ModelevoError('CONFIG_INVALID', `cannot resume ${dir}: the options differ from the stored run in ${differing.join(', ')}`, {
        hint: 'resume with the configuration the run was started with (`modelevo runs show` lists it), or choose another --run-dir',
        details: { dir, differing },
      });
    }
  } catch (error) {
    store.close();
    throw error;
  }
  return { store, resumed: true };
}

/** Top-level keys whose JSON values differ between two configs. */
export function differingKeys(stored: unknown, current: unknown): string[] {
  const a = (stored ?? {}) as Record<string, unknown>;
  const b = JSON.parse(JSON.stringify(current ?? {})) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key])).sort();
}
