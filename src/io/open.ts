/**
 * One entry point from a user-typed model reference to a `Checkpoint`. References follow mergekit's syntax
 * (merge-methods.md §1.2): `<folder>`, `<file>.safetensors`, or `<base>+<adapter folder>` for a LoRA-merged
 * view; each part may be a Hugging Face Hub id `org/name[@revision]`, resolved offline from the local HF cache
 * (hf-cache.ts), since modelevo never downloads at run time.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { HfCheckpoint } from './hf-folder.js';
import { parseHubId, resolveHubSnapshot } from './hf-cache.js';
import { LoraMergedCheckpoint } from './lora-view.js';
import { isAdapterFolder, readLoraAdapter, type LoraAdapter } from './peft.js';
import { SafetensorsFile } from './safetensors/reader.js';

export interface OpenCheckpointOptions {
  /** folder relative paths are resolved against (default: process.cwd()) */
  readonly cwd?: string;
}

export interface ModelReference {
  readonly base: string;
  readonly adapter: string | undefined;
}

/**
 * Splits `<base>[+<adapter>]`. A path that exists as typed wins (folder names may contain '+'); otherwise the
 * first '+' whose left side exists splits it, else the first '+'.
 */
export function parseModelReference(ref: string, options: OpenCheckpointOptions = {}): ModelReference {
  const cwd = options.cwd ?? process.cwd();
  const exists = (p: string): boolean => existsSync(resolve(cwd, p));
  if (ref.trim() === '') {
    throw new CheckpointError('empty model reference', {
      code: 'CHECKPOINT_NOT_FOUND',
      hint: 'pass a model folder, a .safetensors file, or <base folder>+<adapter folder>',
    });
  }
  if (exists(ref) || !ref.includes('+')) return { base: ref, adapter: undefined };
  const plusIndices = [...ref.matchAll(/\+/g)].map((m) => m.index);
  const split = plusIndices.find((i) => exists(ref.slice(0, i))) ?? plusIndices[0]!;
  return { base: ref.slice(0, split), adapter: ref.slice(split + 1) };
}

/** Opens a model folder, a single .safetensors file, or a `base+adapter` merged view. */
export function openCheckpoint(ref: string, options: OpenCheckpointOptions = {}): Checkpoint {
  const cwd = options.cwd ?? process.cwd();
  const { base, adapter } = parseModelReference(ref, options);
  if (adapter === undefined) return openPlain(base, cwd, ref);
  const adapterPath = resolveLocal(adapter, cwd, ref);
  if (!isAdapterFolder(adapterPath)) {
    throw new CheckpointError(`the part after '+' is not a PEFT adapter folder (no adapter_config.json)`, {
      code: 'CHECKPOINT_NOT_FOUND',
      file: adapterPath,
      hint: 'write references as <base folder>+<adapter folder>, where the adapter folder holds adapter_config.json and adapter_model.safetensors',
    });
  }
  const baseCheckpoint = openPlain(base, cwd, ref);
  let lora: LoraAdapter | undefined;
  try {
    lora = readLoraAdapter(adapterPath);
    return new LoraMergedCheckpoint(baseCheckpoint, lora, { source: ref });
  } catch (error) {
    lora?.close();
    baseCheckpoint.close();
    throw error;
  }
}

/** Opens a PEFT adapter folder on its own (for inspection or composition). */
export function openAdapter(path: string, options: OpenCheckpointOptions = {}): LoraAdapter {
  return readLoraAdapter(resolveLocal(path, options.cwd ?? process.cwd(), path));
}

function openPlain(path: string, cwd: string, ref: string): Checkpoint {
  const full = resolveLocal(path, cwd, ref);
  if (statSync(full).isDirectory()) {
    if (isAdapterFolder(full)) {
      throw new CheckpointError('this is a PEFT adapter folder, not a full model', {
        code: 'CHECKPOINT_UNSUPPORTED',
        file: full,
        hint: `merge it into its base with a reference like '<base folder>+${path}' (or inspect it alone with \`modelevo inspect ${path}\`)`,
      });
    }
    return HfCheckpoint.open(full, { source: path });
  }
  if (full.endsWith('.safetensors')) return SafetensorsFile.open(full);
  const kind = /\.(bin|pt|pth|ckpt|pkl)$/.test(full) ? 'a PyTorch pickle' : /\.gguf$/.test(full) ? 'a GGUF file' : 'not a safetensors file';
  throw new CheckpointError(`cannot load weights from this file: it is ${kind}`, {
    code: 'CHECKPOINT_UNSUPPORTED',
    file: full,
    hint: 'modelevo merges safetensors weights: pass a model folder or a .safetensors file (convert pickles with `save_pretrained(..., safe_serialization=True)`)',
  });
}

function resolveLocal(path: string, cwd: string, ref: string): string {
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  if (existsSync(full)) return full;
  // `org/name[@rev]` is a Hub id unless `org` is a local folder (then it is a missing local path, '@' or not)
  const hubId = existsSync(resolve(cwd, path.split('/')[0]!)) ? undefined : parseHubId(path);
  if (hubId !== undefined) return resolveHubSnapshot(hubId);
  throw new CheckpointError(`'${path}' does not exist${ref !== path ? ` (in reference '${ref}')` : ''}`, {
    code: 'CHECKPOINT_NOT_FOUND',
    file: full,
    hint: 'check the path (relative paths are resolved against the current directory)',
  });
}

/**
 * The folder or file a reference part names: a local path (relative to `cwd`) when it exists, else a Hub id
 * resolved from the local Hugging Face cache. Throws CHECKPOINT_NOT_FOUND when neither exists.
 */
export function resolveModelPath(path: string, cwd: string = process.cwd()): string {
  return resolveLocal(path, cwd, path);
}
