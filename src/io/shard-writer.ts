/**
 * Writes a Hugging Face model folder (merge-methods.md §5, formats.md §3): greedy sharding in the given tensor
 * order under a byte limit (default 5×10⁹; a tensor above the limit gets its own shard), one shard as
 * `model.safetensors` without an index, several as `model-0000i-of-0000N.safetensors` plus
 * `model.safetensors.index.json`. Everything goes into a temporary folder beside the target that is renamed
 * into place on commit, so a failure leaves no output and an existing target survives until the swap; the
 * temporary folders' lifecycle (owner pid, signals, stale ones, interrupted overwrites) is output-folder.ts.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bytesPerElement, numelOf } from '../core/dtype.js';
import { CheckpointError, ModelevoError, invariant } from '../core/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { CONFIG_FILE, INDEX_FILE, SINGLE_FILE, readConfig, type ShardSummary } from './hf-folder.js';
import { SafetensorsWriter, type TensorSpec } from './safetensors/writer.js';
import { createTempFolder, recoverOutputFolder, releaseTempFolder, swapIntoPlace, writeFailure } from './output-folder.js';
import { faultPoint } from '../core/fault-points.js';

export const DEFAULT_MAX_SHARD_BYTES = 5e9;

export interface PlannedShard {
  readonly file: string;
  readonly names: readonly string[];
  readonly bytes: number;
}

export interface ShardPlan {
  readonly shards: readonly PlannedShard[];
  /** sum of tensor data bytes (the index's `total_size`) */
  readonly totalSize: number;
}

export function tensorBytes(spec: TensorSpec): number {
  const size = bytesPerElement(spec.dtype);
  if (size === undefined) {
    throw new CheckpointError(`cannot size sub-byte dtype ${spec.dtype} for sharding`, {
      code: 'DTYPE_UNSUPPORTED',
      tensor: spec.name,
      hint: 'sub-byte dtypes (F4, F6) cannot be written by modelevo',
    });
  }
  return numelOf(spec.shape) * size;
}

/** Greedy in the given order: close the current shard when adding the next tensor would pass the limit. */
export function planShards(specs: readonly TensorSpec[], maxShardBytes: number = DEFAULT_MAX_SHARD_BYTES): ShardPlan {
  invariant(Number.isFinite(maxShardBytes) && maxShardBytes > 0, () => `maxShardBytes must be positive, got ${maxShardBytes}`);
  const groups: { names: string[]; bytes: number }[] = [];
  let current: { names: string[]; bytes: number } | undefined;
  let totalSize = 0;
  for (const spec of specs) {
    const bytes = tensorBytes(spec);
    totalSize += bytes;
    if (current === undefined || (current.names.length > 0 && current.bytes + bytes > maxShardBytes)) {
      current = { names: [], bytes: 0 };
      groups.push(current);
    }
    current.names.push(spec.name);
    current.bytes += bytes;
  }
  if (groups.length === 0) groups.push({ names: [], bytes: 0 });
  const n = groups.length;
  const pad = (i: number): string => String(i).padStart(5, '0');
  const shards = groups.map((g, i) => ({ file: n === 1 ? SINGLE_FILE : `model-${pad(i + 1)}-of-${pad(n)}.safetensors`, ...g }));
  return { shards, totalSize };
}

/** Tokenizer side files copied as a set (formats.md §3), whatever their size. */
const SIDE_FILES = [
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'tokenizer.model',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'chat_template.jinja',
  'chat_template.json',
];
/** Never copied: they describe the source's weights, not the output's. */
const EXCLUDED_FILES = new Set([CONFIG_FILE, INDEX_FILE, 'adapter_config.json', 'pytorch_model.bin.index.json']);
const SMALL_JSON_BYTES = 1_000_000;

export interface ModelFolderWriterOptions {
  /** byte limit per shard (default 5e9) */
  readonly maxShardBytes?: number;
  /** folder whose config.json, tokenizer files and other small JSON files are copied */
  readonly copyFrom?: string;
  /** shallow patch applied to the copied config.json; a key whose value is `undefined` is removed */
  readonly configPatch?: Readonly<Record<string, unknown>>;
  /** replace an existing target (swapped only after everything is written); default false */
  readonly overwrite?: boolean;
  /** extra `__metadata__` entries for every shard */
  readonly metadata?: Readonly<Record<string, string>>;
  /** more files (name → contents) written into the folder before it is swapped into place */
  readonly extraFiles?: Readonly<Record<string, string | Uint8Array>>;
}

export interface WrittenModelFolder {
  readonly path: string;
  readonly shards: readonly ShardSummary[];
  readonly totalSize: number;
  /** every file in the folder, sorted */
  readonly files: readonly string[];
}

