/**
 * The life of an output folder's temporary siblings (issue #17 item 6). A writer builds `<out>` in
 * `.<out>.tmp-<pid>-<random>` beside it and swaps it in; an overwrite first moves the old output to
 * `.<out>.old-<pid>-<random>`. The pid in both names tells a later run whether the owner is still alive:
 * - temp folders are removed on SIGINT/SIGTERM by their owner and, once their owner is gone, by the next
 *   writer of the same output;
 * - a `.old-*` whose owner died between the two renames of an overwrite is renamed back to `<out>` when
 *   `<out>` is missing (the old output is restored), or removed when the new output is in place.
 * Folders are created with mkdir (mode 0777 minus the umask), so outputs honour the umask.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { faultPoint } from '../core/fault-points.js';

const live = new Set<string>();
let handlersInstalled = false;

function siblingName(target: string, kind: 'tmp' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Owner pid of a `.<out>.tmp-*` / `.<out>.old-*` sibling of `target`, or undefined for other names. */
function siblingOwner(target: string, name: string, kind: 'tmp' | 'old'): number | undefined {
  const prefix = `.${basename(target)}.${kind}-`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A new, empty temporary folder for `target`, removed on SIGINT/SIGTERM until `releaseTempFolder`. */
export function createTempFolder(target: string): string {
  mkdirSync(dirname(target), { recursive: true });
  const path = siblingName(target, 'tmp');
  mkdirSync(path);
  live.add(path);
  installSignalHandlers();
  return path;
}

/** Stops tracking `path` (it was renamed into place or removed). */
export function releaseTempFolder(path: string): void {
  live.delete(path);
}

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = (): void => {
      for (const path of live) rmSync(path, { recursive: true, force: true });
      live.clear();
      // with no other listener, die of the signal as the default action would
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}

/**
 * Cleans up after writers of `target` that died: removes their temp folders, and restores or removes the
 * old output an interrupted overwrite left behind. Siblings of live processes are left alone.
 */
export function recoverOutputFolder(target: string): { removed: string[]; restored?: string } {
  const parent = dirname(target);
  const removed: string[] = [];
  let restored: string | undefined;
  if (!existsSync(parent)) return { removed };
  for (const name of readdirSync(parent)) {
    const tmpOwner = siblingOwner(target, name, 'tmp');
    const oldOwner = siblingOwner(target, name, 'old');
    const owner = tmpOwner ?? oldOwner;
    if (owner === undefined || owner === process.pid || isAlive(owner)) continue;
    const path = join(parent, name);
    if (oldOwner !== undefined && !existsSync(target)) {
      renameSync(path, target);
      restored = path;
    } else {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  return { removed, ...(restored ? { restored } : {}) };
}

/**
 * Puts the finished `temp` folder at `target`. An existing target is moved aside first and removed only
 * once the new folder is in place; should this process die between the two renames, the next
 * `recoverOutputFolder(target)` restores it.
 */
export function swapIntoPlace(temp: string, target: string): void {
  faultPoint('before-swap');
  if (!existsSync(target)) {
    renameSync(temp, target);
    releaseTempFolder(temp);
    return;
  }
  const backup = siblingName(target, 'old');
  renameSync(target, backup);
  try {
    faultPoint('between-renames');
    renameSync(temp, target);
  } catch (error) {
    renameSync(backup, target);
    throw error;
  }
  releaseTempFolder(temp);
  faultPoint('after-swap');
  rmSync(backup, { recursive: true, force: true });
}

/**
 * A write failure as a typed error: ENOSPC (and EDQUOT) say the disk is full; the temp folder is removed by
 * the caller's abort, so nothing is left.
 */
export function writeFailure(target: string, what: string, cause: unknown): ModelevoError {
  if (cause instanceof ModelevoError) return cause;
  const code = (cause as NodeJS.ErrnoException).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new ModelevoError('IO_FAILED', `${full ? 'no space left on the device' : 'write failed'} while ${what} for ${target}: ${(cause as Error).message}`, {
    hint: full ? 'free disk space (or choose an output folder on another disk) and run again; nothing was left behind' : 'check that the output folder is writable',
    details: { target, ...(code ? { errno: code } : {}) },
    cause,
  });
}
