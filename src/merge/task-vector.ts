/**
 * The generalized task-arithmetic pipeline (merge-methods.md §3.6; mergekit
 * `generalized_task_arithmetic.py`): δ_i = X_i − B → sparsify → rescale → D_i = w_i·δ_i → optional sign
 * consensus → mix → optional normalise → out = B + λ·Δ. task_arithmetic, ties, dare_*, breadcrumbs*,
 * della* are configurations of this one pipeline (`defineTaskVectorMethod`).
 */
import { ConfigError } from '../core/errors.js';
import { combineTaskVectorsAs } from './consensus-f32.js';
import { booleanParam, checkElementCounts, numberParam, requireBase } from './method-params.js';
import type { MergeMethod, ParamSpec, ParamValue, TensorMergeInput } from './method.js';
import { sparsify, type RescaleMode, type SparsifierName } from './sparsify.js';
import { TRIM_THRESHOLD_KEY, TRIM_TIE_QUOTA_KEY } from './trim-scope.js';
import { EXTRA_CHANNELS_SPEC } from './extra-channels.js';

export interface TaskVectorMethodConfig {
  readonly name: string;
  readonly title: string;
  readonly reference: string;
  /** undefined: no sparsifier (task_arithmetic) */
  readonly sparsifier: SparsifierName | undefined;
  readonly consensus: boolean;
  /** defaults of the `normalize` and `rescale` parameters (§3.6 table) */
  readonly normalize: boolean;
  readonly rescale: boolean;
  /** expose `extra_channels` (AnyFit's channel rule, extra-channels.ts); task_arithmetic only */
  readonly extraChannels?: boolean;
}

const RESCALE_VALUES = ['false', 'true', 'l1', 'inverse_density'] as const;

/** The parameter specs a configuration exposes (§2 table and §1.8 additions). */
export function taskVectorParamSpecs(config: TaskVectorMethodConfig): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: 'normalize', scope: 'global', type: 'boolean', default: config.normalize, description: 'divide by the sum of (agreeing) weights' },
    {
      name: 'rescale',
      scope: 'global',
      type: 'enum',
      values: RESCALE_VALUES,
      default: config.rescale,
      description: 'after sparsifying: false; true or l1 (match the L1 norm, mergekit); inverse_density (papers)',
    },
    { name: 'lambda', scope: 'global', type: 'number', default: 1.0, description: 'scale of the merged task vector' },
    { name: 'int8_mask', scope: 'global', type: 'boolean', default: false, description: 'accepted for mergekit compatibility; no effect on results' },
    { name: 'weight', scope: 'model', type: 'number', description: 'weight of this task vector (may be negative)' },
    { name: 'density', scope: 'model', type: 'number', default: 1.0, description: 'fraction of the task vector kept by the sparsifier' },
  ];
  if (config.sparsifier === 'magnitude') {
    specs.push({
      name: 'trim_scope',
      scope: 'global',
      type: 'enum',
      values: ['tensor', 'model'],
      default: 'tensor',
      description: 'top-k per tensor (mergekit) or over the whole model per task vector (TIES paper, P4)',
    });
  }
  if (config.sparsifier === 'magnitude_outliers') {
    specs.push(
      { name: 'gamma', scope: 'model', type: 'number', default: 0.01, description: 'fraction of largest-magnitude entries dropped' },
      {
        name: 'breadcrumbs_empty_band',
        scope: 'global',
        type: 'boolean',
        default: false,
        description: 'reproduce mergekit: when no outliers are dropped, nothing is kept (P3)',
      },
    );
  }
  if (config.sparsifier === 'della_magprune') {
    specs.push({ name: 'epsilon', scope: 'model', type: 'number', default: 0.15, description: 'half-width of the keep-probability window' });
  }
  if (config.extraChannels === true) specs.push(EXTRA_CHANNELS_SPEC);
  return specs;
}

