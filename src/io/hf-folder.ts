/**
 * Hugging Face model folders (formats.md §3): `model.safetensors.index.json` + shards, else one
 * `model.safetensors`. The index is validated against the shard headers on open (every shard exists, every
 * mapped tensor is in its shard, no tensor is unmapped or in two shards); tensor data are read lazily with at
 * most one open handle per shard, opened on first read.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import type { Checkpoint, TensorInfo } from './checkpoint.js';
import { SafetensorsFile } from './safetensors/reader.js';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';

export type ModelFolderLayout =
  | { readonly kind: 'single'; readonly file: string }
  | {
      readonly kind: 'sharded';
      readonly indexFile: string;
      /** tensor name → shard file name (relative to the folder) */
      readonly weightMap: ReadonlyMap<string, string>;
      /** distinct shard file names, sorted */
      readonly shardFiles: readonly string[];
      readonly metadata: Readonly<Record<string, unknown>>;
    };

export interface ShardSummary {
  readonly file: string;
  readonly tensors: number;
  readonly bytes: number;
}

const PICKLE_FILES = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];

/** Decides how a folder stores its weights; parses (but does not yet cross-check) the index. */
export function resolveModelFolder(dir: string): ModelFolderLayout {
  if (!existsSync(dir)) {
    throw new CheckpointError('model folder does not exist', {
      code: 'CHECKPOINT_NOT_FOUND',
      file: dir,
      hint: 'check the path; modelevo reads local Hugging Face folders (download with `huggingface-cli download <id> --local-dir <dir>`)',
    });
  }
  if (!statSync(dir).isDirectory()) {
    throw new CheckpointError('expected a model folder, got a file', {
      code: 'CHECKPOINT_INVALID',
      file: dir,
      hint: 'pass the folder holding config.json and the .safetensors weights',
    });
  }
  const indexFile = join(dir, INDEX_FILE);
  if (existsSync(indexFile)) return parseIndex(indexFile);
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) return { kind: 'single', file: single };
  const present = readdirSync(dir);
  const pickles = present.filter((f) => PICKLE_FILES.includes(f) || /^pytorch_model-\d+-of-\d+\.bin$/.test(f));
  if (pickles.length > 0) {
    throw new CheckpointError(`weights are PyTorch pickles (${pickles.join(', ')}), which modelevo does not read`, {
      code: 'CHECKPOINT_UNSUPPORTED',
      file: dir,
      hint: 'convert to safetensors first, e.g. `AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)`',
      details: { present },
    });
  }
  throw new CheckpointError(`no ${INDEX_FILE} or ${SINGLE_FILE} in the folder (found: ${present.join(', ') || 'nothing'})`, {
    code: 'CHECKPOINT_NOT_FOUND',
    file: dir,
    hint: present.includes('adapter_config.json')
      ? 'this is a PEFT adapter folder: use `<base folder>+<adapter folder>`'
      : 'pass a folder written by `save_pretrained` (safetensors weights)',
    details: { present },
  });
}

function parseIndex(indexFile: string): ModelFolderLayout {
  const invalid = (message: string, hint: string): never => {
    throw new CheckpointError(message, { file: indexFile, hint });
  };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch (cause) {
    return invalid(`not valid JSON: ${(cause as Error).message}`, 'regenerate the index with `save_pretrained`');
  }
  const weightMapJson = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMapJson !== 'object' || weightMapJson === null || Array.isArray(weightMapJson)) {
    return invalid('missing "weight_map" object', 'the index must be {"metadata": {...}, "weight_map": {"<tensor>": "<shard>"}}');
  }
  const weightMap = new Map<string, string>();
  const shardFiles: string[] = [];
  for (const [tensor, shard] of Object.entries(weightMapJson)) {
    if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '.' || shard === '..') {
      invalid(`weight_map["${tensor}"] is ${JSON.stringify(shard)}, expected a shard file name in the same folder`, 'fix the weight_map entry');
    }
    weightMap.set(tensor, shard as string);
    if (!shardFiles.includes(shard as string)) shardFiles.push(shard as string);
  }
  const metadataJson = (json as { metadata?: unknown }).metadata;
  const metadata = typeof metadataJson === 'object' && metadataJson !== null ? (metadataJson as Record<string, unknown>) : {};
  // model-00001-of-0000N… sorts into shard order; the weight_map itself is usually alphabetical by tensor
  shardFiles.sort();
  return { kind: 'sharded', indexFile, weightMap, shardFiles, metadata };
}

interface Located {
  readonly shard: string;
  readonly info: TensorInfo;
}

export class HfCheckpoint implements Checkpoint {
  readonly source: string;
  /** the folder the shards are read from */
  readonly dir: string;
  readonly config: Record<string, unknown> | undefined;
  readonly layout: ModelFolderLayout;
  private readonly tensors: Map<string, Located>;
  private readonly shardOrder: string[];
  private readonly handles = new Map<string, SafetensorsFile>();
  private closed = false;

  private constructor(dir: string, source: string, layout: ModelFolderLayout, tensors: Map<string, Located>, shardOrder: string[]) {
    this.dir = dir;
    this.source = source;
    this.layout = layout;
    this.tensors = tensors;
    this.shardOrder = shardOrder;
    this.config = readConfig(dir);
  }

