/**
 * mergekit's published example configs (written out again with model names pointing at the tiny-llama
 * fixtures through a fake Hugging Face cache) and one config per model-reference form of issue #21 item 1.
 * Each merges from an unrelated working directory; its output is checked against values computed here with
 * float64 loops over the fixture weights, after rounding inputs to the config's dtype as mergekit does.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { runCli } from '../support/cli.js';
import { openCheckpoint } from '../../src/io/open.js';
import { BUILTIN_CHAT_TEMPLATES } from '../../src/merge/chat-templates.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMergeConfigFile, runMerge, type MergeResult } from '../../src/merge/index.js';
import { readFixtureF32, readFixtureTensor } from '../../src/merge/test-support.js';
import { makeFakeHfCache } from './fake-hf-cache.js';
import { budget } from '../support/budget.js';
import { FIXTURES } from '../merge/workspace.js';

const CONFIGS = new URL('.', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'modelevo-mk-configs-'));
const previousCache = process.env['HF_HUB_CACHE'];
before(() => {
  makeFakeHfCache(join(root, 'hf-cache'));
  process.env['HF_HUB_CACHE'] = join(root, 'hf-cache');
});
after(() => {
  if (previousCache === undefined) delete process.env['HF_HUB_CACHE'];
  else process.env['HF_HUB_CACHE'] = previousCache;
  rmSync(root, { recursive: true, force: true });
});

async function merge(file: string): Promise<MergeResult> {
  // the working directory is a fresh folder: Hub ids come from the cache, relative paths from the config's folder
  const { config } = loadMergeConfigFile(join(CONFIGS, file), root);
  return runMerge(config, undefined, { inMemory: true, progress: 'none', cwd: root });
}

/** Round to nearest even at `mantissaBits` explicit bits (10: float16, 7: bfloat16), float16's subnormal floor. */
function roundTo(x: number, mantissaBits: number, minExponent: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  let e = Math.floor(Math.log2(Math.abs(x)));
  if (2 ** e > Math.abs(x)) e--;
  if (2 ** (e + 1) <= Math.abs(x)) e++;
  const ulp = 2 ** (Math.max(e, minExponent) - mantissaBits);
  const r = x / ulp;
  const lower = Math.floor(r);
  const rest = r - lower;
  const n = rest > 0.5 || (rest === 0.5 && lower % 2 !== 0) ? lower + 1 : lower;
  return n * ulp;
}
const f16 = (x: number): number => roundTo(x, 10, -14);
const bf16 = (x: number): number => roundTo(x, 7, -126);

const fixture = (model: string, name: string, round: (x: number) => number = (x) => x): number[] =>
  Array.from(readFixtureTensor(model, name).data, round);

/** |actual − expected| within `ulps` units of the output dtype's last place (relative) plus a tiny floor. */
function assertWithin(actual: Float32Array, expected: number[], relative: number, label: string): void {
  assert.equal(actual.length, expected.length, label);
  const scale = expected.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
  expected.forEach((e, j) => {
    const bound = relative * Math.max(Math.abs(e), 1e-3 * scale);
    assert.ok(Math.abs(actual[j]! - e) <= bound, `${label}[${j}]: ${actual[j]} vs ${e}`);
  });
}
const F16_ULP = 2 ** -10;

/** TIES (magnitude trim per tensor, weighted sign election, disjoint weighted sum) in float64. */
function ties(base: number[], models: number[][], weights: number[], densities: number[], normalize: boolean): number[] {
  const n = base.length;
  const trimmed = models.map((x, m) => {
    const delta = x.map((v, i) => v - base[i]!);
    const k = Math.floor(densities[m]! * n);
    const order = delta.map((_, i) => i).sort((a, b) => Math.abs(delta[b]!) - Math.abs(delta[a]!) || a - b);
    const kept = new Array<number>(n).fill(0);
    for (let r = 0; r < k; r++) kept[order[r]!] = delta[order[r]!]!;
    return kept;
  });
  return base.map((b, i) => {
    const weighted = trimmed.map((t, m) => weights[m]! * t[i]!);
    const sign = weighted.reduce((s, v) => s + v, 0) >= 0 ? 1 : -1;
    let sum = 0;
    let divisor = 0;
    weighted.forEach((v, m) => {
      if (v !== 0 && Math.sign(v) === sign) {
        sum += v;
        divisor += weights[m]!;
      }
    });
    if (!normalize) return b + sum;
    return b + sum / (Math.abs(divisor) < 1e-8 ? 1 : divisor);
  });
}