/** A MergeMethod running the shared pipeline with this configuration. */
export function defineTaskVectorMethod(config: TaskVectorMethodConfig): MergeMethod {
  return {
    name: config.name,
    title: config.title,
    reference: config.reference,
    baseModel: 'required',
    models: { min: 1 },
    params: taskVectorParamSpecs(config),
    mergeTensor: (input) => mergeTaskVectors(config, input),
    // every configuration of the pipeline has the kernel twin (fast-task-vectors.ts), bit-identical for a seed
    fastPath: { kind: 'task_vector', sparsifier: config.sparsifier, consensus: config.consensus, rescale: config.rescale },
  };
}

function mergeTaskVectors(config: TaskVectorMethodConfig, input: TensorMergeInput): Float32Array {
  const base = requireBase(input, config.name);
  checkElementCounts(input); // P13: a shape mismatch is an error, not a silently dropped model
  const lambda = numberParam(input.params, 'lambda', config.name, input.tensorName);
  const normalize = booleanParam(input.params, 'normalize', config.name, input.tensorName);
  const rescale = readRescale(input.params.rescale ?? config.rescale, config.name);
  const modelScope = config.sparsifier === 'magnitude' && input.params.trim_scope === 'model';
  const emptyBand = config.sparsifier === 'magnitude_outliers' && input.params.breadcrumbs_empty_band === true;

  const weights: number[] = [];
  const deltas = input.models.map((model, i) => {
    const params = input.modelParams[i] ?? {};
    const modelRef = input.modelRefs[i] ?? `#${i}`;
    weights.push(numberParam(params, 'weight', config.name, input.tensorName, modelRef));
    const delta = subtract(model, base);
    if (config.sparsifier === undefined) return delta;
    return sparsify(config.sparsifier, delta, {
      density: numberParam(params, 'density', config.name, input.tensorName, modelRef),
      rescale,
      shape: input.shape,
      ...(typeof params.gamma === 'number' ? { gamma: params.gamma } : {}),
      ...(typeof params.epsilon === 'number' ? { epsilon: params.epsilon } : {}),
      emptyBand,
      stream: config.sparsifier === 'random' || config.sparsifier === 'della_magprune' ? input.streamFor(i) : undefined,
      ...(modelScope ? { cut: precomputedCut(params, input, modelRef) } : {}),
      inPlace: true,
      tensorName: input.tensorName,
      modelRef,
      warn: (message) => input.warn(message),
    });
  });
  return combineTaskVectorsAs(input.arithmetic ?? 'float64', { base, deltas, weights, consensus: config.consensus, normalize, lambda });
}

/** δ = X − B, rounded to float32 (element-wise arithmetic in float32, §0). */
export function subtract(model: Float32Array, base: Float32Array): Float32Array {
  const out = new Float32Array(base.length);
  for (let j = 0; j < base.length; j++) out[j] = model[j]! - base[j]!;
  return out;
}

function precomputedCut(params: Readonly<Record<string, ParamValue>>, input: TensorMergeInput, modelRef: string) {
  const threshold = params[TRIM_THRESHOLD_KEY];
  const quota = params[TRIM_TIE_QUOTA_KEY];
  if (typeof threshold !== 'number') {
    throw new ConfigError(
      [
        {
          path: ['parameters', 'trim_scope'],
          message: `trim_scope: model needs a whole-model threshold for model '${modelRef}' (tensor '${input.tensorName}'), none was provided`,
        },
      ],
      { hint: 'the executor must call computeModelTrimThresholds (src/merge/trim-scope.ts) before merging; or use trim_scope: tensor' },
    );
  }
  return { threshold, tiesToKeep: typeof quota === 'number' ? quota : Infinity };
}

/** `rescale`: false → none; true or 'l1' → l1 (P1/P2 default); 'inverse_density' → the papers' form. */
export function readRescale(value: ParamValue, method: string): RescaleMode {
  if (value === false || value === 'false') return 'none';
  if (value === true || value === 'true' || value === 'l1') return 'l1';
  if (value === 'inverse_density') return 'inverse_density';
  throw new ConfigError([{ path: ['parameters', 'rescale'], message: `${method}: 'rescale' must be one of ${RESCALE_VALUES.join(', ')}, got ${JSON.stringify(value)}` }], {
    hint: "use rescale: l1 (mergekit) or rescale: inverse_density (the papers' 1/density)",
  });
}
