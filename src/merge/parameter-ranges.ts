/**
 * Value ranges of merge parameters (merge-methods.md §2–§3), checked once at the config boundary so an
 * out-of-range value is refused before any model is read, with the config path (`models[0].parameters
 * .density`) rather than a model's file path: `density` is a fraction of a task vector (a value above 1 was
 * silently the same as 1), slerp's `t` a position between the two models (`t: 7` extrapolated 6× past them).
 */
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { parameterLocations, type MergeConfig } from './config.js';

interface Range {
  readonly min: number;
  readonly max: number;
  /** methods the range applies to (all when absent) */
  readonly methods?: readonly string[];
  readonly why: string;
}

export const PARAMETER_RANGES: Readonly<Record<string, Range>> = {
  density: { min: 0, max: 1, why: 'the fraction of each task vector kept' },
  t: { min: 0, max: 1, methods: ['slerp'], why: 'the position between the base (0) and the other model (1)' },
};

/** Every number a parameter value holds: a scalar, a gradient list, or filtered `{filter, value}` entries. */
function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbersIn);
  if (value !== null && typeof value === 'object' && 'value' in value) return numbersIn((value as { value: unknown }).value);
  return [];
}

export function checkParameterRanges(config: MergeConfig, source?: string): void {
  const issues: ConfigIssue[] = [];
  for (const { path, parameters } of parameterLocations(config)) {
    for (const [key, value] of Object.entries(parameters)) {
      const range = PARAMETER_RANGES[key];
      if (!range || (range.methods && !range.methods.includes(config.merge_method))) continue;
      const outside = numbersIn(value).filter((v) => !(v >= range.min && v <= range.max));
      if (outside.length > 0) {
        issues.push({ path: [...path, key], message: `'${key}' (${range.why}) must be in [${range.min}, ${range.max}], got ${outside.join(', ')}` });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { source, hint: 'bring the values listed above into their ranges' });
}
