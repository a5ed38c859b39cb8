/**
 * Typed errors for the run store: SQLite's result codes mapped to modelevo codes with a hint saying what to
 * do (a damaged file is not "a bug"), and the lock error a second process on one run folder gets.
 */
import { ModelevoError } from '../core/errors.js';

export const DAMAGED_STORE_HINT = 'the run store is damaged: restore it or start a new run; `runs list` skips it with a warning';

/** The typed form of `error` raised while using the store at `path`; ModelevoErrors pass through. */
export function storeError(path: string, error: unknown): Error {
  if (error instanceof ModelevoError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const details = { path, sqlite: code };
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new ModelevoError('CHECKPOINT_INVALID', `run store ${path} is damaged (${message})`, { hint: DAMAGED_STORE_HINT, details, cause: error });
  }
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') {
    return new ModelevoError('IO_FAILED', `no space left on the disk holding ${path} (${message})`, {
      hint: 'free disk space, then resume the run with --resume (committed evaluations are kept)',
      details: { ...details, errno: 'ENOSPC' },
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new ModelevoError('IO_FAILED', `run store ${path} is busy: another process is writing it (${message})`, {
      hint: 'wait for the other process, or check that no second run uses this folder',
      details,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new ModelevoError('IO_FAILED', `run store ${path} already holds this record (${message}): another process is writing the same run`, {
      hint: 'run one process per run folder; `modelevo runs show` shows what is stored',
      details,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_')) {
    return new ModelevoError('IO_FAILED', `run store ${path}: ${message}`, {
      hint: code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')
        ? 'check that the run folder is readable and writable and the disk is healthy'
        : DAMAGED_STORE_HINT,
      details,
      cause: error,
    });
  }
  if (typeof (error as { code?: unknown }).code === 'string' && error instanceof Error) {
    return new ModelevoError('IO_FAILED', `run store ${path}: ${message}`, { hint: 'check the run folder and free disk space', details, cause: error });
  }
  // neither a SQLite nor a Node system error: keep the original error (its stack), wrapping only a non-Error throw
  return error instanceof Error ? error : new ModelevoError('INTERNAL', `run store ${path}: ${message}`, { details });
}

/** A second process on a run folder: names the owner so the user can check on it. */
export class RunLockedError extends ModelevoError {
  constructor(dir: string, owner: { pid: number; host: string; since: string }, thisHost: string) {
    super('IO_FAILED', `run is locked by pid ${owner.pid} on ${owner.host} (since ${owner.since}): ${dir}`, {
      hint:
        owner.host === thisHost
          ? 'wait for that process to finish (or stop it); a lock whose process is gone is taken over automatically'
          : `the owner runs on another host; if it is gone, remove the lock with: sqlite3 ${dir}/run.sqlite 'DELETE FROM run_lock'`,
      details: { dir, owner },
    });
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
