/**
 * Fast LlamaForCausalLM forward pass on tfjs-core's wasm backend (SIMD, one thread per instance): the same
 * math as llama-reference.ts (RMSNorm, rotate-half RoPE, causal grouped-query attention, SwiGLU) in float32.
 * Tested against the reference in llama-model.test.ts.
 *
 * Shaped by measurements on tfjs 4.22 wasm: only 2-D matMuls reach XNNPACK (batched ones run ~3× slower,
 * `transposeB` ~20× slower), and Slice/SplitV/Unpack copy their whole input once per output while Gather is
 * a slow element loop. So each window runs as its own 2-D pipeline and nothing is ever sliced: weights are
 * stored pre-transposed `[in, out]` and pre-split per key/value head group; rotate-half is a matMul with a
 * signed permutation; the output projection is a sum over head groups instead of a concat; the 1/√headDim
 * attention scale is folded into q_proj. Grouped-query attention stacks the query heads that share a
 * key/value head into the rows of one scores matMul instead of repeating keys and values.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { ModelevoError } from '../core/errors.js';
import type { LlamaConfig } from './llama-config.js';
import { ropeTables } from './llama-reference.js';
import type { LlamaWeights } from './llama-weights.js';

let backendReady: Promise<void> | undefined;

/** Selects the wasm backend once per thread; later calls share the same promise. */
export function initTfWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    tf.enableProdMode();
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') {
      throw new ModelevoError('KERNEL_UNAVAILABLE', `tfjs wasm backend failed to initialise (active backend: ${tf.getBackend()})`, {
        hint: 'check that @tensorflow/tfjs-backend-wasm is installed with its .wasm files',
      });
    }
  })();
  return backendReady;
}

/** Projections of the query heads sharing one key/value head, and that group's slice of o_proj. */
interface TfHeadGroup {
  /** `[hidden, group·headDim]`, scaled by 1/√headDim */
  q: tf.Tensor2D;
  k: tf.Tensor2D;
  v: tf.Tensor2D;
  /** `[group·headDim, hidden]` */
  o: tf.Tensor2D;
}

interface TfLayer {
  inputNorm: tf.Tensor1D;
  groups: TfHeadGroup[];
  postNorm: tf.Tensor1D;
  gate: tf.Tensor2D;
  up: tf.Tensor2D;
  down: tf.Tensor2D;
}

interface PositionTables {
  /** `[length, headDim]` cos and sin (halves repeated) for keys */
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  /** the same tiled over the query heads of a group: `[group·length, headDim]` */
  groupCos: tf.Tensor2D;
  groupSin: tf.Tensor2D;
  /** additive causal mask `[group·length, length]` */
  mask: tf.Tensor2D;
}

/** Rows `[from, to)` of a `[rows, cols]` row-major matrix, transposed to `[cols, to − from]`. */
function transposedRows(weight: Float32Array, cols: number, from: number, to: number, factor = 1): tf.Tensor2D {
  const out = new Float32Array((to - from) * cols);
  const width = to - from;
  for (let r = from; r < to; r++) {
    for (let c = 0; c < cols; c++) out[c * width + (r - from)] = weight[r * cols + c]! * factor;
  }
  return tf.tensor2d(out, [cols, width]);
}

/** Columns `[from, to)` of a `[rows, cols]` row-major matrix, transposed to `[to − from, rows]`. */
function transposedColumns(weight: Float32Array, rows: number, cols: number, from: number, to: number): tf.Tensor2D {
  const out = new Float32Array((to - from) * rows);
  for (let r = 0; r < rows; r++) {
    for (let c = from; c < to; c++) out[(c - from) * rows + r] = weight[r * cols + c]!;
  }
  return tf.tensor2d(out, [to - from, rows]);
}

/** `[headDim, headDim]` matrix R with x·R = rotate_half(x) = (−x₂, x₁). */
function rotateHalfMatrix(headDim: number): tf.Tensor2D {
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let i = 0; i < half; i++) {
    r[(i + half) * headDim + i] = -1;
    r[i * headDim + i + half] = 1;
  }
  return tf.tensor2d(r, [headDim, headDim]);
}

/** One model's weights resident in this thread's wasm backend. Call `dispose()` when done. */
export class TfLlama {
  readonly config: LlamaConfig;
  /** kept on the JS side: a row copy here beats the backend's element-wise Gather */
  private readonly embed: Float32Array;
  private readonly layers: TfLayer[];
  private readonly finalNorm: tf.Tensor1D;
  private readonly lmHead: tf.Tensor2D;
  private readonly rotateHalf: tf.Tensor2D;
  private readonly positionCache = new Map<number, PositionTables>();
  private disposed = false;

