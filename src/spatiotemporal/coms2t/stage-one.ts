/**
 * ComS2T Stage 1b on the training engine (coms2t.md §3.4): the prompt-conditioned Graph WaveNet (prompted-gwn.ts)
 * trained on the forecast loss, with the stable tensors of the weight split frozen. A session trainGwn drives
 * (epochs, early stopping, restore-best), and the forecaster ComS2T's evaluation uses.
 *
 * One optimiser step, as the authors' `engine.train` (hqh0728/ComS2T f818815) with our GWN conventions:
 * - masked MAE on inverse-scaled forecasts; gradients of the backbone and of the prompt networks (encoder hidden
 *   layers and projections: the encoder's output heads do not reach the forecast, get no gradient and stay);
 * - one global clip norm over the backbone and prompt gradients together, on the raw gradients
 *   (`clip_grad_norm_(self.model.parameters(), self.clip)`, engine.py line 66, clip 5 at line 25);
 * - then L2 weight decay λ·w added to every trained gradient, at full strength (PyTorch Adam's weight_decay
 *   works inside `optimizer.step()`, line 67, after the clip), the same order as Stage 0's GwnEngineSession;
 * - Adam on both models, a FRESH one: zero moments and step count 1 at the session's first step — the code's
 *   `set_opt` builds a new optim.Adam at every stage transition (pipeline.ts cites it); no warm-up.
 * Frozen elements (whole stable tensors, and the stable elements of partly stable tensors under the
 * element-variance split) get a zero gradient, take no part in the clip norm and are written back to their
 * starting values after every step (Adam's ε and moments would otherwise move them): they stay bit-identical,
 * which is what the tfjs version's mask ⊙ w + (1 − mask) ⊙ w_stable remap achieved in the forward.
 */
import { ModelevoError } from '../../core/errors.js';
import { createRng, type Rng } from '../../core/rng.js';
import { restorableViews } from '../../nn/fit.js';
import type { ArenaArray } from '../../nn/kernels/kernels.js';
import type { CompileOptions, Model } from '../../nn/model.js';
import { HORIZON_STEPS } from '../../tasks/traffic/windows.js';
import { defaultGwnConfig, type GraphWaveNetConfig, type GwnWeights } from '../gwn-config.js';
import { getGwnWeights, gwnTensorMappings } from '../gwn-engine.js';
import { InferenceCopies } from '../gwn-engine-inference.js';
import type { GwnStepOptions } from '../gwn-fit.js';
import { targetsOf, type PreparedTraffic } from '../gwn-data.js';
import { maskedMetrics, type ForecastMetrics } from '../metrics.js';
import type { PromptFeatureContext } from './features.js';
import { isPromptTensor } from './prompt-encoder.js';
import { PromptedGwn } from './prompted-gwn.js';

export interface StageOneOptions {
  readonly seed: number | string;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly config: GraphWaveNetConfig | Partial<GraphWaveNetConfig>;
  /** backbone tensors (tfjs names and layouts) and, when `prompts`, the prompt tensors */
  readonly weights: GwnWeights;
  readonly prompts: boolean;
  /** backbone tensors (tfjs names) frozen whole */
  readonly frozen?: (name: string) => boolean;
  /** per-tensor element masks, 1 = trainable (the element-variance split's partly stable tensors) */
  readonly elementMasks?: Readonly<Record<string, Uint8Array>>;
  readonly kernels?: CompileOptions['kernels'];
}

export class StageOneSession {
  readonly config: GraphWaveNetConfig;
  private training: PromptedGwn | undefined;
  private readonly inference = new InferenceCopies((batch) => this.compile(batch, false));
  readonly batchOrder: Rng;
  /** backbone flat-run indices (relative to the parameter run) that stay at their starting values */
  private frozenIndices: Uint32Array | undefined;
  private frozenValues: Float32Array | undefined;
  private stepCount = 0;

  constructor(private readonly prepared: PreparedTraffic, private readonly context: PromptFeatureContext, private readonly options: StageOneOptions) {
    this.config = defaultGwnConfig(prepared.network.sensorIds.length, options.config);
    this.batchOrder = createRng('gwn-order', options.seed);
  }

  private compile(batch: number, training: boolean): PromptedGwn {
    return new PromptedGwn({ prepared: this.prepared, context: this.context, config: this.config, weights: this.options.weights, prompts: this.options.prompts, batch, training, seed: this.options.seed, ...(this.options.kernels ? { kernels: this.options.kernels } : {}) });
  }

  /** the training pair, compiled on first use for the epoch's batch size */
  private trainingPair(batch: number): PromptedGwn {
    if (this.training) {
      if (this.training.batch === batch) return this.training;
      throw new ModelevoError('CONFIG_INVALID', `ComS2T Stage 1b: expected batch size ${this.training.batch} (the size it was compiled for), got ${batch}`, {
        hint: 'train every epoch of one session at one batch size',
        details: { expected: this.training.batch, actual: batch },
      });
    }
    const pair = this.compile(batch, true);
    this.measureFrozen(pair.gwn);
    this.training = pair;
    return pair;
  }

