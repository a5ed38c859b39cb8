/**
 * Run-store plumbing shared by the `st synevo` and `st coms2t` verbs: open a run when `--run-dir` is given, log
 * to it (and to stderr unless --json), write artifacts/results.json atomically on success, and record the error
 * and a `failed` status when the body throws. The store is always closed.
 */
import { mkdirSync } from 'node:fs';
import { writeJsonAtomic } from '../../core/atomic-file.js';
import { join } from 'node:path';
import { RunStore } from '../../runs/store.js';
import { watchLiveLine } from '../options.js';

export interface StoredVerbRun {
  readonly store: RunStore | undefined;
  log(line: string): void;
  event(type: string, payload: unknown): void;
  /** writes artifacts/results.json (temp + rename) and marks the run finished */
  finish(output: unknown): void;
}

export interface StoredVerbOptions {
  readonly runDir: string | undefined;
  readonly kind: string;
  readonly seed: number;
  readonly config: unknown;
  readonly json: boolean;
}

export async function withStoredRun<T>(options: StoredVerbOptions, body: (run: StoredVerbRun) => Promise<T>): Promise<T> {
  let store: RunStore | undefined;
  if (options.runDir) {
    mkdirSync(options.runDir, { recursive: true });
    store = RunStore.create(options.runDir, { id: `${options.kind}-${Date.now()}`, kind: options.kind, createdAt: new Date().toISOString(), seed: options.seed, config: options.config, codeVersion: 'modelevo-0.1.0' });
    if (!options.json) process.stderr.write(`${watchLiveLine(options.runDir)}\n`);
  }
  const run: StoredVerbRun = {
    store,
    log(line) {
      store?.event('log', { line });
      if (!options.json) process.stderr.write(`${line}\n`);
    },
    event(type, payload) {
      store?.event(type, payload);
    },
    finish(output) {
      if (!store) return;
      writeJsonAtomic(join(store.artifactsDir, 'results.json'), output);
      store.setStatus('finished');
    },
  };
  try {
    return await body(run);
  } catch (error) {
    store?.event('error', { message: error instanceof Error ? error.message : String(error) });
    store?.setStatus('failed');
    throw error;
  } finally {
    store?.close();
  }
}
