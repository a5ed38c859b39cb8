/**
 * The `base+adapter` view (merge-methods.md §4.1, mergekit's `model+lora` reference): a `Checkpoint` whose
 * LoRA-targeted tensors read as W + s·(B·A) computed on demand in float32, whose `modules_to_save` tensors
 * read from the adapter, and whose other tensors pass through from the base untouched. Nothing is cached, so
 * memory stays at one tensor at a time.
 */
import { isFloatDType } from '../core/dtype.js';
import { CheckpointError, ShapeMismatchError, invariant } from '../core/errors.js';
import type { Checkpoint, TensorInfo } from './checkpoint.js';
import { float32ToBytes } from './convert.js';
import { deltaShape, mergeLoraInto, type LoraAdapter, type LoraModuleUpdate } from './peft.js';

export class LoraMergedCheckpoint implements Checkpoint {
  readonly source: string;
  readonly config: Record<string, unknown> | undefined;
  readonly base: Checkpoint;
  readonly adapter: LoraAdapter;

  /** Checks every update and replacement against the base's tensors and shapes before anything is read. */
  constructor(base: Checkpoint, adapter: LoraAdapter, options: { source?: string } = {}) {
    this.base = base;
    this.adapter = adapter;
    this.source = options.source ?? `${base.source}+${adapter.path}`;
    this.config = base.config;
    for (const update of adapter.updates.values()) this.checkUpdate(update);
    for (const [target, adapterName] of adapter.replacements) {
      this.requireBaseTensor(target, adapterName);
      const baseShape = base.info(target).shape;
      const savedShape = adapter.weights.info(adapterName).shape;
      if (!sameShape(baseShape, savedShape)) {
        throw new ShapeMismatchError(target, { [base.source]: baseShape, [adapter.path]: savedShape }, {
          hint: 'the adapter was trained on a different base model (modules_to_save tensor has another shape)',
        });
      }
    }
  }

  /** base tensor names touched by the adapter (LoRA updates and replacements), in base order */
  touched(): string[] {
    return this.base.names().filter((n) => this.adapter.updates.has(n) || this.adapter.replacements.has(n));
  }

  names(): string[] {
    return this.base.names();
  }

  has(name: string): boolean {
    return this.base.has(name);
  }

  info(name: string): TensorInfo {
    const replacement = this.adapter.replacements.get(name);
    if (replacement !== undefined) return { ...this.adapter.weights.info(replacement), name };
    return this.base.info(name);
  }

  readFloat32(name: string): Float32Array {
    const replacement = this.adapter.replacements.get(name);
    if (replacement !== undefined) return this.adapter.weights.readFloat32(replacement);
    const update = this.adapter.updates.get(name);
    if (update === undefined) return this.base.readFloat32(name);
    const weights = this.adapter.weights;
    return mergeLoraInto(
      this.base.readFloat32(name),
      weights.readFloat32(update.aName),
      weights.readFloat32(update.bName),
      weights.info(update.aName).shape,
      weights.info(update.bName).shape,
      update,
    );
  }

  /** Touched tensors are encoded in the base tensor's dtype (a float dtype, checked on construction). */
  readBytes(name: string): Uint8Array {
    const replacement = this.adapter.replacements.get(name);
    if (replacement !== undefined) return this.adapter.weights.readBytes(replacement);
    if (!this.adapter.updates.has(name)) return this.base.readBytes(name);
    const dtype = this.base.info(name).dtype;
    invariant(isFloatDType(dtype), () => `LoRA target ${name} has dtype ${dtype}, rejected on construction`);
    return float32ToBytes(this.readFloat32(name), dtype);
  }

  close(): void {
    this.adapter.close();
    this.base.close();
  }

  private checkUpdate(update: LoraModuleUpdate): void {
    this.requireBaseTensor(update.target, update.aName);
    const weights = this.adapter.weights;
    const baseInfo = this.base.info(update.target);
    const aShape = weights.info(update.aName).shape;
    const bShape = weights.info(update.bName).shape;
    const expected = deltaShape(update, aShape, bShape);
    if (!sameShape(baseInfo.shape, expected)) {
      const layout = update.kind === 'embedding' ? '(B·A)ᵀ for an embedding' : update.transposed ? '(B·A)ᵀ with fan_in_fan_out' : 'B·A';
      throw new ShapeMismatchError(update.target, { [this.base.source]: baseInfo.shape, [`${this.adapter.path} (${layout})`]: expected }, {
        hint: update.kind === 'linear'
          ? 'check fan_in_fan_out in adapter_config.json, or whether the adapter belongs to this base model'
          : 'the adapter was trained on a different base model',
      });
    }
    if (!isFloatDType(baseInfo.dtype)) {
      throw new CheckpointError(`LoRA targets a ${baseInfo.dtype} tensor; only float tensors can be merged`, {
        code: 'DTYPE_UNSUPPORTED',
        file: this.base.source,
        tensor: update.target,
        hint: 'quantised base models cannot take a LoRA merge; use the float checkpoint',
      });
    }
  }

  private requireBaseTensor(target: string, adapterTensor: string): void {
    if (!this.base.has(target)) {
      throw new CheckpointError(`adapter tensor '${adapterTensor}' updates '${target}', which the base model does not have`, {
        code: 'ADAPTER_INVALID',
        file: this.adapter.path,
        tensor: target,
        hint: `the adapter does not fit base '${this.base.source}'; check base_model_name_or_path in adapter_config.json`,
      });
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
