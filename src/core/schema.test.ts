import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseWithSchema } from './schema.js';

const schema = z.strictObject({
  name: z.string(),
  inner: z.strictObject({ sigma0: z.number().positive(), steps: z.array(z.strictObject({ value: z.number() })) }).optional(),
});

test('unknown keys are reported at their path with the closest valid key', () => {
  try {
    parseWithSchema(schema, { name: 'x', inner: { sigma: 1, steps: [{ valeu: 2 }] } }, 'run.yml');
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const messages = error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.ok(messages.includes("inner.sigma: unknown key 'sigma' (did you mean 'sigma0'?)"), messages.join('\n'));
    assert.ok(messages.includes("inner.steps.0.valeu: unknown key 'valeu' (did you mean 'value'?)"), messages.join('\n'));
    assert.match(error.message, /run\.yml/);
  }
});

test('invalid values name their path; valid input passes through', () => {
  assert.throws(() => parseWithSchema(schema, { name: 3 }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path[0] === 'name');
  assert.deepEqual(parseWithSchema(schema, { name: 'ok' }), { name: 'ok' });
});