  /** frozen element indices in the backbone's flat run, and their starting values */
  private measureFrozen(model: Model): void {
    const frozen = this.options.frozen ?? (() => false);
    const masks = this.options.elementMasks ?? {};
    const start = model.runs.params;
    const offsets = new Map(model.params.map((p) => [p.name, p.offset - start]));
    const indices: number[] = [];
    for (const [name, mapping] of gwnTensorMappings(this.config, 2)) {
      if (name.includes('running_')) continue;
      const mask = masks[name];
      if (!frozen(name) && !mask) continue;
      // the mask in the tfjs layout, carried into the engine's by the same mapping as the values
      const keep = frozen(name) ? new Float32Array(this.options.weights[name]!.data.length) : Float32Array.from(mask!);
      mapping.toEngine(keep, (engineName, i, value) => {
        if (value === 0) indices.push(offsets.get(engineName)! + i);
      });
    }
    this.frozenIndices = Uint32Array.from(indices);
    const data = model.kernels.data;
    this.frozenValues = Float32Array.from(this.frozenIndices, (i) => data[start + i]!);
  }

  /** parameters and persistent state of the backbone and the prompt networks (none before the first step) */
  restorable(): readonly ArenaArray[] {
    const pair = this.training;
    if (!pair) return [];
    return pair.prompt ? [...restorableViews(pair.gwn), ...restorableViews(pair.prompt.model)] : restorableViews(pair.gwn);
  }

  /** One optimiser step on a batch; returns its loss. */
  step(batch: readonly number[], { weightDecay }: GwnStepOptions): number {
    const pair = this.trainingPair(batch.length);
    const step = ++this.stepCount;
    pair.load(batch);
    const loss = pair.lossAndGradients(true, step);
    const gwn = pair.gwn;
    const models = pair.prompt ? [gwn, pair.prompt.model] : [gwn];
    const data = gwn.kernels.data;
    const frozen = this.frozenIndices!;
    let squares = 0;
    for (const model of models) {
      const g = model.runs.grads;
      if (model === gwn) for (let k = 0; k < frozen.length; k++) model.kernels.data[g + frozen[k]!] = 0;
      squares += model.kernels.sumSquares(g, model.runs.count);
    }
    const norm = Math.sqrt(squares);
    const scale = norm > this.options.clipNorm ? this.options.clipNorm / norm : 1;
    for (const model of models) {
      const { params, grads: g, count } = model.runs;
      const d = model.kernels.data;
      // clip first, then λ·w unscaled: the order of clip_grad_norm_ and PyTorch Adam's weight_decay
      if (scale !== 1 || weightDecay > 0) for (let i = 0; i < count; i++) d[g + i] = d[g + i]! * scale + weightDecay * d[params + i]!;
      model.optimizer!.step(model.kernels, model.runs, this.options.learningRate, 1, step);
    }
    const params = gwn.runs.params;
    for (let k = 0; k < frozen.length; k++) data[params + frozen[k]!] = this.frozenValues![k]!;
    if (!Number.isFinite(loss)) throw new ModelevoError('VALUE_INVALID', `ComS2T Stage 1b diverged at step ${step} (loss ${loss})`, { hint: 'lower --stage1-lr', details: { step, loss } });
    return loss;
  }

  /** the pair forecasts run on: the training one, or one of at most INFERENCE_BATCH examples */
  private chunkPair(wanted: number): PromptedGwn {
    return this.training ?? this.inference.for(wanted);
  }

  /** Forecasts [samples, 12, N] in original units (inference mode: running BatchNorm statistics, no dropout). */
  async forecast(samples: readonly number[]): Promise<Float64Array> {
    const nodes = this.config.nodes;
    const out = new Float64Array(samples.length * HORIZON_STEPS * nodes);
    const pair = this.chunkPair(samples.length);
    const size = pair.batch;
    for (let start = 0; start < samples.length; start += size) {
      const chunk = samples.slice(start, start + size);
      // a short last chunk is padded with its first sample: inference mode treats every example on its own
      while (chunk.length < size) chunk.push(chunk[0]!);
      pair.load(chunk);
      const rows = Math.min(size, samples.length - start);
      out.set(pair.forecast().subarray(0, rows * HORIZON_STEPS * nodes), start * HORIZON_STEPS * nodes);
    }
    return out;
  }

  async evaluate(samples: readonly number[]): Promise<ForecastMetrics> {
    return maskedMetrics(await this.forecast(samples), targetsOf(this.prepared, samples));
  }

  /** Backbone tensors (tfjs names and layouts) and the prompt tensors, as trained so far. */
  async snapshot(): Promise<GwnWeights> {
    const pair = this.training ?? this.chunkPair(1);
    const given = this.options.weights;
    const backbone: GwnWeights = {};
    const prompt: GwnWeights = {};
    for (const [name, w] of Object.entries(given)) (isPromptTensor(name) ? prompt : backbone)[name] = w;
    const out: GwnWeights = { ...getGwnWeights(pair.gwn, this.config, 2, { rest: backbone }) };
    if (this.options.prompts) Object.assign(out, prompt, pair.prompt!.weights());
    return out;
  }

  dispose(): void {
    this.training = undefined;
    this.inference.clear();
  }
}
