/**
 * Run-store plumbing shared by the `st synevo` and `st coms2t` verbs: open a run when `--run-dir` is given, log
 * to it (and to stderr unless --json), write artifacts/results.json atomically on success, and record the error
 * and a `failed` status when the body throws. The store is always closed.
 * `--resume` continues an interrupted (killed or failed) run in the same folder with the same options: these
 * verbs keep no mid-run checkpoint, so the computation starts again from its beginning — it is deterministic
 * for a seed, so the stored result equals an uninterrupted run's — and the earlier session's events stay.
 */
import { mkdirSync } from 'node:fs';
import { writeJsonAtomic } from '../../core/atomic-file.js';
import { faultPoint } from '../../core/fault-points.js';
import { join } from 'node:path';
import { openRun } from '../../runs/open-run.js';
import type { RunStore } from '../../runs/store.js';
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
  /** continue the interrupted run in runDir (see the file comment) */
  readonly resume?: boolean;
}

export async function withStoredRun<T>(options: StoredVerbOptions, body: (run: StoredVerbRun) => Promise<T>): Promise<T> {
  let store: RunStore | undefined;
  if (options.runDir) {
    mkdirSync(options.runDir, { recursive: true });
    const opened = openRun(options.runDir, { id: `${options.kind}-${Date.now()}`, kind: options.kind, seed: options.seed, config: options.config, resume: options.resume ? 'if-present' : false });
    store = opened.store;
    if (opened.resumed) {
      store.setStatus('running');
      store.event('resumed', {});
    }
    if (!options.json) process.stderr.write(`${watchLiveLine(options.runDir)}\n`);
  }
  const run: StoredVerbRun = {
    store,
    log(line) {
      store?.event('log', { line });
      faultPoint('st-log'); // lets a test kill the verb mid-run (core/fault-points.ts)
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