  /** The backend must be initialised first (`await initTfWasmBackend()`). */
  constructor(weights: LlamaWeights) {
    const c = weights.config;
    const { hiddenSize: d, headDim, numHeads, numKvHeads, intermediateSize: m } = c;
    const group = numHeads / numKvHeads;
    const scale = 1 / Math.sqrt(headDim);
    this.config = c;
    this.embed = weights.embed;
    this.layers = weights.layers.map((layer) => ({
      inputNorm: tf.tensor1d(layer.inputNorm),
      groups: Array.from({ length: numKvHeads }, (_, g) => ({
        q: transposedRows(layer.q, d, g * group * headDim, (g + 1) * group * headDim, scale),
        k: transposedRows(layer.k, d, g * headDim, (g + 1) * headDim),
        v: transposedRows(layer.v, d, g * headDim, (g + 1) * headDim),
        o: transposedColumns(layer.o, d, numHeads * headDim, g * group * headDim, (g + 1) * group * headDim),
      })),
      postNorm: tf.tensor1d(layer.postNorm),
      gate: transposedRows(layer.gate, d, 0, m),
      up: transposedRows(layer.up, d, 0, m),
      down: transposedRows(layer.down, m, 0, d),
    }));
    this.finalNorm = tf.tensor1d(weights.finalNorm);
    this.lmHead = transposedRows(weights.lmHead, d, 0, c.vocabSize);
    this.rotateHalf = rotateHalfMatrix(headDim);
  }

  /** Logits `[length, vocab]` of one sequence. */
  logits(ids: Int32Array): Float32Array {
    this.checkInput(ids);
    const logits = tf.tidy(() => this.forward(ids));
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    return values;
  }

  /**
   * Next-token cross-entropy (nats) at each of the `length − 1` positions of one sequence, computed as
   * logsumexp − target logit inside the backend, so only one float per prediction is copied out.
   */
  nextTokenLosses(ids: Int32Array): Float32Array {
    this.checkInput(ids);
    const { vocabSize } = this.config;
    const predictions = ids.length - 1;
    const targetIndex = new Int32Array(predictions);
    for (let t = 0; t < predictions; t++) targetIndex[t] = t * vocabSize + ids[t + 1]!;
    const losses = tf.tidy(() => {
      const hidden = this.finalHidden(ids.subarray(0, predictions));
      const logits = tf.matMul(hidden, this.lmHead);
      const picked = tf.gather(tf.reshape(logits, [-1]), tf.tensor1d(targetIndex, 'int32'));
      return tf.sub(tf.logSumExp(logits, 1), picked);
    });
    const values = losses.dataSync() as Float32Array;
    losses.dispose();
    return values;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const tensors: tf.Tensor[] = [this.finalNorm, this.lmHead, this.rotateHalf];
    for (const layer of this.layers) {
      tensors.push(layer.inputNorm, layer.postNorm, layer.gate, layer.up, layer.down);
      for (const group of layer.groups) tensors.push(group.q, group.k, group.v, group.o);
    }
    for (const tables of this.positionCache.values()) tensors.push(...Object.values(tables));
    tf.dispose(tensors);
    this.positionCache.clear();
  }

  private checkInput(ids: Int32Array): void {
    if (this.disposed) throw new ModelevoError('INTERNAL', 'TfLlama used after dispose()');
    if (ids.length < 1 || ids.length > this.config.maxPositions) {
      throw new ModelevoError('VALUE_INVALID', `sequence length ${ids.length} outside [1, ${this.config.maxPositions}] (max_position_embeddings)`, {
        hint: 'use a window no longer than the model was trained for',
      });
    }
    for (const id of ids) {
      if (id < 0 || id >= this.config.vocabSize) {
        throw new ModelevoError('VALUE_INVALID', `token id ${id} outside the vocabulary [0, ${this.config.vocabSize})`, {
          hint: 'the tokenizer does not match the model; evaluate with the model folder’s own tokenizer.json',
        });
      }
    }
  }