const NORM = 'model.norm.weight';
const LN1 = 'model.layers.1.input_layernorm.weight';

test('linear.yml: Σ wᵢXᵢ / Σ wᵢ over float16-rounded inputs (npm run test:full: every tensor)', async () => {
  const result = await merge('linear.yml');
  const names = budget([NORM, 'model.layers.2.mlp.down_proj.weight'], result.checkpoint!.names());
  for (const name of names) {
    const [lit, code, math] = ['expert-literature', 'expert-code', 'expert-math'].map((m) => fixture(m, name, f16)) as [number[], number[], number[]];
    const expected = lit.map((v, i) => (1.0 * v + 0.3 * code[i]! + 0.5 * math[i]!) / 1.8);
    assertWithin(result.checkpoint!.readFloat32(name), expected, 2 * F16_ULP, name);
  }
});

test('ties.yml: gradients of density and weight at t = 1/3 (layer 1) and t = 0 (final norm), normalised', async () => {
  const result = await merge('ties.yml');
  const inputs = (name: string) => ['base', 'expert-literature', 'expert-code', 'expert-math'].map((m) => fixture(m, name, f16)) as [number[], number[], number[], number[]];
  // layer 1 of 4: t = 1/3 → literature density 0.8; code weight 0.3; math weight 0 (not an mlp tensor)
  const [b1, l1, c1, m1] = inputs(LN1);
  assertWithin(result.checkpoint!.readFloat32(LN1), ties(b1, [l1, c1, m1], [1, 0.3, 0], [0.8, 0.5, 0.33], true), 2 * F16_ULP, LN1);
  // final norm: first values (current mergekit) → literature density 1, code weight 0
  const [bn, ln, cn, mn] = inputs(NORM);
  assertWithin(result.checkpoint!.readFloat32(NORM), ties(bn, [ln, cn, mn], [1, 0, 0], [1, 0.5, 0.33], true), 2 * F16_ULP, NORM);
});

test('bio-merge.yml: TIES density 0.5, weight 0.5, no normalisation', async () => {
  const result = await merge('bio-merge.yml');
  for (const name of [LN1, NORM]) {
    const [b, c, m] = ['base', 'expert-code', 'expert-math'].map((x) => fixture(x, name, f16)) as [number[], number[], number[]];
    assertWithin(result.checkpoint!.readFloat32(name), ties(b, [c, m], [0.5, 0.5], [0.5, 0.5], false), 2 * F16_ULP, name);
  }
});

test('gradient-slerp.yml: slerp(code, math, t) with filtered gradients and a 0.5 fallback', async () => {
  const result = await merge('gradient-slerp.yml');
  const slerp = (v0: number[], v1: number[], t: number): number[] => {
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const n0 = norm(v0);
    const n1 = norm(v1);
    const dot = v0.reduce((s, x, i) => s + (x / n0) * (v1[i]! / n1), 0);
    if (Math.abs(dot) > 0.9995) return v0.map((x, i) => (1 - t) * x + t * v1[i]!);
    const theta = Math.acos(dot);
    return v0.map((x, i) => (Math.sin((1 - t) * theta) * x + Math.sin(t * theta) * v1[i]!) / Math.sin(theta));
  };
  const cases: [string, number][] = [];
  // attention [0, .5, .3, .7, 1] at t = 2/3 → s = 8/3 → 0.3 + (2/3)(0.4); mlp [1, .5, .7, .3, 0] at t = 1/3 → s = 4/3 → 0.5 + (1/3)(0.2)
  cases.push(['model.layers.2.self_attn.o_proj.weight', 0.3 + (2 / 3) * 0.4]);
  cases.push(['model.layers.1.mlp.up_proj.weight', 0.5 + (1 / 3) * 0.2]);
  cases.push([LN1, 0.5], [NORM, 0.5]);
  for (const [name, t] of cases) {
    const expected = slerp(fixture('expert-code', name, f16), fixture('expert-math', name, f16), t);
    assertWithin(result.checkpoint!.readFloat32(name), expected, 4 * F16_ULP, `${name} t=${t}`);
  }
});

