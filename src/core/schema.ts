/**
 * zod validation at the boundary, reported as a ConfigError: one issue per offending key path, unknown keys
 * named with the closest valid key (found by walking the schema along the issue's path).
 */
import { z } from 'zod';
import { ConfigError, closestName, type ConfigIssue } from './errors.js';

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 10; depth++) {
    const def = (current as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let current = unwrap(schema);
  for (const part of path) {
    const def = (current as unknown as { def: { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType } }).def;
    if (def.type === 'object' && def.shape && typeof part === 'string' && def.shape[part]) current = unwrap(def.shape[part]!);
    else if (def.type === 'array' && def.element) current = unwrap(def.element);
    else if (def.type === 'record' && def.valueType) current = unwrap(def.valueType);
    else return [];
  }
  const def = (current as unknown as { def: { type: string; shape?: Record<string, unknown> } }).def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

export function zodIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return configIssuesFromZod(issues, (path) => keysAt(schema, path));
}

/**
 * zod issues as ConfigIssues, one per unknown key with the closest of `knownKeysAt(path)`; for schemas whose
 * valid keys are better listed by hand than found by walking the schema (mergekit configs).
 */
export function configIssuesFromZod(
  issues: readonly z.core.$ZodIssue[],
  knownKeysAt: (path: readonly (string | number)[]) => string[],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(path);
      for (const key of issue.keys) {
        const closest = closestName(key, known);
        out.push({ path: [...path, key], message: `unknown key '${key}'${closest ? ` (did you mean '${closest}'?)` : ''}` });
      }
    } else out.push({ path, message: issue.message });
  }
  return out;
}

export function parseWithSchema<T extends z.ZodType>(schema: T, input: unknown, source?: string, hint?: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ConfigError(zodIssues(schema, result.error.issues), { source, ...(hint ? { hint } : {}) });
  return result.data;
}
