/**
 * The model card (`README.md`) written into every merged model folder, as mergekit writes one: front matter
 * for the Hugging Face Hub (base model, tags), the merge method, the models with their parameters, the
 * configuration YAML as given, and the modelevo version that produced it.
 */
import { readFileSync } from 'node:fs';
import { stringify as stringifyYaml } from 'yaml';
import type { MergeConfig, ParameterMap } from './config.js';
import type { MergeMethod } from './method.js';

let cachedVersion: string | undefined;

/** modelevo's version from package.json (the same file in a checkout and in the published package). */
export function modelevoVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      cachedVersion = pkg.version ?? 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

function parametersText(parameters: ParameterMap | undefined): string {
  if (parameters === undefined || Object.keys(parameters).length === 0) return '';
  return ` — ${Object.entries(parameters)
    .map(([name, value]) => `${name}: ${JSON.stringify(value)}`)
    .join(', ')}`;
}

/** The inputs as listed in the config: whole models, or slice sources with their layer ranges. */
function inputLines(config: MergeConfig): string[] {
  if (config.models) return config.models.map((m) => `* \`${m.model}\`${parametersText(m.parameters)}`);
  return (config.slices ?? []).flatMap((slice, s) =>
    slice.sources.map((source) => `* \`${source.model}\` layers [${source.layer_range[0]}, ${source.layer_range[1]}) → output slice ${s}${parametersText(source.parameters)}`),
  );
}

export function modelCard(config: MergeConfig, method: MergeMethod, configText: string): string {
  const frontMatter = {
    ...(config.base_model === undefined ? {} : { base_model: [config.base_model] }),
    library_name: 'transformers',
    tags: ['mergekit', 'modelevo', 'merge'],
  };
  const base = config.base_model === undefined ? '' : ` with \`${config.base_model}\` as the base`;
  const globals = config.parameters && Object.keys(config.parameters).length > 0 ? `\nGlobal parameters${parametersText(config.parameters).replace(' —', ':')}.\n` : '';
  return [
    `---\n${stringifyYaml(frontMatter)}---`,
    '# Merged model',
    '',
    `This model is a merge of pre-trained language models, made with modelevo ${modelevoVersion()} from a mergekit configuration.`,
    '',
    '## Merge method',
    '',
    `${method.title} (\`${method.name}\`; ${method.reference})${base}.`,
    globals,
    '## Models merged',
    '',
    ...inputLines(config),
    '',
    '## Configuration',
    '',
    'The following YAML configuration produced this model (`modelevo merge config.yml <out-dir>`):',
    '',
    '```yaml',
    configText.trimEnd(),
    '```',
    '',
  ].join('\n');
}
