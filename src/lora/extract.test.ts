import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ShapeMismatchError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { LoraMergedCheckpoint } from '../io/lora-view.js';
import { MemoryCheckpoint } from '../io/memory-checkpoint.js';
import { openAdapter, openCheckpoint } from '../io/open.js';
import { loraAdapterFromMemory, writeAdapterFolder } from './adapter-folder.js';
import { extractLora, type LoraExtraction } from './extract.js';

const FIXTURES = 'test/fixtures/tiny-llama';

/** Singular values by one-sided Jacobi (Hestenes) in float64: an independent reference for ml-matrix. */
function jacobiSingularValues(matrix: Float64Array, rows: number, cols: number): number[] {
  // work on columns of M (rows ≥ cols) or of Mᵀ
  const [m, n] = rows >= cols ? [rows, cols] : [cols, rows];
  const columns = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => (rows >= cols ? matrix[i * cols + j]! : matrix[j * cols + i]!)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const x = columns[p]!;
        const y = columns[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += x[i]! * x[i]!;
          beta += y[i]! * y[i]!;
          gamma += x[i]! * y[i]!;
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const xi = x[i]!;
          const yi = y[i]!;
          x[i] = c * xi - s * yi;
          y[i] = s * xi + c * yi;
        }
      }
    }
    if (!rotated) break;
  }
  return columns.map((col) => Math.sqrt(col.reduce((sum, v) => sum + v * v, 0))).sort((a, b) => b - a);
}

function deltaOf(tuned: Checkpoint, base: Checkpoint, name: string): Float64Array {
  const f = tuned.readFloat32(name);
  const b = base.readFloat32(name);
  return Float64Array.from(f, (v, i) => v - b[i]!);
}

/** ‖Δ − s·B·A‖_F in float64 from the adapter's float32 factors. */
function residualNorm(delta: Float64Array, extraction: LoraExtraction, module: string, rows: number, cols: number): number {
  const a = readF32(extraction, `base_model.model.${module}.lora_A.weight`);
  const b = readF32(extraction, `base_model.model.${module}.lora_B.weight`);
  const k = a.length / cols;
  let squares = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let product = 0;
      for (let i = 0; i < k; i++) product += b[r * k + i]! * a[i * cols + c]!;
      squares += (delta[r * cols + c]! - product) ** 2;
    }
  }
  return Math.sqrt(squares);
}

function readF32(extraction: LoraExtraction, name: string): Float32Array {
  const tensor = extraction.adapter.tensors.get(name);
  assert.ok(tensor, `adapter tensor ${name} missing`);
  return new Float32Array(tensor.data.buffer.slice(tensor.data.byteOffset, tensor.data.byteOffset + tensor.data.byteLength));
}

function gaussian(count: number, ...key: (string | number)[]): Float64Array {
  const rng = createRng(11, ...key);
  return Float64Array.from({ length: count }, () => rng.normal());
}

/** base, and base + B·A of exact rank `rank` (stored in float32), plus a changed norm vector. */
function rankKFamily(rows: number, cols: number, rank: number) {
  const base = gaussian(rows * cols, 'base').map((v) => v * 0.05);
  const b = gaussian(rows * rank, 'B');
  const a = gaussian(rank * cols, 'A');
  const tuned = base.map((v, idx) => {
    const r = Math.floor(idx / cols);
    const c = idx % cols;
    let sum = 0;
    for (let i = 0; i < rank; i++) sum += b[r * rank + i]! * a[i * cols + c]!;
    return v + 0.01 * sum;
  });
  const config = { model_type: 'llama', num_hidden_layers: 1 };
  const make = (values: Float64Array, norm: number[], source: string) =>
    MemoryCheckpoint.fromFloat32(
      {
        'model.layers.0.mlp.up_proj.weight': { shape: [rows, cols], values },
        'model.layers.0.input_layernorm.weight': { shape: [3], values: norm },
        'model.norm.weight': { shape: [2], values: [1, 1] },
      },
      { source, config },
    );
  return { base: make(base, [1, 1, 1], 'base'), tuned: make(tuned, [1, 2, 1], 'tuned') };
}

