/**
 * The four configs in examples/ run unchanged and give what merge-methods.md says: per-tensor slerp with the
 * documented t per layer, a 6-layer frankenmerge copied bit-exactly, TIES with per-layer resolved densities and
 * weights written as bf16, and a reproducible DARE-TIES over LoRA-merged views. Expected numbers come from
 * independent float64 loops over the fixture files read with the plain test reader.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMerge } from '../../src/merge/index.js';
import { readPlainSafetensors, type PlainTensor } from '../support/plain-safetensors.js';
import { FIXTURES, bf16ToFloat32, exampleText, exampleWorkspace, f32Of } from './workspace.js';

const ws = exampleWorkspace();
after(() => ws.cleanup());

const fixture = (model: string): Map<string, PlainTensor> => readPlainSafetensors(join(FIXTURES, model, 'model.safetensors'));
const get = (tensors: Map<string, PlainTensor>, name: string): PlainTensor => tensors.get(name) ?? assert.fail(`missing ${name}`);

function slerpReference(v0: Float32Array, v1: Float32Array, t: number): Float64Array {
  let n0 = 0;
  let n1 = 0;
  for (let i = 0; i < v0.length; i++) {
    n0 += v0[i]! * v0[i]!;
    n1 += v1[i]! * v1[i]!;
  }
  n0 = Math.sqrt(n0);
  n1 = Math.sqrt(n1);
  const s0n = n0 > 1e-8 ? n0 : 1;
  const s1n = n1 > 1e-8 ? n1 : 1;
  let dot = 0;
  for (let i = 0; i < v0.length; i++) dot += (v0[i]! / s0n) * (v1[i]! / s1n);
  const out = new Float64Array(v0.length);
  if (Math.abs(dot) > 0.9995) {
    for (let i = 0; i < out.length; i++) out[i] = (1 - t) * v0[i]! + t * v1[i]!;
    return out;
  }
  const theta = Math.acos(dot);
  const a = Math.sin((1 - t) * theta) / Math.sin(theta);
  const b = Math.sin(t * theta) / Math.sin(theta);
  for (let i = 0; i < out.length; i++) out[i] = a * v0[i]! + b * v1[i]!;
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

test('gradient-slerp: every tensor is slerp(expert-code, expert-math, t) with the documented t per layer', async () => {
  const out = join(ws.root, 'out-slerp');
  const result = await runMerge(exampleText('gradient-slerp.yml'), out, { cwd: ws.cwd, progress: 'none' });
  assert.equal(result.tensors, 1 + 4 * 9 + 2);
  const merged = readPlainSafetensors(join(out, 'model.safetensors'));
  const code = fixture('expert-code');
  const math = fixture('expert-math');
  // attention [0, .5, .3, .7, 1] and MLP [1, .5, .7, .3, 0] at t = idx/3; everything else 0.5
  const at = (v: number[], t: number): number => {
    const s = t * (v.length - 1);
    const i = Math.floor(s);
    return i >= v.length - 1 ? v[v.length - 1]! : v[i]! + (s - i) * (v[i + 1]! - v[i]!);
  };
  const cases: [string, number][] = [
    ['model.layers.1.self_attn.q_proj.weight', at([0, 0.5, 0.3, 0.7, 1], 1 / 3)],
    ['model.layers.2.self_attn.o_proj.weight', at([0, 0.5, 0.3, 0.7, 1], 2 / 3)],
    ['model.layers.2.mlp.down_proj.weight', at([1, 0.5, 0.7, 0.3, 0], 2 / 3)],
    ['model.layers.1.input_layernorm.weight', 0.5],
    ['model.embed_tokens.weight', 0.5],
    ['model.norm.weight', 0.5],
    ['lm_head.weight', 0.5],
  ];
  assert.ok(Math.abs(cases[0]![1] - 0.43333333333333335) < 1e-12);
  for (const [name, t] of cases) {
    const planned = result.plan.tensors.find((p) => p.name === name)!;
    assert.ok(Math.abs((planned.params['t'] as number) - t) < 1e-12, `${name}: planned t ${planned.params['t']} vs ${t}`);
    const expected = slerpReference(f32Of(get(code, name).data), f32Of(get(math, name).data), t);
    const { diff, scale } = maxAbsDiff(f32Of(get(merged, name).data), expected);
    assert.ok(diff <= 2e-6 * Math.max(1, scale), `${name}: max |out − reference| = ${diff} (scale ${scale})`);
  }
  // t = 0 returns the base and t = 1 the other model, bit-exactly
  assert.deepEqual(get(merged, 'model.layers.0.self_attn.k_proj.weight').data, get(code, 'model.layers.0.self_attn.k_proj.weight').data);
  assert.deepEqual(get(merged, 'model.layers.3.self_attn.k_proj.weight').data, get(math, 'model.layers.3.self_attn.k_proj.weight').data);
  assert.deepEqual(get(merged, 'model.layers.0.mlp.up_proj.weight').data, get(math, 'model.layers.0.mlp.up_proj.weight').data);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config['num_hidden_layers'], 4);
  assert.equal(config['dtype'], 'float32');
  assert.equal(readFileSync(join(out, 'mergekit_config.yml'), 'utf8'), exampleText('gradient-slerp.yml'));
  assert.ok(existsSync(join(out, 'tokenizer.json')));
});

test('frankenmerge: 6 layers, renamed tensors equal to their sources bit for bit, num_hidden_layers 6', async () => {
  const out = join(ws.root, 'out-franken');
  const result = await runMerge(exampleText('frankenmerge.yml'), out, { cwd: ws.cwd, progress: 'none' });
  const merged = readPlainSafetensors(join(out, 'model.safetensors'));
  const lit = fixture('expert-literature');
  const code = fixture('expert-code');
  const expected = new Map<string, PlainTensor>();
  expected.set('model.embed_tokens.weight', get(lit, 'model.embed_tokens.weight'));
  const suffixes = [...lit.keys()].filter((n) => n.startsWith('model.layers.0.')).map((n) => n.slice('model.layers.0.'.length));
  assert.equal(suffixes.length, 9);
  for (let j = 0; j < 6; j++) {
    const [source, layer] = j < 4 ? [lit, j] : [code, j - 2];
    for (const s of suffixes) expected.set(`model.layers.${j}.${s}`, get(source, `model.layers.${layer}.${s}`));
  }
  expected.set('model.norm.weight', get(code, 'model.norm.weight'));
  expected.set('lm_head.weight', get(code, 'lm_head.weight'));
  assert.deepEqual([...merged.keys()].sort(), [...expected.keys()].sort());
  for (const [name, tensor] of expected) {
    const got = get(merged, name);
    assert.equal(got.dtype, 'F32');
    assert.deepEqual(got.shape, tensor.shape);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(tensor.data)), `${name} differs from its source`);
  }
  assert.equal(result.tensors, 57);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config['num_hidden_layers'], 6);
});

/** TIES per merge-methods.md §3.6 in float64 with float32 task vectors (element-wise arithmetic in float32, §0). */
function tiesReference(base: Float32Array, models: Float32Array[], weights: number[], densities: number[]): Float64Array {
  const n = base.length;
  const trimmed = models.map((x, m) => {
    const delta = new Float64Array(n);
    for (let i = 0; i < n; i++) delta[i] = Math.fround(x[i]! - base[i]!);
    const k = Math.floor(densities[m]! * n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.abs(delta[b]!) - Math.abs(delta[a]!) || a - b);
    const kept = new Float64Array(n);
    for (let r = 0; r < k; r++) kept[order[r]!] = delta[order[r]!]!;
    return kept;
  });
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let m = 0; m < models.length; m++) sum += weights[m]! * trimmed[m]![i]!;
    const sign = sum >= 0 ? 1 : -1;
    let mixed = 0;
    let divisor = 0;
    for (let m = 0; m < models.length; m++) {
      const d = weights[m]! * trimmed[m]![i]!;
      if (d !== 0 && Math.sign(d) === sign) {
        mixed += d;
        divisor += weights[m]!;
      }
    }
    if (Math.abs(divisor) < 1e-8) divisor = 1;
    out[i] = base[i]! + mixed / divisor;
  }
  return out;
}