test('orcamini-platy-44layer.yml: passthrough stacks code layers [0, 3) and math layers [1, 4) into 6 layers', async () => {
  const result = await merge('orcamini-platy-44layer.yml');
  assert.equal(result.plan.numLayers, 6);
  for (const [out, model, source] of [[0, 'expert-code', 0], [2, 'expert-code', 2], [3, 'expert-math', 1], [5, 'expert-math', 3]] as const) {
    const name = `model.layers.${out}.mlp.down_proj.weight`;
    assert.deepEqual(Array.from(result.checkpoint!.readFloat32(name)), fixture(model, `model.layers.${source}.mlp.down_proj.weight`, f16), name);
  }
  // post-layer tensors come from the last slice's model
  assert.deepEqual(Array.from(result.checkpoint!.readFloat32(NORM)), fixture('expert-math', NORM, f16));
});

test('arcee_fusion.yml: the final norm (one row, so KL scales every score alike) keeps code where |δ| ≥ median + 1.5·IQR (lower quartiles)', async () => {
  const result = await merge('arcee_fusion.yml');
  const base = fixture('base', NORM, bf16);
  const code = fixture('expert-code', NORM, bf16);
  const magnitude = code.map((v, i) => Math.abs(v - base[i]!));
  const sorted = [...magnitude].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  const threshold = at(0.5) + 1.5 * (at(0.75) - at(0.25));
  const out = result.checkpoint!.readFloat32(NORM);
  let taken = 0;
  magnitude.forEach((m, i) => {
    if (Math.abs(m - threshold) <= 1e-5 * threshold) return; // at the threshold float32 rounding decides
    const take = m >= threshold;
    taken += take ? 1 : 0;
    assert.equal(out[i], take ? code[i] : base[i], `element ${i}`);
  });
  assert.ok(taken > 0 && taken < magnitude.length / 2, `outliers only (${taken})`);
});

test('hub-revision-mapping.yml: refs/v0 revision, mapping form with revision, mapping-form LoRA from the cache, config-relative path', async () => {
  const result = await merge('hub-revision-mapping.yml');
  const name = 'model.layers.1.self_attn.q_proj.weight';
  // tiny/expert-math@v0 is the old snapshot holding the base weights (main is the expert); base+lora-math is W + (16/8)·B·A
  const math = fixture('base', name);
  const code = fixture('expert-code', name);
  const literature = fixture('expert-literature', name);
  const base = fixture('base', name);
  const prefix = 'base_model.model.model.layers.1.self_attn.q_proj';
  const lora = readFixtureF32(join(FIXTURES, 'lora-math', 'adapter_model.safetensors'), [`${prefix}.lora_A.weight`, `${prefix}.lora_B.weight`]);
  const A = lora.get(`${prefix}.lora_A.weight`)!;
  const B = lora.get(`${prefix}.lora_B.weight`)!;
  const [rows, rank] = B.shape as [number, number];
  const cols = A.shape[1]!;
  const withLora = base.map((w, idx) => {
    const i = Math.floor(idx / cols);
    const j = idx % cols;
    let update = 0;
    for (let r = 0; r < rank; r++) update += B.data[i * rank + r]! * A.data[r * cols + j]!;
    return w + 2 * update;
  });
  assert.equal(rows * cols, base.length);
  const expected = math.map((v, i) => 0.25 * (v + code[i]! + withLora[i]! + literature[i]!));
  assertWithin(result.checkpoint!.readFloat32(name), expected, 1e-5, name);
});

