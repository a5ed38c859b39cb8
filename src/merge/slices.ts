/**
 * A config's models as output slices (merge-methods.md §1.3, §1.5): `models:` becomes one slice over whole
 * stacks (the base appended as a source when not listed, every model of one depth), `slices:` keeps its
 * sources with their layer ranges checked against each model's layer count.
 */
import { ConfigError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { numLayersOf, parseTensorName, type ArchitectureData } from './architecture.js';
import type { MergeConfig, ParameterMap } from './config.js';
import type { MergeMethod } from './method.js';

export interface PlanModels {
  /** normalised key of a reference (two references are the same model iff their keys are equal) */
  keyOf(ref: string): string;
  /** the opened checkpoint for a key */
  get(key: string): Checkpoint;
}

export interface SliceSource {
  readonly ref: string;
  readonly key: string;
  readonly start: number;
  readonly parameters: ParameterMap | undefined;
  readonly path: (string | number)[];
}

export interface NormalisedSlice {
  readonly sources: readonly SliceSource[];
  readonly length: number;
  readonly baseKey: string | undefined;
  readonly parameters: ParameterMap | undefined;
}

function layerCount(arch: ArchitectureData, models: PlanModels, key: string, ref: string): number {
  if (!arch.layered) return 0;
  const checkpoint = models.get(key);
  const fromConfig = numLayersOf(arch, checkpoint.config);
  if (fromConfig !== undefined) return fromConfig;
  let max = -1;
  for (const name of checkpoint.names()) max = Math.max(max, parseTensorName(arch, name).layer ?? -1);
  if (max < 0) {
    throw new ConfigError([{ path: ['models'], message: `cannot tell how many layers '${ref}' has` }], {
      hint: `give the model a config.json with ${arch.numLayersKey}`,
    });
  }
  return max + 1;
}

export function normaliseSlices(config: MergeConfig, method: MergeMethod, arch: ArchitectureData, models: PlanModels): NormalisedSlice[] {
  const usesBase = method.baseModel !== 'unused';
  const globalBaseKey = usesBase && config.base_model !== undefined ? models.keyOf(config.base_model) : undefined;
  if (config.models) {
    const sources: SliceSource[] = config.models.map((entry, i) => ({
      ref: entry.model,
      key: models.keyOf(entry.model),
      start: 0,
      parameters: entry.parameters,
      path: ['models', i],
    }));
    if (globalBaseKey !== undefined && config.base_model !== undefined && !sources.some((s) => s.key === globalBaseKey)) {
      sources.push({ ref: config.base_model, key: globalBaseKey, start: 0, parameters: undefined, path: ['base_model'] });
    }
    const lengths = sources.map((s) => layerCount(arch, models, s.key, s.ref));
    const length = lengths[0]!;
    const odd = lengths.findIndex((n) => n !== length);
    if (odd >= 0) {
      throw new ConfigError(
        [{ path: sources[odd]!.path, message: `'${sources[odd]!.ref}' has ${lengths[odd]} layers but '${sources[0]!.ref}' has ${length}` }],
        { hint: 'models: merges whole stacks; use slices: with layer_range to combine models of different depth' },
      );
    }
    return [{ sources, length, baseKey: globalBaseKey, parameters: undefined }];
  }
  return (config.slices ?? []).map((slice, s) => {
    const sources = slice.sources.map((source, i): SliceSource => {
      const key = models.keyOf(source.model);
      const [start, end] = source.layer_range;
      const available = layerCount(arch, models, key, source.model);
      if (end > available) {
        throw new ConfigError(
          [
            {
              path: ['slices', s, 'sources', i, 'layer_range'],
              message: `expected end ≤ ${available} (the number of layers of '${source.model}'); got [${start}, ${end}]`,
            },
          ],
          { hint: 'layer_range is [start, end) over the source model’s layers' },
        );
      }
      return { ref: source.model, key, start, parameters: source.parameters, path: ['slices', s, 'sources', i] };
    });
    const first = slice.sources[0]!.layer_range;
    const baseRef = usesBase ? (slice.base_model ?? config.base_model) : undefined;
    return {
      sources,
      length: first[1] - first[0],
      baseKey: baseRef === undefined ? undefined : models.keyOf(baseRef),
      parameters: slice.parameters,
    };
  });
}
