/**
 * Unrelated-model check (issue #21 item 5; thresholds and reasons in src/merge/relatedness.ts): the fixture
 * `stranger` (same architecture, another initialisation) is reported, the three experts and LoRA-merged
 * models never; --strict turns the warning into exit status 3; --json lists it under `warnings`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMerge } from '../../src/merge/index.js';
import { UNRELATED_DISTANCE, UNRELATED_SIGN_AGREEMENT } from '../../src/merge/relatedness.js';
import { runCli } from '../support/cli.js';
import { FIXTURES } from './workspace.js';

const dir = mkdtempSync(join(tmpdir(), 'modelevo-unrelated-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string) => join(FIXTURES, name);

const taskArithmetic = (models: string[]) =>
  `merge_method: task_arithmetic\nbase_model: ${path('base')}\nmodels:\n${models.map((m) => `  - model: ${m}\n    parameters: {weight: 0.5}`).join('\n')}\n`;

async function warningsOf(models: string[]): Promise<string[]> {
  const result = await runMerge(taskArithmetic(models), undefined, { inMemory: true, checkRelatedness: true, progress: 'none' });
  return result.warnings.filter((w) => w.includes('does not look like a fine-tune'));
}

test('fires for the stranger, naming it with its distance and sign agreement', async () => {
  const warnings = await warningsOf([path('expert-code'), path('stranger')]);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /stranger' does not look like a fine-tune of the base/);
  const [, distance, agreement] = /relative distance ([\d.]+).*sign agreement ([\d.]+)/.exec(warnings[0]!)!;
  assert.ok(Number(distance) > UNRELATED_DISTANCE, distance);
  assert.ok(Number(agreement) < UNRELATED_SIGN_AGREEMENT, agreement);
  // independent weights agree in sign about half the time
  assert.ok(Math.abs(Number(agreement) - 0.5) < 0.05, agreement);
});

test('never for the three experts, the bf16 expert, or LoRA-merged models', async () => {
  const lora = (name: string) => `${path('base')}+${path(name)}`;
  assert.deepEqual(await warningsOf([path('expert-code'), path('expert-math'), path('expert-literature'), path('expert-code-bf16')]), []);
  assert.deepEqual(await warningsOf([lora('lora-code'), lora('lora-math'), lora('lora-literature')]), []);
});

test('CLI: a warning in --json warnings; --strict refuses with exit 3 and writes nothing', async () => {
  const config = join(dir, 'stranger.yml');
  writeFileSync(config, taskArithmetic([path('expert-code'), path('stranger')]));
  const ok = await runCli(['merge', config, join(dir, 'out'), '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const warnings = (JSON.parse(ok.stdout) as { warnings: string[] }).warnings;
  assert.ok(warnings.some((w) => /stranger' does not look like a fine-tune/.test(w)), warnings.join('\n'));
  const strict = await runCli(['merge', config, join(dir, 'strict-out'), '--strict', '--json']);
  assert.equal(strict.code, 3);
  assert.equal((JSON.parse(strict.stdout) as { error: { code: string } }).error.code, 'MODELS_UNRELATED');
  assert.equal((await runCli(['inspect', join(dir, 'strict-out')])).code, 3, 'no output folder');
});