test('ties: per-layer densities and weights resolve as documented; one tensor matches an independent TIES; bf16 output', async () => {
  const out = join(ws.root, 'out-ties');
  const result = await runMerge(exampleText('ties.yml'), out, { cwd: ws.cwd, progress: 'none' });
  const planned = (name: string) => result.plan.tensors.find((p) => p.name === name)!;
  const paramsOf = (name: string) => planned(name).modelParams.map((p) => [p['density'], p['weight']]);
  const close = (a: unknown[][], b: number[][]) =>
    a.every((row, i) => row.every((v, j) => Math.abs((v as number) - b[i]![j]!) < 1e-12));
  // models: literature, code, math; t = idx/3 for layers, 0 for embeddings and (current mergekit) for norm/lm_head
  const down1 = paramsOf('model.layers.1.mlp.down_proj.weight');
  assert.ok(close(down1, [[0.8, 1], [0.5, 0.3], [0.33, 0.5]]), JSON.stringify(down1));
  const q2 = paramsOf('model.layers.2.self_attn.q_proj.weight');
  // literature density [1, .7, .1] at t = 2/3 → 0.5; code weight [0, .3, .7, 1] → 0.7; math: attention matches no filter → 0
  assert.ok(close(q2, [[0.5, 1], [0.5, 0.7], [0.33, 0]]), JSON.stringify(q2));
  assert.ok(close(paramsOf('model.embed_tokens.weight'), [[1, 1], [0.5, 0], [0.33, 0]]));
  assert.ok(close(paramsOf('lm_head.weight'), [[1, 1], [0.5, 0], [0.33, 0]]));
  assert.deepEqual(result.plan.tensors[0]!.models.map((m) => m.modelRef.split('/').pop()), ['expert-literature', 'expert-code', 'expert-math']);
  assert.equal(planned('model.norm.weight').params['normalize'], true);

  const merged = readPlainSafetensors(join(out, 'model.safetensors'));
  assert.ok([...merged.values()].every((t) => t.dtype === 'BF16'));
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config['dtype'], 'bfloat16');
  const name = 'model.layers.1.mlp.down_proj.weight';
  const base = f32Of(get(fixture('base'), name).data);
  const inputs = ['expert-literature', 'expert-code', 'expert-math'].map((m) => f32Of(get(fixture(m), name).data));
  const expected = tiesReference(base, inputs, [1, 0.3, 0.5], [0.8, 0.5, 0.33]);
  const got = bf16ToFloat32(get(merged, name).data);
  let outside = 0;
  for (let i = 0; i < got.length; i++) {
    // one bf16 step (8 significant bits) around the float64 value
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(expected[i]!), 1e-30))) - 7);
    if (Math.abs(got[i]! - expected[i]!) > ulp) outside++;
  }
  assert.equal(outside, 0, `${outside} of ${got.length} elements differ from the reference by more than one bf16 step`);
});