test('an exactly rank-k delta is reconstructed to float rounding for every max_rank ≥ k', () => {
  const { base, tuned } = rankKFamily(48, 40, 3);
  const name = 'model.layers.0.mlp.up_proj.weight';
  const delta = deltaOf(tuned, base, name);
  const sigma = jacobiSingularValues(delta, 48, 40);
  const deltaNorm = Math.sqrt(sigma.reduce((s, v) => s + v * v, 0));
  for (const [maxRank, svEpsilon, expectedRank] of [
    [3, 0, 3],
    [6, 0, 6], // the float32 rounding of F leaves tiny singular values beyond k
    [6, 1e-4 * sigma[0]!, 3],
    [40, 1e-4 * sigma[0]!, 3],
  ] as const) {
    const extraction = extractLora(tuned, base, { maxRank, svEpsilon });
    assert.equal(extraction.rank, expectedRank);
    assert.deepEqual(
      extraction.modules.map((m) => [m.module, m.rank, m.svd]),
      [['model.layers.0.mlp.up_proj', expectedRank, 'exact']],
    );
    const residual = residualNorm(delta, extraction, 'model.layers.0.mlp.up_proj', 48, 40);
    assert.ok(residual <= 1e-6 * deltaNorm, `max_rank ${maxRank}: residual ${residual} vs ‖Δ‖ ${deltaNorm}`);
    // base+adapter reproduces F's weight to float32 rounding of W'
    const view = new LoraMergedCheckpoint(base, loraAdapterFromMemory(extraction.adapter));
    const merged = view.readFloat32(name);
    const f = tuned.readFloat32(name);
    const w = base.readFloat32(name);
    // float rounding at the tensor's scale: F and W were each rounded to float32, so Δ carries full-rank noise
    // of ~2⁻²⁴·|W| that a rank-k truncation drops and spreads; judge the error against ‖W‖ + ‖Δ‖
    let errorSquares = 0;
    let weightSquares = 0;
    merged.forEach((v, i) => {
      errorSquares += (v - f[i]!) ** 2;
      weightSquares += w[i]! ** 2;
    });
    const scale = Math.sqrt(weightSquares) + deltaNorm;
    assert.ok(Math.sqrt(errorSquares) <= 2 ** -22 * scale, `max_rank ${maxRank}: ‖W' − F‖ = ${Math.sqrt(errorSquares)} vs scale ${scale}`);
  }
  const extraction = extractLora(tuned, base, { maxRank: 3 });
  assert.deepEqual(
    extraction.skipped.map((s) => [s.name, s.reason, s.saved]),
    [
      ['model.layers.0.input_layernorm.weight', '1-D tensor', false],
      ['model.norm.weight', '1-D tensor', false],
    ],
  );
  assert.deepEqual(extraction.adapter.config.modules_to_save, null);
});

test('full-rank delta (expert-code q_proj): residual = Eckart–Young tail √(Σ_{i>k} σ_i²) to 1e-6', () => {
  const base = openCheckpoint(join(FIXTURES, 'base'));
  const expert = openCheckpoint(join(FIXTURES, 'expert-code'));
  const name = 'model.layers.0.self_attn.q_proj.weight';
  const only = (checkpoint: Checkpoint) =>
    MemoryCheckpoint.fromFloat32({ [name]: { shape: [128, 128], values: checkpoint.readFloat32(name) } }, { source: checkpoint.source });
  try {
    const [b, f] = [only(base), only(expert)];
    const delta = deltaOf(f, b, name);
    const sigma = jacobiSingularValues(delta, 128, 128);
    assert.ok(sigma[127]! > 1e-6, 'the fine-tune delta is full rank');
    for (const k of [1, 8, 32]) {
      const tail = Math.sqrt(sigma.slice(k).reduce((s, v) => s + v * v, 0));
      for (const distributeScale of [true, false]) {
        const extraction = extractLora(f, b, { maxRank: k, distributeScale });
        const module = extraction.modules[0]!;
        assert.equal(module.rank, k);
        assert.ok(Math.abs(module.tail - tail) <= 1e-9 * tail, `reported tail ${module.tail} vs Jacobi ${tail}`);
        module.singularValues.forEach((s, i) => assert.ok(Math.abs(s - sigma[i]!) <= 1e-9 * sigma[0]!, `σ_${i}`));
        const residual = residualNorm(delta, extraction, 'model.layers.0.self_attn.q_proj', 128, 128);
        assert.ok(Math.abs(residual - tail) <= 1e-6 * tail, `k=${k}: residual ${residual} vs tail ${tail}`);
        // distribute scale: ‖A_i‖ = ‖B_:i‖ = √σ_i; otherwise ‖A_i‖ = σ_i and ‖B_:i‖ = 1
        const a = readF32(extraction, 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
        const bFactor = readF32(extraction, 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight');
        const aNorm = Math.hypot(...a.subarray(0, 128));
        let bNorm = 0;
        for (let r = 0; r < 128; r++) bNorm += bFactor[r * k]! ** 2;
        const expected = distributeScale ? [Math.sqrt(sigma[0]!), Math.sqrt(sigma[0]!)] : [sigma[0]!, 1];
        assert.ok(Math.abs(aNorm - expected[0]!) < 1e-5 * expected[0]! && Math.abs(Math.sqrt(bNorm) - expected[1]!) < 1e-5, 'factor scales');
      }
    }
  } finally {
    base.close();
    expert.close();
  }
});

/** A rows × cols matrix with singular values `sigma` and random orthonormal singular vectors. */
function withSpectrum(rows: number, cols: number, sigma: readonly number[]): Float64Array {
  const orthonormal = (length: number, count: number, key: string) => {
    const vectors = Array.from({ length: count }, (_, j) => gaussian(length, key, j));
    vectors.forEach((x, j) => {
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          const q = vectors[i]!;
          const dot = q.reduce((s, v, t) => s + v * x[t]!, 0);
          x.forEach((v, t) => (x[t] = v - dot * q[t]!));
        }
      }
      const norm = Math.hypot(...x);
      x.forEach((v, t) => (x[t] = v / norm));
    });
    return vectors;
  };
  const u = orthonormal(rows, sigma.length, 'u');
  const v = orthonormal(cols, sigma.length, 'v');
  const out = new Float64Array(rows * cols);
  sigma.forEach((s, i) => {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = out[r * cols + c]! + s * u[i]![r]! * v[i]![c]!;
  });
  return out;
}

