/**
 * Model paths inside merge configs (issue #21 item 6). mergekit resolves relative paths against the current
 * directory; modelevo does too, and additionally (when a relative path does not exist there) against the
 * folder of the config file, so a recipe works from any directory. Configs modelevo writes (`best.yml`) carry
 * absolute paths. Hub ids (`org/name[@rev]`) are left as written.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseModelReference } from '../io/open.js';

/** Keys of a tokenizer section that are not model references. */
const TOKENIZER_KEYWORDS = new Set(['base', 'union']);

/**
 * Applies `map` to every model reference of a config object (validated or plain): models, base models, slice
 * sources, tokenizer sources and token sources. Returns a new object; the input is not changed.
 */
export function mapModelReferences<T>(config: T, map: (ref: string) => string): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  const ref = (value: unknown): unknown => (typeof value === 'string' ? map(value) : value);
  const entries = (list: unknown, key = 'model'): void => {
    if (!Array.isArray(list)) return;
    for (const entry of list) if (entry && typeof entry === 'object') (entry as Record<string, unknown>)[key] = ref((entry as Record<string, unknown>)[key]);
  };
  const section = (holder: Record<string, unknown>): void => {
    if ('base_model' in holder) holder['base_model'] = ref(holder['base_model']);
    entries(holder['models']);
    if (Array.isArray(holder['slices'])) {
      for (const slice of holder['slices'] as Record<string, unknown>[]) {
        if ('base_model' in slice) slice['base_model'] = ref(slice['base_model']);
        entries(slice['sources']);
      }
    }
  };
  section(copy);
  const modules = copy['modules'];
  if (modules && typeof modules === 'object') for (const module of Object.values(modules as Record<string, Record<string, unknown>>)) section(module);
  const source = (value: unknown): unknown => (typeof value === 'string' && !TOKENIZER_KEYWORDS.has(value) ? map(value) : value);
  if ('tokenizer_source' in copy) copy['tokenizer_source'] = source(copy['tokenizer_source']);
  const tokenizer = copy['tokenizer'] as Record<string, unknown> | undefined;
  if (tokenizer && typeof tokenizer === 'object') {
    if ('source' in tokenizer) tokenizer['source'] = source(tokenizer['source']);
    const tokens = tokenizer['tokens'] as Record<string, Record<string, unknown>> | undefined;
    for (const token of Object.values(tokens ?? {})) {
      const tokenSource = token['source'];
      if (typeof tokenSource === 'string') token['source'] = map(tokenSource);
      else if (tokenSource && typeof tokenSource === 'object' && 'model' in tokenSource) {
        (tokenSource as Record<string, unknown>)['model'] = ref((tokenSource as Record<string, unknown>)['model']);
      }
    }
  }
  return copy as T;
}

/** Rewrites each local part of `base[+adapter]` with `part`; the '+' split follows io/open's rule. */
function mapParts(reference: string, cwd: string, part: (path: string) => string): string {
  const { base, adapter } = parseModelReference(reference, { cwd });
  return adapter === undefined ? part(base) : `${part(base)}+${part(adapter)}`;
}

/** Every relative local path made absolute against `dir` (for configs modelevo writes). */
export function withAbsoluteModelPaths<T>(config: T, dir: string): T {
  return mapModelReferences(config, (reference) =>
    mapParts(reference, dir, (path) => (!isAbsolute(path) && existsSync(resolve(dir, path)) ? resolve(dir, path) : path)),
  );
}

/**
 * Relative paths that do not exist under `cwd` but do under the config file's folder are made absolute
 * against that folder (mergekit's cwd rule first, then the config's own folder).
 */
export function resolveConfigRelativePaths<T>(config: T, configDir: string, cwd: string): T {
  return mapModelReferences(config, (reference) => {
    if (existsSync(resolve(cwd, reference))) return reference;
    return mapParts(reference, configDir, (path) =>
      !isAbsolute(path) && !existsSync(resolve(cwd, path)) && existsSync(resolve(configDir, path)) ? resolve(configDir, path) : path,
    );
  });
}
