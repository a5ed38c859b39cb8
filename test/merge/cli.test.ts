/**
 * `modelevo merge` end to end through the CLI entry: paths in the YAML resolve against the current directory,
 * `--json` prints one object with output/tensors/bytes/seconds and nothing on stderr, the input YAML is saved
 * as mergekit_config.yml, `--out-shard-size` shards the output, and an existing target needs
 * `--allow-overwrite`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { readPlainSafetensors } from '../support/plain-safetensors.js';
import { EXAMPLES, FIXTURES, exampleText, exampleWorkspace } from './workspace.js';

const ws = exampleWorkspace();
const previousCwd = process.cwd();
process.chdir(ws.cwd);
after(() => {
  process.chdir(previousCwd);
  ws.cleanup();
});

test('--json prints one object with output, tensor count, data bytes and wall time; nothing on stderr', async () => {
  const { code, stdout, stderr } = await runCli(['merge', join(EXAMPLES, 'frankenmerge.yml'), 'franken', '--json']);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const result = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(result['output'], join(ws.cwd, 'franken'));
  assert.equal(result['tensors'], 57);
  // 6 layers × per-layer parameters + embeddings, final norm and lm_head, all float32 (computed from the fixture config)
  const config = JSON.parse(readFileSync(join(FIXTURES, 'base', 'config.json'), 'utf8')) as Record<string, number>;
  const hidden = config['hidden_size']!;
  const inter = config['intermediate_size']!;
  const kv = config['num_key_value_heads']! * config['head_dim']!;
  const perLayer = 2 * hidden * hidden + 2 * kv * hidden + 3 * hidden * inter + 2 * hidden;
  const expectedBytes = 4 * (6 * perLayer + 2 * config['vocab_size']! * hidden + hidden);
  assert.equal(result['bytes'], expectedBytes);
  const written = readPlainSafetensors(join(ws.cwd, 'franken', 'model.safetensors'));
  assert.equal([...written.values()].reduce((s, t) => s + t.data.byteLength, 0), expectedBytes);
  assert.equal(typeof result['seconds'], 'number');
  assert.ok((result['seconds'] as number) >= 0 && (result['seconds'] as number) < 60);
  assert.equal(readFileSync(join(ws.cwd, 'franken', 'mergekit_config.yml'), 'utf8'), exampleText('frankenmerge.yml'));
  assert.ok(existsSync(join(ws.cwd, 'franken', 'tokenizer.json')));
});

test('an existing output needs --allow-overwrite; --out-shard-size shards; --no-copy-tokenizer skips tokenizer files', async () => {
  const refused = await runCli(['merge', join(EXAMPLES, 'frankenmerge.yml'), 'franken', '--json']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /already exists and is not empty/);
  const { code, stdout, stderr } = await runCli([
    'merge',
    join(EXAMPLES, 'frankenmerge.yml'),
    'franken',
    '--allow-overwrite',
    '--out-shard-size',
    '1M',
    '--no-copy-tokenizer',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  const files = readdirSync(join(ws.cwd, 'franken'));
  const shards = files.filter((f) => f.endsWith('.safetensors'));
  assert.ok(shards.length >= 4, files.join(', '));
  assert.ok(files.includes('model.safetensors.index.json'));
  assert.ok(!files.includes('tokenizer.json'));
  const index = JSON.parse(readFileSync(join(ws.cwd, 'franken', 'model.safetensors.index.json'), 'utf8')) as { metadata: { total_size: number } };
  assert.equal(index.metadata.total_size, (JSON.parse(stdout) as { bytes: number }).bytes);
  const config = JSON.parse(readFileSync(join(ws.cwd, 'franken', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config['num_hidden_layers'], 6);
});

test('config errors exit with status 2 and name the offending key', async () => {
  const { code, stderr } = await runCli(['merge', join(FIXTURES, 'base', 'config.json'), 'bad', '--json']);
  assert.equal(code, 2);
  assert.match(stderr, /error \[CONFIG_INVALID\]/);
  assert.match(stderr, /unknown key 'architectures'/);
  assert.equal(existsSync(join(ws.cwd, 'bad')), false);
});
