/**
 * Trained detectors as safetensors files, so `modelevo inspect`, `merge` and `kinship` read them like any
 * checkpoint. Tensors are F32 in PyTorch layout; the genome and input width travel in `__metadata__`.
 */
import { CheckpointError } from '../../core/errors.js';
import { SafetensorsFile } from '../../io/safetensors/reader.js';
import { writeSafetensors } from '../../io/safetensors/writer.js';
import type { ConvAutoencoderGenome, ModelWeights } from './conv-autoencoder.js';

export const MODEL_KIND = 'modelevo-conv-autoencoder';

export interface SavedModel {
  readonly genome: ConvAutoencoderGenome;
  /** input features (length of the convolved axis) */
  readonly features: number;
  readonly weights: ModelWeights;
  /** extra string metadata (e.g. feature indices, scaler, threshold) */
  readonly extra: Record<string, string>;
}

export function saveModel(path: string, model: SavedModel): void {
  const tensors = Object.entries(model.weights).map(([name, { shape, data }]) => ({
    name,
    dtype: 'F32' as const,
    shape,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  }));
  writeSafetensors(path, tensors, {
    ...model.extra,
    modelevo_kind: MODEL_KIND,
    genome: JSON.stringify(model.genome),
    features: String(model.features),
  });
}

export function loadModel(path: string): SavedModel {
  const file = SafetensorsFile.open(path);
  try {
    const metadata = file.metadata ?? {};
    if (metadata.modelevo_kind !== MODEL_KIND || metadata.genome === undefined || metadata.features === undefined) {
      throw new CheckpointError(`expected a modelevo conv autoencoder (metadata modelevo_kind=${MODEL_KIND}), found kind '${metadata.modelevo_kind ?? '<none>'}'`, {
        file: path,
        hint: 'pass a model written by `modelevo anomaly evolve` (artifacts/*.safetensors)',
      });
    }
    const weights: ModelWeights = {};
    for (const name of file.names()) weights[name] = { shape: file.info(name).shape, data: file.readFloat32(name) };
    const { modelevo_kind: _kind, genome, features, ...extra } = metadata;
    return { genome: JSON.parse(genome) as ConvAutoencoderGenome, features: Number(features), weights, extra };
  } finally {
    file.close();
  }
}
