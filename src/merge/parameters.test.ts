import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../core/errors.js';
import type { ParamSpec } from './method.js';
import { describeSettingShape, resolveParameter, resolveParams, resolveSetting, type ParameterSetting } from './parameters.js';

const Q = 'model.layers.0.self_attn.q_proj.weight';
const DOWN = 'model.layers.0.mlp.down_proj.weight';
const EMBED = 'model.embed_tokens.weight';

test('gradient [0, 1] at t = 0.5 gives 0.5; endpoints give the end values', () => {
  assert.equal(resolveSetting([0, 1], Q, 0.5), 0.5);
  assert.equal(resolveSetting([0, 1], Q, 0), 0);
  assert.equal(resolveSetting([0, 1], Q, 1), 1);
});

test('gradient with five anchors interpolates between neighbours (§1.4 formula)', () => {
  const g = [0, 0.5, 0.3, 0.7, 1];
  // four layers: t = 0, 1/3, 2/3, 1 → s = 0, 4/3, 8/3, 4
  assert.equal(resolveSetting(g, Q, 0), 0);
  assert.ok(Math.abs((resolveSetting(g, Q, 1 / 3) as number) - (0.5 + (1 / 3) * (0.3 - 0.5))) < 1e-15);
  assert.ok(Math.abs((resolveSetting(g, Q, 2 / 3) as number) - (0.3 + (2 / 3) * (0.7 - 0.3))) < 1e-15);
  assert.equal(resolveSetting(g, Q, 1), 1);
});

test('gradient matches an independent float64 piecewise-linear interpolation (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 8 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (anchors, t) => {
        const n = anchors.length;
        const x = t * (n - 1);
        const lo = Math.min(n - 1, Math.floor(x));
        const hi = Math.min(n - 1, lo + 1);
        const expected = anchors[lo]! + (x - lo) * (anchors[hi]! - anchors[lo]!);
        const got = resolveSetting(anchors, Q, t) as number;
        return Math.abs(got - expected) <= 1e-12 * (1 + Math.abs(expected));
      },
    ),
  );
});

test('a list of non-numbers is indexed without interpolation', () => {
  assert.equal(resolveSetting([true, false], Q, 0.4), true);
  assert.equal(resolveSetting([true, false], Q, 0.99), true);
  assert.equal(resolveSetting([true, false], Q, 1), false);
  assert.equal(resolveSetting(['a', 'b', 'c'], Q, 0.5), 'b');
});

test('conditional list: the first matching filter wins, filters are substrings, catch-all last', () => {
  const setting: ParameterSetting = [
    { filter: 'self_attn', value: 0.1 },
    { filter: 'q_proj', value: 0.2 },
    { filter: 'mlp', value: [0, 1] },
    { value: 0.9 },
  ];
  assert.equal(resolveSetting(setting, Q, 0), 0.1);
  assert.equal(resolveSetting(setting, DOWN, 0.5), 0.5);
  assert.equal(resolveSetting(setting, EMBED, 0), 0.9);
  assert.equal(resolveSetting([{ filter: '*', value: 3 }], EMBED, 0), 3);
});

test('a conditional list without a match yields nothing and resolution falls through', () => {
  const source = { weight: [{ filter: 'mlp', value: 0.5 }] };
  const global = { weight: 0.25 };
  assert.equal(resolveSetting(source.weight, Q, 0), undefined);
  assert.equal(resolveParameter('weight', 'model', { source, global }, Q, 0), 0.25);
  assert.equal(resolveParameter('weight', 'model', { source, global }, DOWN, 0), 0.5);
});

test('precedence: source > slice > module > global; method-level parameters skip the source level', () => {
  const levels = { source: { p: 1 }, slice: { p: 2 }, module: { p: 3 }, global: { p: 4 } };
  assert.equal(resolveParameter('p', 'model', levels, Q, 0), 1);
  assert.equal(resolveParameter('p', 'model', { ...levels, source: undefined }, Q, 0), 2);
  assert.equal(resolveParameter('p', 'model', { module: { p: 3 }, global: { p: 4 } }, Q, 0), 3);
  assert.equal(resolveParameter('p', 'model', { global: { p: 4 } }, Q, 0), 4);
  assert.equal(resolveParameter('p', 'model', {}, Q, 0), undefined);
  // P7: a global-scope parameter given per model is ignored
  assert.equal(resolveParameter('p', 'global', levels, Q, 0), 2);
  assert.equal(resolveParameter('p', 'global', { source: { p: 1 } }, Q, 0), undefined);
});

const SPECS: ParamSpec[] = [
  { name: 'weight', scope: 'model', type: 'number', description: 'w' },
  { name: 'density', scope: 'model', type: 'number', default: 1, description: 'd' },
  { name: 'normalize', scope: 'global', type: 'boolean', default: true, description: 'n' },
];

test('resolveParams fills defaults and reports a missing required parameter with model and tensor', () => {
  const levels = { source: { weight: 0.3 } };
  assert.deepEqual(resolveParams(SPECS, 'model', levels, { method: 'ties', tensorName: Q, t: 0 }), {
    weight: 0.3,
    density: 1,
  });
  assert.deepEqual(resolveParams(SPECS, 'global', { global: { normalize: false } }, { method: 'ties', tensorName: Q, t: 0 }), {
    normalize: false,
  });
  assert.throws(
    () => resolveParams(SPECS, 'model', {}, { method: 'ties', tensorName: Q, t: 0, model: 'm1' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /requires parameter 'weight' for model 'm1'; no value applies to tensor 'model\.layers\.0\.self_attn\.q_proj\.weight'/.test(
        error.message,
      ),
  );
  // the base model needs no weight
  assert.deepEqual(resolveParams(SPECS, 'model', {}, { method: 'ties', tensorName: Q, t: 0, isBase: true }), { density: 1 });
});

test('describeSettingShape accepts every documented form and explains bad ones', () => {
  for (const ok of [0.5, true, 'x', [0, 1], [true, false], { filter: 'mlp', value: 1 }, [{ filter: 'mlp', value: [0, 1] }, { value: 0 }]]) {
    assert.equal(describeSettingShape(ok), undefined, JSON.stringify(ok));
  }
  assert.match(describeSettingShape([]) ?? '', /must not be empty/);
  assert.match(describeSettingShape({ a: 1 }) ?? '', /expected a number, boolean, string or a list/);
  assert.match(describeSettingShape([{ filter: 'x', value: 1, extra: 2 }]) ?? '', /unknown key 'extra'/);
  assert.match(describeSettingShape(null) ?? '', /got null/);
});
