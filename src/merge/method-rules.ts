/**
 * The method-specific rules of a merge configuration (merge-methods.md §1.2, §2): parameter names and value
 * types against the method's declared `params`, method-level parameters given per model, the base-model
 * requirement and model counts per slice. config.ts checks the shape every method shares; this checks what
 * one method's declarative data asks for.
 */
import { ConfigError, closestName, formatPath, type ConfigIssue } from '../core/errors.js';
import { parameterLocations, type MergeConfig } from './config.js';
import type { MergeMethod, ParamSpec } from './method.js';
import { settingLeaves } from './parameters.js';

function leafMatchesSpec(leaf: unknown, spec: ParamSpec): boolean {
  switch (spec.type) {
    case 'number':
      return typeof leaf === 'number' && Number.isFinite(leaf);
    case 'boolean':
      return typeof leaf === 'boolean';
    case 'enum': {
      const allowed = spec.values ?? [];
      return allowed.includes(String(leaf)) && (typeof leaf === 'string' || typeof leaf === 'boolean');
    }
  }
}

function expectedText(spec: ParamSpec): string {
  if (spec.type === 'enum') return `one of ${(spec.values ?? []).join(', ')}`;
  return spec.type === 'number' ? 'a finite number (or a gradient list of numbers)' : 'true or false';
}

/**
 * The method-specific rules: parameter names and value types, per-model parameters placed at model level,
 * base-model requirement and model counts. Returns non-fatal warnings (P7, P10); throws ConfigError otherwise.
 * `sameModel` compares two references after path normalisation (§1.2).
 */
export function checkMethodRules(
  config: MergeConfig,
  method: MergeMethod,
  sameModel: (a: string, b: string) => boolean = (a, b) => a === b,
): string[] {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const specs = new Map(method.params.map((spec) => [spec.name, spec]));
  const validNames = method.params.map((spec) => spec.name);

  for (const location of parameterLocations(config)) {
    for (const [name, setting] of Object.entries(location.parameters)) {
      const path = [...location.path, name];
      const spec = specs.get(name);
      if (!spec) {
        if (name === 'weight') {
          // P10: mergekit ignores weights for methods that take none; so do we, loudly.
          warnings.push(`${formatPath(path)}: ${method.name} takes no weights; 'weight' is ignored`);
          continue;
        }
        const closest = closestName(name, validNames);
        issues.push({
          path,
          message: `unknown parameter '${name}' for merge method ${method.name}${closest ? ` (did you mean '${closest}'?)` : ''}; valid: ${validNames.join(', ') || 'none'}`,
        });
        continue;
      }
      for (const leaf of settingLeaves(setting)) {
        if (!leafMatchesSpec(leaf, spec)) {
          issues.push({ path, message: `expected ${expectedText(spec)}; got ${JSON.stringify(leaf)}` });
          break;
        }
      }
      if (spec.scope === 'global' && location.perSource) {
        // P7: mergekit silently ignores method-level parameters given per model.
        warnings.push(
          `${formatPath(path)}: '${name}' is a method-level parameter of ${method.name}; a per-model value is ignored — put it under the global or slice parameters`,
        );
      }
    }
  }

  const slices: { path: (string | number)[]; refs: string[]; base: string | undefined; basePath: (string | number)[] }[] = [];
  if (config.models) {
    const refs = config.models.map((m) => m.model);
    slices.push({ path: ['models'], refs, base: config.base_model, basePath: ['base_model'] });
  } else {
    config.slices?.forEach((slice, s) => {
      slices.push({
        path: ['slices', s, 'sources'],
        refs: slice.sources.map((source) => source.model),
        base: slice.base_model ?? config.base_model,
        basePath: slice.base_model ? ['slices', s, 'base_model'] : ['base_model'],
      });
    });
  }
  for (const slice of slices) {
    const base = method.baseModel === 'unused' ? undefined : slice.base;
    if (method.baseModel === 'required' && base === undefined) {
      issues.push({ path: slice.basePath, message: `merge method ${method.name} requires a base_model` });
      continue;
    }
    if (config.slices && base !== undefined && !slice.refs.some((ref) => sameModel(ref, base))) {
      issues.push({
        path: slice.path,
        message: `base_model '${base}' must be one of this slice's sources (add it with the same layer_range length)`,
      });
      continue;
    }
    const others = slice.refs.filter((ref) => base === undefined || !sameModel(ref, base)).length;
    const { min, max } = method.models;
    if (others < min || (max !== undefined && others > max)) {
      const range = max === undefined ? `at least ${min}` : min === max ? `exactly ${min}` : `${min} to ${max}`;
      issues.push({
        path: slice.path,
        message: `merge method ${method.name} takes ${range} model(s) besides the base; got ${others}`,
      });
    }
  }
  if (issues.length > 0) {
    throw new ConfigError(issues, { hint: `see the ${method.name} row of the registry table (docs/merge-methods.md §2)` });
  }
  return warnings;
}