  /** Opens and validates a folder; shard headers are read and their handles closed again until data is read. */
  static open(dir: string, options: { source?: string } = {}): HfCheckpoint {
    const source = options.source ?? dir;
    const layout = resolveModelFolder(dir);
    const tensors = new Map<string, Located>();
    if (layout.kind === 'single') {
      const shard = basename(layout.file);
      for (const info of readShardInfos(layout.file)) tensors.set(info.name, { shard, info });
      return new HfCheckpoint(dir, source, layout, tensors, [shard]);
    }
    for (const shard of layout.shardFiles) {
      const path = join(dir, shard);
      if (!existsSync(path)) {
        const mapped = [...layout.weightMap].filter(([, s]) => s === shard).length;
        throw new CheckpointError(`index names shard '${shard}' (${mapped} tensors) but the file does not exist`, {
          file: layout.indexFile,
          hint: 'copy the missing shard into the folder, or regenerate the folder with `save_pretrained`',
          details: { shard },
        });
      }
      for (const info of readShardInfos(path)) {
        const previous = tensors.get(info.name);
        if (previous !== undefined) {
          throw new CheckpointError(`tensor is stored in two shards, '${previous.shard}' and '${shard}'`, {
            file: layout.indexFile,
            tensor: info.name,
            hint: 'each tensor must be stored exactly once; remove the duplicate or regenerate the folder',
          });
        }
        tensors.set(info.name, { shard, info });
      }
    }
    // checked after every shard is read so that a duplicate is reported as such, not as a map mismatch
    for (const [name, { shard }] of tensors) {
      const mappedTo = layout.weightMap.get(name);
      if (mappedTo !== shard) {
        throw new CheckpointError(
          mappedTo === undefined
            ? `shard '${shard}' holds a tensor that the index's weight_map does not list`
            : `shard '${shard}' holds a tensor that the index maps to '${mappedTo}'`,
          { file: layout.indexFile, tensor: name, hint: 'the index and the shards disagree; regenerate the index' },
        );
      }
    }
    for (const [name, shard] of layout.weightMap) {
      if (!tensors.has(name)) {
        throw new CheckpointError(`index maps the tensor to '${shard}' but that shard does not contain it`, {
          file: layout.indexFile,
          tensor: name,
          hint: 'the index and the shards disagree; regenerate the folder with `save_pretrained`',
        });
      }
    }
    return new HfCheckpoint(dir, source, layout, tensors, [...layout.shardFiles]);
  }

  names(): string[] {
    this.assertOpen();
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    return this.locate(name).info;
  }

  readBytes(name: string): Uint8Array {
    return this.handle(this.locate(name).shard).readBytes(name);
  }

  readFloat32(name: string): Float32Array {
    return this.handle(this.locate(name).shard).readFloat32(name);
  }

  /** Reads `target.length` stored bytes of the tensor from `byteOffset` on (SafetensorsFile.readRangeInto). */
  readRangeInto(name: string, byteOffset: number, target: Uint8Array): void {
    this.handle(this.locate(name).shard).readRangeInto(name, byteOffset, target);
  }

  /** Descriptor and absolute position of a stored byte range of the tensor (SafetensorsFile.fileRange). */
  fileRange(name: string, byteOffset: number, length: number): { readonly fd: number; readonly position: number } {
    return this.handle(this.locate(name).shard).fileRange(name, byteOffset, length);
  }

  /** file name, tensor count and data bytes per shard, in shard order */
  shards(): ShardSummary[] {
    return this.shardOrder.map((file) => {
      let count = 0;
      let bytes = 0;
      for (const { shard, info } of this.tensors.values()) {
        if (shard !== file) continue;
        count++;
        bytes += info.byteLength;
      }
      return { file, tensors: count, bytes };
    });
  }

  /** number of shard files currently open (at most one per shard) */
  openHandleCount(): number {
    return this.handles.size;
  }

  close(): void {
    for (const file of this.handles.values()) file.close();
    this.handles.clear();
    this.closed = true;
  }

  private locate(name: string): Located {
    this.assertOpen();
    const located = this.tensors.get(name);
    if (located === undefined) {
      throw new CheckpointError(`no tensor named '${name}' in the model (${this.tensors.size} tensors)`, {
        code: 'TENSOR_NOT_FOUND',
        file: this.source,
        tensor: name,
        hint: 'list the tensor names with `modelevo inspect <folder> --tensors`',
      });
    }
    return located;
  }

  private handle(shard: string): SafetensorsFile {
    let file = this.handles.get(shard);
    if (file === undefined) {
      file = SafetensorsFile.open(join(this.dir, shard));
      this.handles.set(shard, file);
    }
    return file;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new CheckpointError('checkpoint is closed', { code: 'IO_FAILED', file: this.source, hint: 'open the folder again' });
    }
  }
}

function readShardInfos(path: string): TensorInfo[] {
  const file = SafetensorsFile.open(path);
  try {
    return file.names().map((name) => file.info(name));
  } finally {
    file.close();
  }
}

/** Parsed config.json, or undefined when the folder has none. */
export function readConfig(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new CheckpointError(`not valid JSON: ${(cause as Error).message}`, {
      code: 'CONFIG_INVALID',
      file: path,
      hint: 'fix or regenerate config.json',
      cause,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError('config.json is not a JSON object', { code: 'CONFIG_INVALID', file: path, hint: 'fix or regenerate config.json' });
  }
  return json as Record<string, unknown>;
}