  private positionTables(length: number): PositionTables {
    const cached = this.positionCache.get(length);
    if (cached) return cached;
    const { headDim, numHeads, numKvHeads } = this.config;
    const group = numHeads / numKvHeads;
    const half = headDim / 2;
    const { cos, sin } = ropeTables(this.config, length);
    const cosFull = new Float32Array(group * length * headDim);
    const sinFull = new Float32Array(group * length * headDim);
    for (let row = 0; row < group * length; row++) {
      const t = row % length;
      for (let i = 0; i < headDim; i++) {
        cosFull[row * headDim + i] = cos[t * half + (i % half)]!;
        sinFull[row * headDim + i] = sin[t * half + (i % half)]!;
      }
    }
    // row g·length + i is query position i of the group's g-th head: it sees keys 0..i
    const mask = new Float32Array(group * length * length);
    for (let row = 0; row < group * length; row++) mask.fill(-1e9, row * length + (row % length) + 1, (row + 1) * length);
    // created lazily inside a tidy scope: keep them past it (dispose() frees them)
    const tables: PositionTables = {
      cos: tf.keep(tf.tensor2d(cosFull.subarray(0, length * headDim), [length, headDim])),
      sin: tf.keep(tf.tensor2d(sinFull.subarray(0, length * headDim), [length, headDim])),
      groupCos: tf.keep(tf.tensor2d(cosFull, [group * length, headDim])),
      groupSin: tf.keep(tf.tensor2d(sinFull, [group * length, headDim])),
      mask: tf.keep(tf.tensor2d(mask, [group * length, length])),
    };
    this.positionCache.set(length, tables);
    return tables;
  }

  private rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D): tf.Tensor2D {
    const meanSquare = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.config.rmsNormEps))), weight);
  }

  /** x·cos + rotate_half(x)·sin on rows of one head each. */
  private rope(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.mul(x, cos), tf.mul(tf.matMul(x, this.rotateHalf), sin));
  }

  /** Causal grouped-query attention of one sequence, already through o_proj: `[length, hidden]`. */
  private attention(normed: tf.Tensor2D, layer: TfLayer, length: number): tf.Tensor2D {
    const { numHeads, numKvHeads, headDim } = this.config;
    const group = numHeads / numKvHeads;
    const tables = this.positionTables(length);
    const outputs = layer.groups.map((weights) => {
      // [length, group·headDim] → rows ordered (head, position): [group·length, headDim]
      const queries = tf.reshape<tf.Rank.R2>(
        tf.transpose(tf.reshape(tf.matMul(normed, weights.q), [length, group, headDim]), [1, 0, 2]),
        [group * length, headDim],
      );
      const rotatedQueries = this.rope(queries, tables.groupCos, tables.groupSin);
      const keysT = tf.transpose(this.rope(tf.matMul(normed, weights.k), tables.cos, tables.sin));
      const scores = tf.add(tf.matMul(rotatedQueries, keysT), tables.mask);
      const context = tf.matMul(tf.softmax(scores), tf.matMul(normed, weights.v));
      const byPosition = tf.reshape<tf.Rank.R2>(tf.transpose(tf.reshape(context, [group, length, headDim]), [1, 0, 2]), [
        length,
        group * headDim,
      ]);
      return tf.matMul(byPosition, weights.o) as tf.Tensor2D;
    });
    return outputs.length === 1 ? outputs[0]! : (tf.addN(outputs) as tf.Tensor2D);
  }

  /** Final-norm hidden states `[length, hidden]`; runs inside a tidy scope. */
  private finalHidden(ids: Int32Array): tf.Tensor2D {
    const length = ids.length;
    const d = this.config.hiddenSize;
    const embedded = new Float32Array(length * d);
    for (let t = 0; t < length; t++) embedded.set(this.embed.subarray(ids[t]! * d, (ids[t]! + 1) * d), t * d);
    let x = tf.tensor2d(embedded, [length, d]);
    for (const layer of this.layers) {
      x = tf.add(x, this.attention(this.rmsNorm(x, layer.inputNorm), layer, length));
      const normed = this.rmsNorm(x, layer.postNorm);
      const gate = tf.matMul(normed, layer.gate);
      const activated = tf.mul(tf.mul(gate, tf.sigmoid(gate)), tf.matMul(normed, layer.up));
      x = tf.add(x, tf.matMul(activated, layer.down));
    }
    return this.rmsNorm(x, this.finalNorm);
  }

  private forward(ids: Int32Array): tf.Tensor2D {
    return tf.matMul(this.finalHidden(ids), this.lmHead);
  }
}