test('randomized SVD (p = 10, q = 2) on a fast-decaying spectrum is within 1e-3 of the exact tail, and seeded', () => {
  const rows = 160;
  const cols = 120;
  const sigma = Array.from({ length: 120 }, (_, i) => 0.7 ** i);
  const delta = withSpectrum(rows, cols, sigma);
  const name = 'model.layers.0.mlp.down_proj.weight';
  const base = MemoryCheckpoint.fromFloat32({ [name]: { shape: [rows, cols], values: new Float64Array(rows * cols) } }, { source: 'zero' });
  const tuned = MemoryCheckpoint.fromFloat32({ [name]: { shape: [rows, cols], values: delta } }, { source: 'tuned' });
  const stored = deltaOf(tuned, base, name);
  const module = 'model.layers.0.mlp.down_proj';
  for (const k of [4, 12]) {
    const exact = extractLora(tuned, base, { maxRank: k, svd: 'exact' });
    const randomized = extractLora(tuned, base, { maxRank: k, svd: 'randomized', seed: 5 });
    assert.equal(randomized.modules[0]!.svd, 'randomized');
    assert.equal(exact.modules[0]!.svd, 'exact');
    const exactTail = residualNorm(stored, exact, module, rows, cols);
    const randomizedTail = residualNorm(stored, randomized, module, rows, cols);
    const theoreticalTail = Math.sqrt(sigma.slice(k).reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(exactTail - theoreticalTail) <= 1e-5 * theoreticalTail, `exact ${exactTail} vs constructed ${theoreticalTail}`);
    assert.ok(randomizedTail >= exactTail * (1 - 1e-9), 'Eckart–Young: nothing beats the exact truncation');
    assert.ok((randomizedTail - exactTail) / exactTail <= 1e-3, `k=${k}: randomized ${randomizedTail} vs exact ${exactTail}`);
    const again = extractLora(tuned, base, { maxRank: k, svd: 'randomized', seed: 5 });
    for (const [tensorName, tensor] of randomized.adapter.tensors) assert.deepEqual(again.adapter.tensors.get(tensorName)!.data, tensor.data);
  }
});

