/**
 * mergekit-evolve genome layout and decoding (spec: evolutionary-merging.md §1): a real vector shaped
 * [layer groups × models × parameter sets × parameters], decoded into a plain mergekit configuration object
 * (the same structure `modelevo merge` reads from YAML). CMA-ES, random search and grid search evolve it.
 */
import { ModelevoError } from '../core/errors.js';

export type EvolvableMethod = 'linear' | 'task_arithmetic' | 'ties' | 'dare_ties' | 'slerp';

/** genes per method, in order (mergekit `METHOD_PARAM_MAPS`) */
export const METHOD_GENES: Record<EvolvableMethod, readonly ('weight' | 'density' | 't')[]> = {
  linear: ['weight'],
  task_arithmetic: ['weight'],
  ties: ['weight', 'density'],
  dare_ties: ['weight', 'density'],
  slerp: ['t'],
};

export interface GenomeDefinition {
  readonly models: readonly string[];
  readonly mergeMethod: EvolvableMethod;
  readonly baseModel?: string;
  readonly numLayers: number;
  /** layers per group; 0 = one group for the whole stack */
  readonly layerGranularity: number;
  readonly normalize?: boolean;
  readonly allowNegativeWeights: boolean;
  /** tensor-name substrings, each with its own parameter set, plus a catch-all */
  readonly filters: readonly string[];
  /** one gradient list per model over the stack instead of one slice per group */
  readonly smooth: boolean;
  readonly dtype: string;
}

export interface GenomeShape {
  readonly layerGroups: number;
  readonly models: number;
  readonly paramSets: number;
  readonly params: number;
  readonly length: number;
}

type ParamValue = number | number[] | { filter?: string; value: number | number[] }[];
export interface MergeConfigObject {
  merge_method: EvolvableMethod;
  base_model?: string;
  models?: { model: string; parameters?: Record<string, ParamValue> }[];
  slices?: {
    sources: { model: string; layer_range: [number, number]; parameters?: Record<string, ParamValue> }[];
    base_model?: string;
    parameters?: Record<string, ParamValue>;
  }[];
  parameters?: Record<string, boolean | number>;
  dtype: string;
}

export function validateGenomeDefinition(def: GenomeDefinition): void {
  const problems: string[] = [];
  if (def.models.length < 2) problems.push(`at least 2 models are needed, got ${def.models.length}`);
  if (['ties', 'dare_ties', 'task_arithmetic'].includes(def.mergeMethod) && !def.baseModel) {
    problems.push(`${def.mergeMethod} needs base_model`);
  }
  if (def.mergeMethod === 'slerp' && (def.smooth || def.filters.length > 0)) problems.push('slerp excludes smooth and filters');
  if (def.layerGranularity < 0 || (def.layerGranularity > 0 && def.numLayers % def.layerGranularity !== 0)) {
    problems.push(`layer_granularity ${def.layerGranularity} must divide num_hidden_layers ${def.numLayers}`);
  }
  if (problems.length > 0) {
    throw new ModelevoError('CONFIG_INVALID', `invalid genome definition: ${problems.join('; ')}`, {
      hint: 'see the genome section of evolutionary-merging.md §1',
    });
  }
}

export function genomeShape(def: GenomeDefinition): GenomeShape {
  const layerGroups = def.layerGranularity === 0 ? 1 : def.numLayers / def.layerGranularity;
  const paramSets = def.filters.length + 1;
  const params = METHOD_GENES[def.mergeMethod].length;
  return { layerGroups, models: def.models.length, paramSets, params, length: layerGroups * def.models.length * paramSets * params };
}

/** weight (and t) genes 1/n_models, density genes 1 */
export function initialGenome(def: GenomeDefinition): number[] {
  const shape = genomeShape(def);
  const genes = METHOD_GENES[def.mergeMethod];
  const out: number[] = [];
  for (let g = 0; g < shape.layerGroups; g++)
    for (let m = 0; m < shape.models; m++)
      for (let s = 0; s < shape.paramSets; s++) for (const gene of genes) out.push(gene === 'density' ? 1 : 1 / shape.models);
  return out;
}

function gene(def: GenomeDefinition, genome: readonly number[], group: number, model: number, set: number, param: number): number {
  const shape = genomeShape(def);
  const index = ((group * shape.models + model) * shape.paramSets + set) * shape.params + param;
  const x = genome[index]!;
  const name = METHOD_GENES[def.mergeMethod][param];
  if (name === 'density') return Math.min(1, Math.abs(x));
  return def.allowNegativeWeights ? x : Math.abs(x);
}

