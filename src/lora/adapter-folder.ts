/**
 * PEFT LoRA adapters that modelevo produces (formats.md §4): kept in memory as a `LoraAdapter` over a
 * `MemoryCheckpoint`, so `base+adapter` views (io/lora-view.ts) work without touching disk, and written as a
 * PEFT folder (`adapter_config.json` + `adapter_model.safetensors`) built in a temporary folder beside the
 * target and renamed into place, so a failure never leaves a half-written adapter under the real name.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { MemoryCheckpoint, type MemoryTensor } from '../io/memory-checkpoint.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, parseLoraConfig, planAdapter, type LoraAdapter } from '../io/peft.js';
import { writeSafetensors } from '../io/safetensors/writer.js';

/** An adapter as data: the adapter_config.json object and the state dict, in save order. */
export interface AdapterData {
  readonly config: Readonly<Record<string, unknown>>;
  readonly tensors: ReadonlyMap<string, MemoryTensor>;
}

/**
 * A `LoraAdapter` over in-memory tensors, validated exactly like a folder read from disk (config parsing,
 * A/B pairing, ranks). Pass it to `new LoraMergedCheckpoint(base, adapter)` for a `base+adapter` view.
 */
export function loraAdapterFromMemory(data: AdapterData, label = '<memory adapter>'): LoraAdapter {
  const config = parseLoraConfig(data.config, `${label}/${ADAPTER_CONFIG_FILE}`);
  const weights = new MemoryCheckpoint(data.tensors, { source: label });
  const { updates, replacements } = planAdapter(config, weights, `${label}/${ADAPTER_WEIGHTS_FILE}`);
  return { path: label, config, weights, updates, replacements, close: () => weights.close() };
}

export interface WriteAdapterOptions {
  /** replace a non-empty target folder (swapped only after the new folder is complete) */
  readonly overwrite?: boolean;
  /** extra safetensors `__metadata__` entries (`format: pt` is always set) */
  readonly metadata?: Record<string, string>;
}

function isNonEmptyFolder(path: string): boolean {
  return existsSync(path) && (!statSync(path).isDirectory() || readdirSync(path).length > 0);
}

/** Writes a PEFT adapter folder atomically; returns its absolute path. */
export function writeAdapterFolder(outDir: string, data: AdapterData, options: WriteAdapterOptions = {}): string {
  const target = resolve(outDir);
  if (isNonEmptyFolder(target) && !options.overwrite) {
    throw new ModelevoError('IO_FAILED', `output folder '${target}' already exists and is not empty`, {
      hint: 'choose another output folder, remove it, or pass --overwrite',
      details: { target },
    });
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const temp = join(parent, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(temp);
  try {
    writeFileSync(join(temp, ADAPTER_CONFIG_FILE), `${JSON.stringify(data.config, null, 2)}\n`);
    const tensors = [...data.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data }));
    writeSafetensors(join(temp, ADAPTER_WEIGHTS_FILE), tensors, options.metadata);
    swapIntoPlace(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (error instanceof ModelevoError) throw error;
    throw new ModelevoError('IO_FAILED', `cannot write adapter folder '${target}': ${(error as Error).message}`, {
      cause: error,
      hint: 'check that the parent folder is writable and has free space',
    });
  }
  return target;
}

/** Renames `temp` to `target`; an existing target is moved aside first and restored if the swap fails. */
function swapIntoPlace(temp: string, target: string): void {
  if (!existsSync(target)) {
    renameSync(temp, target);
    return;
  }
  const backup = `${temp}.old`;
  renameSync(target, backup);
  try {
    renameSync(temp, target);
  } catch (error) {
    renameSync(backup, target);
    throw error;
  }
  rmSync(backup, { recursive: true, force: true });
}