test('a Hub id missing from the cache names the exact download command; an existing local path with @ is read as a path', async () => {
  const missing = runMerge('merge_method: linear\nmodels:\n  - model: tiny/expert-math@v9\n  - model: other/model\n', undefined, { inMemory: true, progress: 'none', cwd: root });
  await assert.rejects(missing, (error: Error & { code?: string; hint?: string }) => {
    assert.equal(error.code, 'CHECKPOINT_NOT_FOUND');
    assert.match(error.message, /tiny\/expert-math' at revision 'v9' is not in the local cache/);
    assert.match(error.hint!, /`huggingface-cli download tiny\/expert-math --revision v9`/);
    return true;
  });
  mkdirSync(join(root, 'models'), { recursive: true });
  symlinkSync(join(FIXTURES, 'expert-code'), join(root, 'models', 'code@v1'), 'dir');
  const local = await runMerge('merge_method: linear\nmodels:\n  - model: models/code@v1\n    parameters: {weight: 1}\n', undefined, { inMemory: true, progress: 'none', cwd: root });
  assert.deepEqual(Array.from(local.checkpoint!.readFloat32(NORM)), fixture('expert-code', NORM));
  const typo = runMerge('merge_method: linear\nmodels:\n  - model: models/cod@v1\n    parameters: {weight: 1}\n', undefined, { inMemory: true, progress: 'none', cwd: root });
  await assert.rejects(typo, (error: Error & { hint?: string }) => {
    assert.match(error.message, /'models\/cod@v1' does not exist/);
    assert.doesNotMatch(error.hint!, /huggingface-cli/);
    return true;
  });
});

async function mergeToDisk(file: string, out: string): Promise<MergeResult> {
  const { config, text } = loadMergeConfigFile(join(CONFIGS, file), root);
  return runMerge(config, join(root, out), { progress: 'none', cwd: root, configText: text });
}

const rowOf = (values: ArrayLike<number>, row: number, cols: number): number[] => Array.from({ length: cols }, (_, c) => values[row * cols + c]!);

test('tokenizer-tokens.yml: forced rows (zero, model_token, model), unforced entry merged, base → first model, chatml template', async () => {
  const result = await mergeToDisk('tokenizer-tokens.yml', 'out-tokens');
  const merged = openCheckpoint(result.output!);
  try {
    for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
      const code = readFixtureTensor('expert-code', name);
      const math = readFixtureTensor('expert-math', name).data;
      const cols = code.shape[1]!;
      const out = merged.readFloat32(name);
      assert.deepEqual(merged.info(name).shape, code.shape, 'pad_to_multiple_of: null keeps the vocabulary');
      const linear = (row: number) => rowOf(code.data, row, cols).map((v, c) => (0.6 * v + 0.4 * math[row * cols + c]!) / 1.0);
      // ids from tokenizer.json: <|endoftext|> 0, ! 1, " 2, # 3, $ 4
      assert.deepEqual(rowOf(out, 0, cols), new Array(cols).fill(0), `${name}: zero row`);
      assertWithin(Float32Array.from(rowOf(out, 1, cols)), rowOf(math, 2, cols), 1e-6, `${name}: '!' ← math's '"'`);
      assertWithin(Float32Array.from(rowOf(out, 3, cols)), rowOf(code.data, 3, cols), 1e-6, `${name}: '#' ← code's row`);
      assertWithin(Float32Array.from(rowOf(out, 4, cols)), linear(4), 1e-6, `${name}: '$' unforced → merged`);
      assertWithin(Float32Array.from(rowOf(out, 500, cols)), linear(500), 1e-6, `${name}: other rows merged`);
    }
  } finally {
    merged.close();
  }
  const template = readFileSync(join(result.output!, 'chat_template.jinja'), 'utf8');
  assert.equal(template, BUILTIN_CHAT_TEMPLATES.chatml);
  assert.deepEqual(readFileSync(join(result.output!, 'tokenizer.json')), readFileSync(join(FIXTURES, 'expert-code', 'tokenizer.json')));
});

