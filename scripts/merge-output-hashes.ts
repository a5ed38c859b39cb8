/**
 * Behaviour check for refactors (docs/architecture-check.md): runs `modelevo merge` of a given source tree on
 * one config per registered merge method (tiny-llama fixtures: base + up to three experts, weights 0.5/0.3/0.2,
 * density 0.5 where the method takes one), a TIES bfloat16 run with layer gradients, and the repository's
 * examples/*.yml; prints `sha256  config/file` for every output file. Run it for two trees and diff the output.
 *
 *   node --import tsx scripts/merge-output-hashes.ts --tree <checkout> --work <scratch dir> [--fixtures <dir>]
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { argValue } from '../bench/support/child-run.js';
import { getMergeMethod, MERGE_METHOD_NAMES } from '../src/merge/registry.js';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const tree = resolve(argValue('--tree') ?? REPO);
const work = resolve(argValue('--work') ?? join(REPO, 'out', 'merge-output-hashes'));
const fixtures = resolve(argValue('--fixtures') ?? join(REPO, 'test', 'fixtures'));
const tiny = join(fixtures, 'tiny-llama');
const EXPERTS = ['expert-code', 'expert-literature', 'expert-math'];
const WEIGHTS = [0.5, 0.3, 0.2];

/** name → YAML text: one config per method, then the extra cases */
function configs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of MERGE_METHOD_NAMES) {
    const method = getMergeMethod(name);
    const modelParams = new Set(method.params.filter((p) => p.scope === 'model').map((p) => p.name));
    const count = Math.max(method.models.min, Math.min(method.models.max ?? EXPERTS.length, EXPERTS.length));
    const models = EXPERTS.slice(0, count).map((expert, i) => {
      const parameters: Record<string, number> = {};
      if (modelParams.has('weight')) parameters['weight'] = WEIGHTS[i]!;
      if (modelParams.has('density')) parameters['density'] = 0.5;
      return { model: join(tiny, expert), ...(Object.keys(parameters).length > 0 ? { parameters } : {}) };
    });
    const takesT = method.params.some((p) => p.name === 't');
    out.set(name, stringify({ merge_method: name, ...(method.baseModel === 'unused' ? {} : { base_model: join(tiny, 'base') }), models, ...(takesT ? { parameters: { t: 0.4 } } : {}), dtype: 'float32' }));
  }
  out.set(
    'ties-bf16-gradient',
    stringify({ merge_method: 'ties', base_model: join(tiny, 'base'), models: EXPERTS.map((e, i) => ({ model: join(tiny, e), parameters: { weight: [0.2, 0.5, 1 - i * 0.2], density: 0.4 } })), dtype: 'float32', out_dtype: 'bfloat16' }),
  );
  for (const file of readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yml')).sort()) {
    out.set(`example-${file.replace(/\.yml$/, '')}`, readFileSync(join(REPO, 'examples', file), 'utf8').replaceAll('../shared/fixtures', fixtures));
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? filesUnder(join(dir, entry)) : [join(dir, entry)]))
    .sort();
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
for (const [name, text] of configs()) {
  const config = join(work, `${name}.yml`);
  const output = join(work, name);
  writeFileSync(config, text);
  try {
    execFileSync(process.execPath, [join(tree, 'bin', 'modelevo.js'), 'merge', config, output], { cwd: tree, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    console.log(`failed  ${name}: ${String((error as { stderr?: Buffer }).stderr ?? error).split('\n')[0]}`);
    continue;
  }
  for (const file of filesUnder(output)) console.log(`${createHash('sha256').update(readFileSync(file)).digest('hex')}  ${relative(work, file)}`);
}
