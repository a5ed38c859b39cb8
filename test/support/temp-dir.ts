/** A fresh temporary folder for a synchronous test body, removed afterwards whether the body passed or threw. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `prefix` names the folder under the OS temp dir (e.g. 'modelevo-hf-') so leftovers point at their test. */
export function withTempDir(prefix: string, body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
