/**
 * Bad input and failures mid-merge: each is a clear error and the output folder is untouched — a new target
 * never appears, an existing one keeps exactly its files, and no temporary folder is left beside it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../../src/core/errors.js';
import type { Checkpoint } from '../../src/io/checkpoint.js';
import { KernelPool } from '../../src/kernels/pool.js';
import { runMerge, type RunMergeOptions } from '../../src/merge/index.js';
import { failingOn, tinyModel } from './tiny-models.js';

const root = mkdtempSync(join(tmpdir(), 'modelevo-merge-fail-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh target that already holds a file, plus a target that does not exist yet. */
function targets(): { existing: string; fresh: string } {
  counter++;
  const existing = join(root, `existing-${counter}`);
  mkdirSync(existing);
  writeFileSync(join(existing, 'keep.txt'), 'precious');
  return { existing, fresh: join(root, `fresh-${counter}`) };
}

function assertUntouched({ existing, fresh }: { existing: string; fresh: string }): void {
  assert.deepEqual(readdirSync(existing), ['keep.txt']);
  assert.equal(readFileSync(join(existing, 'keep.txt'), 'utf8'), 'precious');
  assert.equal(existsSync(fresh), false);
  const leftovers = readdirSync(root).filter((f) => f.startsWith('.'));
  assert.deepEqual(leftovers, [], 'no temporary folders remain');
}

function options(models: Record<string, Checkpoint>, extra: RunMergeOptions = {}): RunMergeOptions {
  return { models: new Map(Object.entries(models)), progress: 'none', allowOverwrite: true, outShardSize: 200, ...extra };
}

async function expectFailure(
  config: unknown,
  models: Record<string, Checkpoint>,
  check: (error: ModelevoError) => void,
): Promise<void> {
  const t = targets();
  for (const target of [t.existing, t.fresh]) {
    await assert.rejects(runMerge(config, target, options(models)), (error: unknown) => {
      assert.ok(error instanceof ModelevoError, `expected a ModelevoError, got ${String(error)}`);
      check(error);
      return true;
    });
  }
  assertUntouched(t);
}

const linear = (models: string[], extra: Record<string, unknown> = {}) => ({
  merge_method: 'linear',
  models: models.map((model) => ({ model, parameters: { weight: 1 } })),
  ...extra,
});

test('mismatched shapes: SHAPE_MISMATCH naming the tensor and every model’s shape', async () => {
  await expectFailure(linear(['a', 'b']), { a: tinyModel(1), b: tinyModel(2, { qShape: [4, 5] }) }, (error) => {
    assert.equal(error.code, 'SHAPE_MISMATCH');
    assert.match(error.message, /tensor 'model\.layers\.0\.self_attn\.q_proj\.weight'.*a: \[4, 4\]; b: \[4, 5\]/);
  });
});

test('a missing tensor: TENSOR_NOT_FOUND naming tensor and model', async () => {
  await expectFailure(linear(['a', 'b']), { a: tinyModel(1), b: tinyModel(2, { skip: 'model.layers.3.mlp.down_proj.weight' }) }, (error) => {
    assert.equal(error.code, 'TENSOR_NOT_FOUND');
    assert.match(error.message, /tensor 'model\.layers\.3\.mlp\.down_proj\.weight' is missing from model 'b'/);
  });
});

test('a method that needs a base model without one: CONFIG_INVALID at base_model', async () => {
  const config = { merge_method: 'ties', models: [{ model: 'a', parameters: { weight: 1, density: 0.5 } }] };
  await expectFailure(config, { a: tinyModel(1) }, (error) => {
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /at base_model: merge method ties requires a base_model/);
  });
});

test('NaN and Inf inputs: VALUE_INVALID naming tensor, model and position', async () => {
  const tensor = 'model.layers.2.mlp.down_proj.weight';
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
    await expectFailure(linear(['a', 'b']), { a: tinyModel(1), b: tinyModel(2, { poison: { tensor, index: 5, value } }) }, (error) => {
      assert.equal(error.code, 'VALUE_INVALID');
      assert.match(error.message, new RegExp(`non-finite value ${value} at flat index 5 of tensor '${tensor.replace(/\./g, '\\.')}' in model 'b'`));
    });
  }
});

test('an unknown merge method: UNKNOWN_NAME with the closest valid name', async () => {
  await expectFailure({ ...linear(['a']), merge_method: 'linaer' }, { a: tinyModel(1) }, (error) => {
    assert.equal(error.code, 'UNKNOWN_NAME');
    assert.match(error.message, /unknown merge method 'linaer'/);
    assert.match(error.hint ?? '', /did you mean 'linear'/);
  });
});