test('dare_ties over model+lora references: bit-identical for a seed, different for another, base where both drop', async () => {
  const run = async (dir: string, seed: number) => {
    await runMerge(exampleText('lora-and-dare.yml'), join(ws.root, dir), { cwd: ws.cwd, seed, progress: 'none' });
    return readFileSync(join(ws.root, dir, 'model.safetensors'));
  };
  const first = await run('dare-a', 0);
  const again = await run('dare-b', 0);
  const other = await run('dare-c', 1);
  assert.ok(first.equals(again), 'same seed → identical bytes');
  assert.ok(!first.equals(other), 'another seed → other masks');
  const merged = readPlainSafetensors(join(ws.root, 'dare-a', 'model.safetensors'));
  const base = fixture('base');
  // tensors the adapters do not touch have zero task vectors: the output is the base exactly
  for (const name of ['model.layers.0.mlp.down_proj.weight', 'model.embed_tokens.weight', 'lm_head.weight']) {
    assert.ok(Buffer.from(get(merged, name).data).equals(Buffer.from(get(base, name).data)), name);
  }
  // q_proj: an entry stays at the base iff both models dropped it (probability 0.4² = 0.16)
  const name = 'model.layers.1.self_attn.q_proj.weight';
  const got = f32Of(get(merged, name).data);
  const b = f32Of(get(base, name).data);
  let same = 0;
  for (let i = 0; i < got.length; i++) if (got[i] === b[i]) same++;
  const fraction = same / got.length;
  const sigma = Math.sqrt((0.16 * 0.84) / got.length);
  assert.ok(Math.abs(fraction - 0.16) < 4 * sigma, `base fraction ${fraction}`);
});
