/**
 * Multi-document merge configs (mergekit-multi): several YAML documents in one file, each a merge config with
 * a `name`; a later document may use an earlier one's name wherever a model reference goes. Documents merge
 * in order; every named intermediate is written to a cache folder inside the output's parent folder
 * (`.<out>.multi-<random>/<name>`), the last document is written to the output folder, and the cache folder
 * is removed once everything succeeded (kept after a failure, for inspection).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { mapModelReferences } from './config-paths.js';
import { parseMergeConfig, parseYamlDocuments, type MergeConfig } from './config.js';

export interface MergeDocument {
  /** the document's `name` (required for every document but the last) */
  readonly name: string | undefined;
  readonly config: MergeConfig;
  /** the document as YAML (its mergekit_config.yml) */
  readonly text: string;
}

/** Splits and validates a config file's documents; one document gives one entry. */
export function parseMergeDocuments(text: string, source?: string): MergeDocument[] {
  const documents = parseYamlDocuments(text, source);
  const names = new Set<string>();
  return documents.map((data, index) => {
    const last = index === documents.length - 1;
    const where = documents.length > 1 ? `${source ?? 'config'} (document ${index + 1} of ${documents.length})` : source;
    let name: string | undefined;
    let body = data;
    if (data !== null && typeof data === 'object' && !Array.isArray(data) && 'name' in data) {
      const { name: given, ...rest } = data as Record<string, unknown>;
      if (typeof given !== 'string' || given === '') throw new ConfigError([{ path: ['name'], message: 'expected a non-empty string' }], { source: where });
      if (names.has(given)) throw new ConfigError([{ path: ['name'], message: `the name '${given}' is used by an earlier document` }], { source: where });
      name = given;
      names.add(given);
      body = rest;
    }
    if (!last && name === undefined && documents.length > 1) {
      throw new ConfigError([{ path: ['name'], message: 'every document but the last needs a name, so later documents can refer to its result' }], { source: where });
    }
    return { name, config: parseMergeConfig(body, where), text: stringifyYaml(body) };
  });
}

/** The cache folder for intermediate merges, inside the output's parent. */
export function makeIntermediateDir(outDir: string): string {
  const target = resolve(outDir);
  return mkdtempSync(join(dirname(target), `.${basename(target)}.multi-`));
}

/**
 * Runs the documents in order with `mergeOne(config, outDir, text)`; references to an earlier document's name
 * are replaced by its intermediate folder.
 */
export async function runMergeDocuments<T>(
  documents: readonly MergeDocument[],
  outDir: string,
  mergeOne: (config: MergeConfig, outDir: string, text: string, name: string | undefined) => Promise<T>,
): Promise<T[]> {
  if (documents.length === 1) return [await mergeOne(documents[0]!.config, outDir, documents[0]!.text, documents[0]!.name)];
  const cache = makeIntermediateDir(outDir);
  const folders = new Map<string, string>();
  const results: T[] = [];
  for (const [index, document] of documents.entries()) {
    const config = mapModelReferences(document.config, (ref) => folders.get(ref) ?? ref);
    const last = index === documents.length - 1;
    const target = last ? outDir : join(cache, document.name!);
    results.push(await mergeOne(config, target, document.text, document.name));
    if (document.name !== undefined) folders.set(document.name, target);
  }
  rmSync(cache, { recursive: true, force: true });
  return results;
}
