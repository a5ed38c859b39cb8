/** Reading a config file named on the command line: a missing or unreadable file is a usage error naming it. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelevoError } from './errors.js';

export function readConfigFile(path: string, what = 'config file'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? String(error)})`;
    throw new ModelevoError('CONFIG_NOT_FOUND', `${what} '${resolve(path)}' ${reason}`, {
      hint: 'check the path (relative paths start at the current directory)',
      details: { path: resolve(path) },
      cause: error,
    });
  }
}