test('embeddings only on request, as lora_embedding_A/B whose (B·A)ᵀ is the delta', () => {
  const vocab = 20;
  const dim = 6;
  const base = gaussian(vocab * dim, 'embed-base');
  const u = gaussian(vocab * 2, 'embed-u');
  const v = gaussian(2 * dim, 'embed-v');
  const tuned = base.map((x, idx) => x + u[Math.floor(idx / dim) * 2]! * v[idx % dim]! + u[Math.floor(idx / dim) * 2 + 1]! * v[dim + (idx % dim)]!);
  const name = 'model.embed_tokens.weight';
  const b = MemoryCheckpoint.fromFloat32({ [name]: { shape: [vocab, dim], values: base } }, { source: 'b' });
  const f = MemoryCheckpoint.fromFloat32({ [name]: { shape: [vocab, dim], values: tuned } }, { source: 'f' });
  assert.throws(() => extractLora(f, b, { maxRank: 4 }), /no module of 'f' differs/);
  const skippedOnly = extractLora(f, b, { maxRank: 4, includeEmbeddings: true });
  assert.equal(skippedOnly.modules[0]!.kind, 'embedding');
  const extraction = extractLora(f, b, { maxRank: 4, includeEmbeddings: true, svEpsilon: 1e-4 });
  assert.equal(extraction.rank, 2);
  assert.deepEqual(
    [...extraction.adapter.tensors].map(([n, t]) => [n, t.shape]),
    [
      ['base_model.model.model.embed_tokens.lora_embedding_A', [2, vocab]],
      ['base_model.model.model.embed_tokens.lora_embedding_B', [dim, 2]],
    ],
  );
  const view = new LoraMergedCheckpoint(b, loraAdapterFromMemory(extraction.adapter));
  const merged = view.readFloat32(name);
  const expected = f.readFloat32(name);
  merged.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) <= 1e-5, `${i}: ${x} vs ${expected[i]}`));
});

test('bad options and mismatched models are rejected', () => {
  const { base, tuned } = rankKFamily(8, 6, 2);
  assert.throws(() => extractLora(tuned, base, { maxRank: 0 }), (e: unknown) => e instanceof ConfigError && /rank: expected a positive integer, got 0/.test(e.message));
  assert.throws(() => extractLora(tuned, base, { maxRank: 2, svEpsilon: -1 }), ConfigError);
  const wide = MemoryCheckpoint.fromFloat32({
    'model.layers.0.mlp.up_proj.weight': { shape: [8, 7], values: new Float64Array(56) },
    'model.layers.0.input_layernorm.weight': { shape: [3], values: [1, 1, 1] },
    'model.norm.weight': { shape: [2], values: [1, 1] },
  }, { source: 'wide' });
  assert.throws(() => extractLora(wide, base, { maxRank: 2 }), (e: unknown) => e instanceof ShapeMismatchError && /base: \[8, 6\]; wide: \[8, 7\]/.test(e.message));
});

test('written adapter (expert-code, rank 8, --save-skipped) loads via openAdapter and base+adapter reproduces F to the tail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-extract-'));
  const base = openCheckpoint(join(FIXTURES, 'base'));
  const expert = openCheckpoint(join(FIXTURES, 'expert-code'));
  try {
    const extraction = extractLora(expert, base, { maxRank: 8, saveSkipped: true });
    assert.equal(extraction.modules.length, 29); // 4 layers × 7 projections + lm_head
    assert.deepEqual(extraction.skipped.filter((s) => !s.saved).map((s) => s.name), []);
    const out = writeAdapterFolder(join(dir, 'code-r8'), extraction.adapter);
    const adapter = openAdapter(out);
    try {
      assert.equal(adapter.config.r, 8);
      assert.equal(adapter.config.loraAlpha, 8);
      assert.equal(adapter.updates.size, 29);
      assert.equal(adapter.replacements.size, 10); // 9 norms + the embedding table, all changed by fine-tuning
      for (const update of adapter.updates.values()) assert.equal(update.scale, 1);
    } finally {
      adapter.close();
    }
    const view = openCheckpoint(`${join(FIXTURES, 'base')}+${out}`);
    try {
      for (const module of extraction.modules) {
        const name = `${module.module}.weight`;
        const merged = view.readFloat32(name);
        const f = expert.readFloat32(name);
        let squares = 0;
        let weightSquares = 0;
        merged.forEach((x, i) => {
          squares += (x - f[i]!) ** 2;
          weightSquares += f[i]! ** 2;
        });
        // float32 rounding of W' = B + B·A adds at most ~2⁻²⁴‖F‖ to the tail
        const error = Math.sqrt(squares);
        assert.ok(Math.abs(error - module.tail) <= 1e-6 * module.tail + 2 ** -23 * Math.sqrt(weightSquares), `${name}: ${error} vs tail ${module.tail}`);
      }
      assert.deepEqual(view.readFloat32('model.norm.weight'), expert.readFloat32('model.norm.weight'));
      assert.deepEqual(view.readFloat32('model.embed_tokens.weight'), expert.readFloat32('model.embed_tokens.weight'));
    } finally {
      view.close();
    }
  } finally {
    base.close();
    expert.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
