/**
 * Parameter value resolution for mergekit configs (merge-methods.md §1.4 `evaluate_setting`, §1.5
 * `ConfigReader.parameter`): scalars, gradients interpolated over equally spaced anchors, non-number lists
 * indexed, conditional `{filter, value}` lists resolved first-match with substring filters, and the
 * precedence source → slice → (module) → global → method default.
 */
import { ConfigError } from '../core/errors.js';
import type { ParamSpec, ParamValue } from './method.js';

export type ScalarSetting = number | boolean | string;
export interface ConditionalEntry {
  readonly filter?: string;
  readonly value: ScalarSetting | readonly ScalarSetting[];
}
export type ParameterSetting =
  | ScalarSetting
  | readonly ScalarSetting[]
  | ConditionalEntry
  | readonly ConditionalEntry[];

function isScalar(value: unknown): value is ScalarSetting {
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string';
}

export function isConditionalEntry(value: unknown): value is ConditionalEntry {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value;
}

function describeScalarOrList(value: unknown): string | undefined {
  if (isScalar(value)) {
    return typeof value === 'number' && !Number.isFinite(value) ? `expected a finite number; got ${value}` : undefined;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return 'a list value must not be empty';
    const bad = value.find((v) => !isScalar(v) || (typeof v === 'number' && !Number.isFinite(v)));
    if (bad !== undefined) return `list entries must be numbers, booleans or strings; got ${JSON.stringify(bad)}`;
    return undefined;
  }
  return `expected a number, boolean, string or a list of them; got ${JSON.stringify(value) ?? String(value)}`;
}

function describeConditional(entry: unknown): string | undefined {
  if (!isConditionalEntry(entry)) {
    return `expected a {filter, value} entry; got ${JSON.stringify(entry)}`;
  }
  const extra = Object.keys(entry).filter((k) => k !== 'filter' && k !== 'value');
  if (extra.length > 0) return `unknown key '${extra[0]}' in a {filter, value} entry`;
  if (entry.filter !== undefined && typeof entry.filter !== 'string') {
    return `filter must be a string (a substring of tensor names, or "*"); got ${JSON.stringify(entry.filter)}`;
  }
  const problem = describeScalarOrList(entry.value);
  return problem ? `in value: ${problem}` : undefined;
}

/** Why `value` is not a valid parameter setting, or undefined when it is. */
export function describeSettingShape(value: unknown): string | undefined {
  if (isConditionalEntry(value)) return describeConditional(value);
  if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) {
    for (const entry of value) {
      const problem = describeConditional(entry);
      if (problem) return problem;
    }
    return undefined;
  }
  return describeScalarOrList(value);
}

/** Every scalar a setting can produce (for type checks against the method's ParamSpec). */
export function settingLeaves(setting: ParameterSetting): ScalarSetting[] {
  if (isScalar(setting)) return [setting];
  if (isConditionalEntry(setting)) return settingLeaves(setting.value);
  const out: ScalarSetting[] = [];
  for (const entry of setting as readonly (ScalarSetting | ConditionalEntry)[]) {
    if (isConditionalEntry(entry)) out.push(...settingLeaves(entry.value));
    else out.push(entry);
  }
  return out;
}

function filterMatches(filter: string | undefined, tensorName: string): boolean {
  return filter === undefined || filter === '*' || tensorName.includes(filter);
}

function evaluateScalarOrList(value: ScalarSetting | readonly ScalarSetting[], t: number): ScalarSetting {
  if (isScalar(value)) return value;
  const n = value.length;
  if (value.every((v) => typeof v === 'number')) {
    // gradient: piecewise-linear over equally spaced anchors (§1.4)
    const numbers = value as readonly number[];
    const scaled = t * (n - 1);
    const i0 = Math.floor(scaled);
    const i1 = Math.min(n - 1, i0 + 1);
    const frac = scaled - i0;
    const v0 = numbers[Math.min(i0, n - 1)]!;
    if (frac === 0) return v0;
    return (1 - frac) * v0 + frac * numbers[i1]!;
  }
  return value[Math.min(n - 1, Math.floor(t * (n - 1)))]!;
}

/**
 * One setting evaluated for one tensor at position t ∈ [0, 1]. Undefined when it is a conditional list and no
 * entry matches (resolution then falls through to the next precedence level).
 */
export function resolveSetting(setting: ParameterSetting, tensorName: string, t: number): ScalarSetting | undefined {
  if (isConditionalEntry(setting)) {
    return filterMatches(setting.filter, tensorName) ? evaluateScalarOrList(setting.value, t) : undefined;
  }
  if (Array.isArray(setting) && setting.some((entry) => isConditionalEntry(entry))) {
    for (const entry of setting as readonly ConditionalEntry[]) {
      if (filterMatches(entry.filter, tensorName)) return evaluateScalarOrList(entry.value, t);
    }
    return undefined;
  }
  return evaluateScalarOrList(setting as ScalarSetting | readonly ScalarSetting[], t);
}

/** Parameter maps at each precedence level, highest first; absent levels are undefined. */
export interface ParameterLevels {
  /** the source's own parameters in the current slice (models[*].parameters land here) */
  readonly source?: Readonly<Record<string, ParameterSetting>>;
  readonly slice?: Readonly<Record<string, ParameterSetting>>;
  readonly module?: Readonly<Record<string, ParameterSetting>>;
  readonly global?: Readonly<Record<string, ParameterSetting>>;
}

/**
 * §1.5: the first level that yields a value. The source level counts only for per-model parameters;
 * method-level ones are read with no model (P7).
 */
export function resolveParameter(
  name: string,
  scope: ParamSpec['scope'],
  levels: ParameterLevels,
  tensorName: string,
  t: number,
): ScalarSetting | undefined {
  const order = scope === 'model' ? [levels.source, levels.slice, levels.module, levels.global] : [levels.slice, levels.module, levels.global];
  for (const level of order) {
    const setting = level?.[name];
    if (setting === undefined) continue;
    const value = resolveSetting(setting, tensorName, t);
    if (value !== undefined) return value;
  }
  return undefined;
}

export interface ResolveContext {
  readonly method: string;
  readonly tensorName: string;
  readonly t: number;
  /** model reference for per-model parameters (messages only) */
  readonly model?: string;
  /** the base model does not need required per-model parameters */
  readonly isBase?: boolean;
}

/**
 * All parameters of one scope for one tensor (and model), defaults filled in. A required parameter with no
 * value is a ConfigError naming parameter, model and tensor.
 */
export function resolveParams(
  specs: readonly ParamSpec[],
  scope: ParamSpec['scope'],
  levels: ParameterLevels,
  context: ResolveContext,
): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const spec of specs) {
    if (spec.scope !== scope) continue;
    const value = resolveParameter(spec.name, scope, levels, context.tensorName, context.t) ?? spec.default;
    if (value !== undefined) {
      out[spec.name] = value;
      continue;
    }
    if (context.isBase) continue;
    const forModel = context.model ? ` for model '${context.model}'` : '';
    throw new ConfigError(
      [
        {
          path: ['parameters', spec.name],
          message: `merge method ${context.method} requires parameter '${spec.name}'${forModel}; no value applies to tensor '${context.tensorName}'`,
        },
      ],
      { hint: `set '${spec.name}' under that model's parameters or the global parameters (a catch-all {value: ...} entry ends a filter list)` },
    );
  }
  return out;
}
