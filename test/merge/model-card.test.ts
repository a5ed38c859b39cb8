/** The model card README.md written into every merged folder (issue #21 item 4). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runMerge } from '../../src/merge/index.js';
import { FIXTURES, REPO_ROOT } from './workspace.js';

test('README.md names the method, base, every model with its parameters, the YAML verbatim and the modelevo version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-card-'));
  try {
    const yaml = [
      'merge_method: task_arithmetic',
      `base_model: ${join(FIXTURES, 'base')}`,
      'models:',
      `  - model: ${join(FIXTURES, 'expert-code')}`,
      '    parameters: {weight: 0.7}',
      `  - model: ${join(FIXTURES, 'expert-math')}`,
      '    parameters: {weight: [0.2, 0.4]}',
      'parameters: {lambda: 0.9}',
      '',
    ].join('\n');
    const result = await runMerge(yaml, join(dir, 'out'), { progress: 'none' });
    const card = readFileSync(join(result.output!, 'README.md'), 'utf8');
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const front = parseYaml(card.split('---\n')[1]!) as { base_model: string[]; tags: string[] };
    assert.deepEqual(front.base_model, [join(FIXTURES, 'base')]);
    assert.ok(front.tags.includes('mergekit') && front.tags.includes('merge'));
    assert.match(card, new RegExp(`made with modelevo ${version.replace(/\./g, '\\.')} `));
    assert.match(card, /\(`task_arithmetic`; /);
    assert.ok(card.includes(`* \`${join(FIXTURES, 'expert-code')}\` — weight: 0.7`), card);
    assert.ok(card.includes(`* \`${join(FIXTURES, 'expert-math')}\` — weight: [0.2,0.4]`), card);
    assert.match(card, /Global parameters: lambda: 0\.9\./);
    assert.ok(card.includes(`\`\`\`yaml\n${yaml.trimEnd()}\n\`\`\``), 'the YAML as given');
    assert.equal(readFileSync(join(result.output!, 'mergekit_config.yml'), 'utf8'), yaml);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
