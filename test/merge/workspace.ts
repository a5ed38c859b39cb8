/**
 * A throwaway folder laid out like the developers' machine so the example configs run unchanged: their paths
 * `../shared/fixtures/tiny-llama/...` are relative to the project root, so `<tmp>/shared/fixtures` links to
 * this repository's `test/fixtures` and merges run with cwd `<tmp>/main`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'tiny-llama');
export const EXAMPLES = join(REPO_ROOT, 'examples');

export interface Workspace {
  readonly root: string;
  /** run merges from here */
  readonly cwd: string;
  cleanup(): void;
}

export function exampleWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-merge-'));
  mkdirSync(join(root, 'shared'));
  symlinkSync(join(REPO_ROOT, 'test', 'fixtures'), join(root, 'shared', 'fixtures'), 'dir');
  mkdirSync(join(root, 'main'));
  return { root, cwd: join(root, 'main'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function exampleText(name: string): string {
  return readFileSync(join(EXAMPLES, name), 'utf8');
}

/** bf16 bits → float32 value (formats.md §2: the upper half of a float32) */
export function bf16ToFloat32(bytes: Uint8Array): Float32Array {
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const words = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) words[i] = halves[i]! << 16;
  return new Float32Array(words.buffer);
}

export function f32Of(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
