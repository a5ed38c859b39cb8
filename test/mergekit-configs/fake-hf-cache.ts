/**
 * A Hugging Face cache laid out as huggingface_hub writes it (`models--org--name/{refs,snapshots}`), its
 * snapshots symlinked to the tiny-llama fixtures, so configs can name models by Hub id (`tiny/expert-code`).
 * `tiny/expert-math` has two revisions: `main` is the expert, the branch `v0` an old snapshot holding the base weights.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { FIXTURES } from '../merge/workspace.js';

const sha = (text: string): string => createHash('sha1').update(text).digest('hex');

function addRevision(cache: string, repo: string, ref: string, fixture: string): string {
  const repoDir = join(cache, `models--${repo.replace('/', '--')}`);
  const commit = sha(`${repo}@${ref}:${fixture}`);
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  mkdirSync(join(repoDir, 'snapshots'), { recursive: true });
  writeFileSync(join(repoDir, 'refs', ref), commit); // huggingface_hub writes the hash without a newline
  symlinkSync(join(FIXTURES, fixture), join(repoDir, 'snapshots', commit), 'dir');
  return commit;
}

/** Lays out the cache under `cache` and returns the commit of each (repo, ref). */
export function makeFakeHfCache(cache: string): Record<string, string> {
  const commits: Record<string, string> = {};
  for (const fixture of ['base', 'expert-code', 'expert-literature', 'lora-math', 'lora-code']) {
    commits[`tiny/${fixture}@main`] = addRevision(cache, `tiny/${fixture}`, 'main', fixture);
  }
  commits['tiny/expert-math@main'] = addRevision(cache, 'tiny/expert-math', 'main', 'expert-math');
  commits['tiny/expert-math@v0'] = addRevision(cache, 'tiny/expert-math', 'v0', 'base');
  return commits;
}