test('tokenizer-pad.yml: vocabulary padded to a multiple of 100 with the mean row; token_id source; literal template', async () => {
  const result = await mergeToDisk('tokenizer-pad.yml', 'out-pad');
  const config = JSON.parse(readFileSync(join(result.output!, 'config.json'), 'utf8')) as { vocab_size: number };
  assert.equal(config.vocab_size, 1100);
  const merged = openCheckpoint(result.output!);
  try {
    const name = 'model.embed_tokens.weight';
    const code = readFixtureTensor('expert-code', name);
    const lit = readFixtureTensor('expert-literature', name).data;
    const [vocab, cols] = code.shape as [number, number];
    const out = merged.readFloat32(name);
    assert.deepEqual(merged.info(name).shape, [1100, cols]);
    const mean = (values: ArrayLike<number>) => Array.from({ length: cols }, (_, c) => {
      let sum = 0;
      for (let r = 0; r < vocab; r++) sum += values[r * cols + c]!;
      return sum / vocab;
    });
    // '%' (id 5) is forced to literature's row 7 in both inputs; the mean rows include that replacement
    const forcedCode = Float64Array.from(code.data);
    forcedCode.set(rowOf(lit, 7, cols), 5 * cols);
    const forcedLit = Float64Array.from(lit);
    forcedLit.set(rowOf(lit, 7, cols), 5 * cols);
    const [meanCode, meanLit] = [mean(forcedCode), mean(forcedLit)];
    const padded = meanCode.map((v, c) => (1 * v + 3 * meanLit[c]!) / 4);
    assertWithin(Float32Array.from(rowOf(out, 1099, cols)), padded, 1e-5, 'padding row');
    assertWithin(Float32Array.from(rowOf(out, 1024, cols)), padded, 1e-5, 'first padding row');
    assertWithin(Float32Array.from(rowOf(out, 5, cols)), rowOf(lit, 7, cols), 1e-6, "'%' ← literature id 7");
  } finally {
    merged.close();
  }
  assert.equal(readFileSync(join(result.output!, 'chat_template.jinja'), 'utf8'), "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}");
});

test('modules.yml: one module lifted; its t = 0.25 beats the global 0.9', async () => {
  const result = await merge('modules.yml');
  const name = 'model.layers.2.mlp.down_proj.weight';
  const v0 = fixture('expert-code', name);
  const v1 = fixture('expert-math', name);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const dot = v0.reduce((s, x, i) => s + x * v1[i]!, 0) / (norm(v0) * norm(v1));
  const theta = Math.acos(dot);
  const expected = v0.map((x, i) => (Math.sin(0.75 * theta) * x + Math.sin(0.25 * theta) * v1[i]!) / Math.sin(theta));
  assertWithin(result.checkpoint!.readFloat32(name), expected, 1e-5, name);
});

test('multi.yml: three documents through the CLI; the last merges the first two by name; the intermediate cache is removed', async () => {
  const parent = join(root, 'multi-parent');
  mkdirSync(parent);
  const previous = process.cwd();
  process.chdir(root);
  let cli;
  try {
    cli = await runCli(['merge', join(CONFIGS, 'multi.yml'), join(parent, 'out'), '--json']);
  } finally {
    process.chdir(previous);
  }
  assert.equal(cli.code, 0, cli.stderr);
  const json = JSON.parse(cli.stdout) as { documents: { name: string | null }[] };
  assert.deepEqual(json.documents.map((d) => d.name), ['code-math', 'literature-code', null]);
  assert.deepEqual(readdirSync(parent), ['out'], 'no intermediate folder left');
  const merged = openCheckpoint(join(parent, 'out'));
  try {
    for (const name of [NORM, 'model.layers.3.self_attn.k_proj.weight']) {
      const [code, math, lit] = ['expert-code', 'expert-math', 'expert-literature'].map((m) => fixture(m, name));
      const expected = code!.map((c, i) => 0.5 * c + 0.25 * math![i]! + 0.25 * lit![i]!);
      assertWithin(merged.readFloat32(name), expected, 1e-5, name); // two float32 roundings (intermediate, final)
    }
  } finally {
    merged.close();
  }
});