function modelParameters(def: GenomeDefinition, genome: readonly number[], groups: number[], model: number): Record<string, ParamValue> {
  const genes = METHOD_GENES[def.mergeMethod];
  const shape = genomeShape(def);
  const out: Record<string, ParamValue> = {};
  genes.forEach((name, p) => {
    const valueFor = (set: number): number | number[] =>
      groups.length === 1 ? gene(def, genome, groups[0]!, model, set, p) : groups.map((g) => gene(def, genome, g, model, set, p));
    if (shape.paramSets === 1) out[name] = valueFor(0);
    else {
      out[name] = [...def.filters.map((filter, s) => ({ filter, value: valueFor(s) })), { value: valueFor(def.filters.length) }];
    }
  });
  return out;
}

function globalParameters(def: GenomeDefinition): Record<string, boolean | number> | undefined {
  if (def.mergeMethod === 'slerp' || def.mergeMethod === 'task_arithmetic') return def.normalize === undefined ? undefined : { normalize: def.normalize };
  return { normalize: def.normalize ?? true, ...(def.mergeMethod === 'linear' ? {} : { int8_mask: true }) };
}

function softmaxSecond(a: number, b: number): number {
  const m = Math.max(a, b);
  return Math.exp(b - m) / (Math.exp(a - m) + Math.exp(b - m));
}

/** Decodes a genome into a mergekit configuration (§1 "Decoding"). */
export function decodeGenome(def: GenomeDefinition, genome: readonly number[]): MergeConfigObject {
  const shape = genomeShape(def);
  if (genome.length !== shape.length) {
    throw new ModelevoError('VALUE_INVALID', `genome has ${genome.length} genes, expected ${shape.length} (${shape.layerGroups} groups × ${shape.models} models × ${shape.paramSets} parameter sets × ${shape.params} parameters)`);
  }
  const groupSize = def.layerGranularity === 0 ? def.numLayers : def.layerGranularity;
  const parameters = globalParameters(def);
  const base = def.baseModel;

  if (def.mergeMethod === 'slerp') {
    const slices = Array.from({ length: shape.layerGroups }, (_, g) => {
      const ranked = def.models
        .map((model, m) => ({ model, w: gene(def, genome, g, m, 0, 0) }))
        .sort((a, b) => b.w - a.w);
      const [top, second] = [ranked[0]!, ranked[1]!];
      const range: [number, number] = [g * groupSize, (g + 1) * groupSize];
      return {
        sources: [{ model: top.model, layer_range: range }, { model: second.model, layer_range: range }],
        base_model: top.model,
        parameters: { t: softmaxSecond(top.w, second.w) },
      };
    });
    return { merge_method: 'slerp', slices, dtype: def.dtype };
  }

  const common = { merge_method: def.mergeMethod, ...(base ? { base_model: base } : {}), ...(parameters ? { parameters } : {}), dtype: def.dtype };
  const allGroups = Array.from({ length: shape.layerGroups }, (_, g) => g);
  if (def.smooth || shape.layerGroups === 1) {
    const models = def.models.map((model, m) => ({ model, parameters: modelParameters(def, genome, allGroups, m) }));
    if (base && !def.models.includes(base)) models.push({ model: base, parameters: {} });
    return { ...common, models: models.map((m) => (Object.keys(m.parameters).length ? m : { model: m.model })) };
  }
  const slices = allGroups.map((g) => {
    const range: [number, number] = [g * groupSize, (g + 1) * groupSize];
    const sources: NonNullable<MergeConfigObject['slices']>[number]['sources'] = def.models.map((model, m) => ({
      model,
      layer_range: range,
      parameters: modelParameters(def, genome, [g], m),
    }));
    if (base && !def.models.includes(base)) sources.push({ model: base, layer_range: range });
    return { sources };
  });
  return { ...common, slices };
}

/**
 * One readable name per gene, in genome order: model × layer group (× filter set) × parameter, e.g.
 * `expert-code × layers 0–1 · weight`, so reports can label a genome instead of printing bare numbers.
 * `label` shortens a model reference for display (default: the reference as written).
 */
export function geneNames(def: GenomeDefinition, label: (model: string) => string = (m) => m): string[] {
  const shape = genomeShape(def);
  const groupSize = def.layerGranularity === 0 ? def.numLayers : def.layerGranularity;
  const sets = [...def.filters.map((f) => `[${f}]`), def.filters.length ? '[other]' : ''];
  const names: string[] = [];
  for (let g = 0; g < shape.layerGroups; g++) {
    const layers = shape.layerGroups === 1 ? 'all layers' : `layers ${g * groupSize}–${(g + 1) * groupSize - 1}`;
    for (const model of def.models)
      for (const set of sets) for (const gene of METHOD_GENES[def.mergeMethod]) names.push(`${label(model)} × ${layers}${set ? ` ${set}` : ''} · ${gene}`);
  }
  return names;
}