test('a read failure in the middle of a sharded write leaves no half-written model', async () => {
  const broken = failingOn(tinyModel(2), 'model.layers.2.self_attn.q_proj.weight');
  const t = targets();
  for (const target of [t.existing, t.fresh]) {
    await assert.rejects(runMerge(linear(['a', 'b']), target, options({ a: tinyModel(1), b: broken })), /injected read failure/);
  }
  assertUntouched(t);
  // the same merge without the failure writes several shards (so the failure did happen mid-write)
  const ok = await runMerge(linear(['a', 'b']), join(root, 'ok'), options({ a: tinyModel(1), b: tinyModel(2) }));
  assert.ok(readdirSync(ok.output!).filter((f) => f.endsWith('.safetensors')).length > 3);
});

test('an existing non-empty target without allowOverwrite is refused before anything is written', async () => {
  const t = targets();
  await assert.rejects(
    runMerge(linear(['a']), t.existing, options({ a: tinyModel(1) }, { allowOverwrite: false })),
    (error: unknown) => error instanceof ModelevoError && /already exists and is not empty/.test(error.message),
  );
  assert.deepEqual(readdirSync(t.existing), ['keep.txt']);
});

test('in memory: the merged Checkpoint holds the linear merge of the inputs (float64 reference)', async () => {
  const a = tinyModel(1);
  const b = tinyModel(2);
  const config = {
    merge_method: 'linear',
    models: [
      { model: 'a', parameters: { weight: 0.25 } },
      { model: 'b', parameters: { weight: [0.75, 2.75] } },
    ],
  };
  const result = await runMerge(config, undefined, { models: new Map([['a', a], ['b', b]]), inMemory: true, progress: 'none' });
  const merged = result.checkpoint!;
  assert.equal(result.output, undefined);
  assert.equal(merged.names().length, 1 + 4 * 3 + 2);
  assert.equal(merged.config?.['num_hidden_layers'], 4);
  for (const [name, t] of [['model.layers.0.mlp.down_proj.weight', 0], ['model.layers.3.self_attn.q_proj.weight', 1], ['model.layers.1.input_layernorm.weight', 1 / 3]] as const) {
    const wb = 0.75 + t * 2;
    const xa = a.readFloat32(name);
    const xb = b.readFloat32(name);
    const got = merged.readFloat32(name);
    for (let i = 0; i < got.length; i++) {
      const expected = (0.25 * xa[i]! + wb * xb[i]!) / (0.25 + wb);
      assert.ok(Math.abs(got[i]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${name}[${i}]: ${got[i]} vs ${expected}`);
    }
  }
  assert.equal(result.bytes, merged.names().reduce((sum, n) => sum + merged.info(n).byteLength, 0));
});

test('the kernel workers stop however the merge ends: success, an output option refused after they started, a read failure', async () => {
  const started: KernelPool[] = [];
  const stopped = new Set<KernelPool>();
  const create = KernelPool.create;
  const close = KernelPool.prototype.close;
  KernelPool.create = async (...args: Parameters<typeof KernelPool.create>): Promise<KernelPool> => {
    const pool = await create.apply(KernelPool, args);
    started.push(pool);
    return pool;
  };
  KernelPool.prototype.close = function (this: KernelPool): Promise<void> {
    stopped.add(this);
    return close.call(this);
  };
  try {
    const wasm: RunMergeOptions = { kernels: 'wasm', threads: 2 };
    await runMerge(linear(['a', 'b']), join(root, 'pool-ok'), options({ a: tinyModel(1), b: tinyModel(2) }, wasm));
    await assert.rejects(
      runMerge(linear(['a', 'b']), join(root, 'pool-size'), options({ a: tinyModel(1), b: tinyModel(2) }, { ...wasm, outShardSize: 'lots' })),
      (error: unknown) => error instanceof ModelevoError && error.code === 'VALUE_INVALID',
    );
    const broken = failingOn(tinyModel(2), 'model.layers.2.self_attn.q_proj.weight');
    await assert.rejects(runMerge(linear(['a', 'b']), join(root, 'pool-read'), options({ a: tinyModel(1), b: broken }, wasm)), /injected read failure/);
    assert.equal(started.length, 3, 'one pool per merge');
    assert.deepEqual(started.map((pool) => stopped.has(pool)), [true, true, true]);
  } finally {
    KernelPool.create = create;
    KernelPool.prototype.close = close;
  }
});