/** Streaming writer: the ordered specs are given up front, tensors are written one at a time in any order. */
export class ModelFolderWriter {
  readonly target: string;
  readonly plan: ShardPlan;
  private readonly tempDir: string;
  private readonly options: ModelFolderWriterOptions;
  private readonly specs = new Map<string, TensorSpec & { shard: number }>();
  private readonly pending: number[];
  private readonly open = new Map<number, SafetensorsWriter>();
  private readonly written = new Set<string>();
  private state: 'writing' | 'committed' | 'aborted' = 'writing';

  private constructor(target: string, specs: readonly TensorSpec[], options: ModelFolderWriterOptions) {
    this.target = target;
    this.options = options;
    this.plan = planShards(specs, options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
    const shardOf = new Map<string, number>();
    this.plan.shards.forEach((s, i) => s.names.forEach((n) => shardOf.set(n, i)));
    for (const spec of specs) {
      if (this.specs.has(spec.name)) {
        throw new CheckpointError('tensor listed twice in the output specs', { file: target, tensor: spec.name, hint: 'each output tensor name must be unique' });
      }
      this.specs.set(spec.name, { ...spec, shard: shardOf.get(spec.name)! });
    }
    this.pending = this.plan.shards.map((s) => s.names.length);
    try {
      this.tempDir = createTempFolder(target);
    } catch (cause) {
      throw writeFailure(target, 'creating the temporary folder', cause);
    }
  }

  static create(target: string, specs: readonly TensorSpec[], options: ModelFolderWriterOptions = {}): ModelFolderWriter {
    const full = resolve(target);
    // writers of this output that died leave temp folders (removed) or an interrupted overwrite (restored)
    recoverOutputFolder(full);
    if (existsSync(full) && !options.overwrite && !isEmptyDir(full)) {
      throw new ModelevoError('IO_FAILED', `output folder '${full}' already exists and is not empty`, {
        hint: 'choose another output folder, remove it, or pass the overwrite option (--overwrite)',
        details: { target: full },
      });
    }
    const writer = new ModelFolderWriter(full, specs, options);
    try {
      writer.copySideFiles();
      // shards with no tensors (an empty model) must still exist on commit
      writer.plan.shards.forEach((s, i) => {
        if (s.names.length === 0) writer.finishShard(i);
      });
      faultPoint('temp-created');
    } catch (error) {
      writer.abort();
      throw error;
    }
    return writer;
  }

  writeTensor(name: string, bytes: Uint8Array): void {
    this.assertWriting();
    const spec = this.plannedUnwritten(name);
    const expected = tensorBytes(spec);
    if (bytes.byteLength !== expected) {
      throw new CheckpointError(`got ${bytes.byteLength} bytes, expected ${expected} for ${spec.dtype} [${spec.shape.join(', ')}]`, {
        code: 'INTERNAL',
        file: this.target,
        tensor: name,
        hint: 'encode the tensor in its planned dtype',
      });
    }
    this.shardWriter(spec.shard).writeTensor(name, bytes);
    this.written.add(name);
    this.pending[spec.shard]! -= 1;
    if (this.pending[spec.shard] === 0) this.finishShard(spec.shard);
    faultPoint('tensor-written');
  }

  /**
   * Where a planned tensor's bytes go (descriptor of its shard's temporary file and absolute position), for a
   * caller that writes them itself with positional writes and then calls `markWritten(name)`. The shard is
   * committed only after every one of its tensors is marked, so the descriptor stays open until then.
   */
  tensorTarget(name: string): { readonly fd: number; readonly position: number; readonly byteLength: number } {
    this.assertWriting();
    const spec = this.plannedUnwritten(name);
    return this.shardWriter(spec.shard).tensorTarget(name);
  }

  /** Records that the caller wrote `name` at its `tensorTarget` (finishing the shard after its last tensor). */
  markWritten(name: string): void {
    this.assertWriting();
    const spec = this.plannedUnwritten(name);
    this.shardWriter(spec.shard).markWritten(name);
    this.written.add(name);
    this.pending[spec.shard]! -= 1;
    if (this.pending[spec.shard] === 0) this.finishShard(spec.shard);
  }

  private plannedUnwritten(name: string): TensorSpec & { shard: number } {
    const spec = this.specs.get(name);
    if (spec === undefined || this.written.has(name)) {
      throw new CheckpointError(spec === undefined ? 'tensor is not in the planned output' : 'tensor written twice', {
        code: 'INTERNAL',
        file: this.target,
        tensor: name,
        hint: 'write each planned tensor exactly once',
      });
    }
    return spec;
  }

  /** Writes the index (when sharded) and swaps the folder into place. */
  commit(): WrittenModelFolder {
    this.assertWriting();
    const missing = [...this.specs.keys()].filter((n) => !this.written.has(n));
    if (missing.length > 0) {
      throw new CheckpointError(`${missing.length} planned tensors were never written (first: '${missing[0]}')`, {
        code: 'INTERNAL',
        file: this.target,
        hint: 'write every tensor listed in the specs before commit()',
      });
    }
    if (this.plan.shards.length > 1) {
      const weightMap: Record<string, string> = {};
      for (const shard of this.plan.shards) for (const name of shard.names) weightMap[name] = shard.file;
      const index = { metadata: { total_size: this.plan.totalSize }, weight_map: weightMap };
      this.writeFile(INDEX_FILE, `${JSON.stringify(index, null, 2)}\n`);
    }
    for (const [file, contents] of Object.entries(this.options.extraFiles ?? {})) this.writeFile(file, contents);
    try {
      swapIntoPlace(this.tempDir, this.target);
    } catch (cause) {
      throw writeFailure(this.target, 'moving the finished folder into place', cause);
    }
    this.state = 'committed';
    return {
      path: this.target,
      shards: this.plan.shards.map((s) => ({ file: s.file, tensors: s.names.length, bytes: s.bytes })),
      totalSize: this.plan.totalSize,
      files: readdirSync(this.target).sort(),
    };
  }

  /** Discards everything written so far; safe to call more than once. */
  abort(): void {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    for (const writer of this.open.values()) {
      try {
        writer.abort();
      } catch {
        // the folder is removed below anyway
      }
    }
    this.open.clear();
    rmSync(this.tempDir, { recursive: true, force: true });
    releaseTempFolder(this.tempDir);
  }

  /** One small file into the temporary folder; a full disk becomes a typed error. */
  private writeFile(file: string, contents: string | Uint8Array, copyFrom?: string): void {
    try {
      faultPoint('side-file');
      // read and written rather than copied: a copy keeps the source's mode, a new file honours the umask
      writeFileSync(join(this.tempDir, file), copyFrom !== undefined ? readFileSync(copyFrom) : contents);
    } catch (cause) {
      throw writeFailure(this.target, `writing ${file}`, cause);
    }
  }

  private shardWriter(index: number): SafetensorsWriter {
    let writer = this.open.get(index);
    if (writer === undefined) {
      const shard = this.plan.shards[index]!;
      const specs = shard.names.map((n) => {
        const { name, dtype, shape } = this.specs.get(n)!;
        return { name, dtype, shape };
      });
      writer = SafetensorsWriter.create(join(this.tempDir, shard.file), specs, { format: 'pt', ...this.options.metadata });
      this.open.set(index, writer);
    }
    return writer;
  }

  private finishShard(index: number): void {
    this.shardWriter(index).commit();
    this.open.delete(index);
    faultPoint('shard-committed');
  }

  private copySideFiles(): void {
    const source = this.options.copyFrom;
    let config = source === undefined ? undefined : readConfig(source);
    if (this.options.configPatch !== undefined) {
      config = { ...(config ?? {}) };
      for (const [key, value] of Object.entries(this.options.configPatch)) {
        if (value === undefined) delete config[key];
        else config[key] = value;
      }
    }
    if (config !== undefined) this.writeFile(CONFIG_FILE, `${JSON.stringify(config, null, 2)}\n`);
    if (source === undefined) return;
    for (const file of readdirSync(source)) {
      if (EXCLUDED_FILES.has(file)) continue;
      const path = join(source, file);
      if (!statSync(path).isFile()) continue;
      const small = file.endsWith('.json') && statSync(path).size <= SMALL_JSON_BYTES;
      if (SIDE_FILES.includes(file) || small) this.writeFile(file, '', path);
    }
  }

  private assertWriting(): void {
    if (this.state !== 'writing') {
      throw new CheckpointError(`writer is already ${this.state}`, { code: 'INTERNAL', file: this.target, hint: 'create a new writer' });
    }
  }
}

/**
 * Writes every tensor of `checkpoint` (in its order, or `names`) as a model folder; aborts cleanly on any
 * failure. Side files come only from `options.copyFrom`.
 */
export function writeModelFolder(
  target: string,
  checkpoint: Checkpoint,
  options: ModelFolderWriterOptions & { names?: readonly string[] } = {},
): WrittenModelFolder {
  const names = options.names ?? checkpoint.names();
  const specs = names.map((name) => {
    const { dtype, shape } = checkpoint.info(name);
    return { name, dtype, shape };
  });
  const writer = ModelFolderWriter.create(target, specs, options);
  try {
    for (const name of names) writer.writeTensor(name, checkpoint.readBytes(name));
    return writer.commit();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

function isEmptyDir(path: string): boolean {
  return statSync(path).isDirectory() && readdirSync(path).length === 0;
}
