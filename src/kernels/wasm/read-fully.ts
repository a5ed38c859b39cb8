/** Positioned reads and writes of a whole buffer, shared by the kernels that read and write weights straight in files. */
import { readSync, writeSync } from 'node:fs';
import { CheckpointError } from '../../core/errors.js';

/** Reads target.length bytes of `fd` from `position` (a short read is retried; the end of the file is an error). */
export function readFullyAt(fd: number, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.length) {
    const read = readSync(fd, target, done, target.length - done, position + done);
    if (read === 0) {
      throw new CheckpointError(`file ended at byte ${position + done}, expected ${target.length - done} more bytes (fd ${fd})`, {
        hint: 'the weights file was truncated or changed while it was read; re-download or re-write it',
        details: { position: position + done, missing: target.length - done },
      });
    }
    done += read;
  }
}

/** Writes all of `source` to `fd` at `position` (a short write is continued). */
export function writeFullyAt(fd: number, source: Uint8Array, position: number): void {
  let done = 0;
  while (done < source.length) done += writeSync(fd, source, done, source.length - done, position + done);
}
