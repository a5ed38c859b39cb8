// Child process for the concurrent-creation test: waits for a start file, then tries RunStore.create and
// prints "created" or the error code.
import { existsSync } from 'node:fs';
import { RunStore } from '../../src/runs/store.js';

const [dir, go, id] = process.argv.slice(2) as [string, string, string];
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
try {
  RunStore.create(dir, { id, kind: 'test', createdAt: 'now', seed: 1, config: {}, codeVersion: 't' }).close();
  console.log('created');
} catch (error) {
  console.log((error as { code?: string }).code ?? String(error));
}
