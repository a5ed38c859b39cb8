import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAdapter } from '../../io/open.js';
import { runCli } from '../../../test/support/cli.js';

const FIXTURES = 'test/fixtures/tiny-llama';
const ADAPTERS = ['lora-code', 'lora-math', 'lora-literature'].map((d) => join(FIXTURES, d));

test('compose-lora writes Σ w_i A_i, Σ w_i B_i (negative weight included) and reports it as JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-compose-cli-'));
  try {
    const out = join(dir, 'hub');
    const result = await runCli(['compose-lora', ...ADAPTERS, '--weights', '-0.25,-0.5,1.5', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { output: out, adapters: ADAPTERS, weights: [-0.25, -0.5, 1.5], tensors: 32 });
    const composed = openAdapter(out);
    const inputs = ADAPTERS.map((p) => openAdapter(p));
    try {
      assert.equal(composed.config.r, 8);
      for (const name of composed.weights.names()) {
        const parts = inputs.map((a) => a.weights.readFloat32(name));
        const expected = parts[0]!.map((_, j) => Math.fround(-0.25 * parts[0]![j]! - 0.5 * parts[1]![j]! + 1.5 * parts[2]![j]!));
        assert.deepEqual(composed.weights.readFloat32(name), expected, name);
      }
    } finally {
      composed.close();
      inputs.forEach((a) => a.close());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compose-lora rejects a weight count that does not match and non-numeric weights', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-compose-cli-'));
  try {
    const short = await runCli(['compose-lora', ...ADAPTERS, '--weights', '1,0', join(dir, 'x')]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /expected 3 weights \(one per adapter\), got 2/);
    const word = await runCli(['compose-lora', ...ADAPTERS, '--weights', '1,half,0', join(dir, 'x')]);
    assert.equal(word.code, 2);
    assert.match(word.stderr, /--weights\[1\]: expected a number; got 'half'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
