/**
 * Hugging Face Hub ids resolved OFFLINE from the local Hugging Face cache, as mergekit configs write them
 * (`org/name`, `org/name@revision`). The cache is `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
 * `~/.cache/huggingface/hub`; a repository lives in `models--org--name/` with `snapshots/<commit>/` folders and
 * `refs/<branch or tag>` files holding a commit hash (huggingface_hub's cache layout). modelevo never downloads:
 * a model missing from the cache is an error whose hint is the exact `huggingface-cli download` command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../core/errors.js';

export interface HubId {
  readonly repo: string;
  readonly revision: string | undefined;
}

const HUB_ID = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?$/;

/**
 * `org/name[@revision]` when the text can only be a Hub id: exactly one '/', no leading '.', '/' or '~'.
 * Callers ask this only after the text failed to resolve as a local path, so a local path with '@' that
 * exists never reaches here.
 */
export function parseHubId(text: string): HubId | undefined {
  if (/^[./~]/.test(text)) return undefined;
  const match = HUB_ID.exec(text);
  if (!match) return undefined;
  return { repo: match[1]!, revision: match[2] };
}

export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

function downloadHint(id: HubId): string {
  const revision = id.revision === undefined ? '' : ` --revision ${id.revision}`;
  return `modelevo reads the local Hugging Face cache and never downloads; fetch it once with \`huggingface-cli download ${id.repo}${revision}\` (or pass a local folder)`;
}

/** The snapshot folder of a Hub id in the cache; throws CHECKPOINT_NOT_FOUND with the download command. */
export function resolveHubSnapshot(id: HubId, env: NodeJS.ProcessEnv = process.env): string {
  const cache = hfHubCacheDir(env);
  const repoDir = join(cache, `models--${id.repo.replace(/\//g, '--')}`);
  const revision = id.revision ?? 'main';
  const missing = (what: string): never => {
    throw new CheckpointError(`Hugging Face model '${id.repo}'${id.revision === undefined ? '' : ` at revision '${id.revision}'`} is not in the local cache: ${what}`, {
      code: 'CHECKPOINT_NOT_FOUND',
      file: repoDir,
      hint: downloadHint(id),
    });
  };
  if (!existsSync(repoDir)) missing(`no folder ${repoDir}`);
  // a full commit hash names a snapshot directly; anything else is a branch or tag under refs/
  let commit = revision;
  if (!/^[0-9a-f]{40}$/.test(revision)) {
    const ref = join(repoDir, 'refs', revision);
    if (!existsSync(ref)) missing(`no ref '${revision}' (${ref})`);
    commit = readFileSync(ref, 'utf8').trim();
  }
  const snapshot = join(repoDir, 'snapshots', commit);
  if (!existsSync(snapshot)) missing(`no snapshot ${commit}`);
  return snapshot;
}
