/**
 * The previous tfjs Graph WaveNet training session (src/spatiotemporal/gwn-session.ts until issue #22 moved
 * training onto the engine, GwnEngineSession), kept only as a test and equivalence-script reference.
 *
 * A Graph WaveNet training session: the parameters, the optimiser and one optimiser step, with the hooks the
 * model-evolution methods need (spatiotemporal.md §1 "Training defaults"; synevo.md §2.2/§2.4; coms2t.md §3):
 * - train on any list of sample indices (SynEVO groups and ComS2T time-of-day splits are not contiguous);
 * - start from given weights (continue the common container, keep ComS2T's stable weights);
 * - freeze named tensors (ComS2T's stable "neocortex"), add extra trainable tensors (prompt encoders);
 * - per-epoch weight decay and DropConnect probability (SynEVO's elastic schedule);
 * - a custom forward (prompt-conditioned models), and per-tensor gradients of the loss (SynEVO difficulty).
 * Adam with PyTorch-style L2 weight decay (λ·w added after the raw gradient is clipped by global norm), masked MAE
 * on inverse-scaled predictions, BatchNorm running statistics with momentum 0.1.
 * Masked steps (DropConnect, or a custom forward's own masks flagged by `EpochOptions.masked`) never feed the
 * running statistics: inference runs the whole, unmasked network, so its statistics come from one extra
 * forward pass (no gradient) of the unmasked network on the same batch with the pre-update weights. This costs
 * about a third of a step, only on masked steps (issue #14: few-shot adaptation under DropConnect p ≈ 0.5 left
 * running statistics of a masked network that evaluation never runs).
 */
import { tf } from './tfjs/tf.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { ModelevoError } from '../../src/core/errors.js';
import { HORIZON_STEPS, INPUT_STEPS } from '../../src/tasks/traffic/windows.js';
import { defaultGwnConfig, gwnForward, initialGwnWeights, isTrainable, parameterSpecs, type ForwardOptions, type GraphWaveNetConfig, type GwnWeights, type ParamLookup } from './gwn-tfjs.js';
import { maskedMetrics, type ForecastMetrics } from '../../src/spatiotemporal/metrics.js';
import { buildInputs, targetsOf, type PreparedTraffic } from '../../src/spatiotemporal/gwn-data.js';
import { transitionMatrices } from '../../src/spatiotemporal/gwn-config.js';

const BN_MOMENTUM = 0.1;

/** A forward pass: inputs [N, B, 12, C] for `samples` → scaled forecasts [B, 12, N]. */
export type GwnForwardFn = (param: ParamLookup, input: tf.Tensor4D, samples: readonly number[], options: ForwardOptions) => tf.Tensor3D;

export interface GwnSessionOptions {
  readonly seed: number | string;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly config?: Partial<GraphWaveNetConfig>;
  /** start from these weights instead of a seeded initialisation (every GWN tensor must be present) */
  readonly initialWeights?: GwnWeights;
  /** extra trainable tensors (e.g. a prompt encoder), available to `forward` by name */
  readonly extraWeights?: GwnWeights;
  /** tensors that receive no update (their values stay bit-identical) */
  readonly frozen?: (name: string) => boolean;
  /** replaces the plain GWN forward (which ignores the extra weights) */
  readonly forward?: GwnForwardFn;
}

/** one step's options (the engine session's GwnStepOptions, plus `masked`) */
export interface EpochOptions {
  readonly weightDecay: number;
  /** DropConnect probability on weight matrices during training (SynEVO Def. 4.2; 0 = off) */
  readonly dropConnect?: number;
  /**
   * the custom forward applies masks of its own this step (it must drop them when `statisticsPass` is set);
   * BatchNorm statistics then come from the extra unmasked pass, as with DropConnect
   */
  readonly masked?: boolean;
}

export class GwnTrainingSession {
  readonly config: GraphWaveNetConfig;
  private readonly params = new Map<string, tf.Tensor>();
  private readonly variables: tf.Variable[] = [];
  private readonly supports: tf.Tensor2D[];
  private readonly optimizer: tf.AdamOptimizer;
  /** the batch-order stream of the one loop (src/spatiotemporal/gwn-fit.ts) */
  readonly batchOrder: Rng;
  private readonly forwardFn: GwnForwardFn;
  private stepCount = 0;

  constructor(private readonly prepared: PreparedTraffic, private readonly options: GwnSessionOptions) {
    this.config = defaultGwnConfig(prepared.network.sensorIds.length, options.config);
    this.supports = supportsOf(prepared);
    const specs = parameterSpecs(this.config, this.supports.length);
    const initial = options.initialWeights ?? initialGwnWeights(this.config, this.supports.length, options.seed);
    const frozen = options.frozen ?? (() => false);
    const add = (name: string, shape: readonly number[], data: Float32Array, trainable: boolean): void => {
      if (trainable && !frozen(name)) {
        const v = tf.variable(tf.tensor(data, [...shape]), true, `${name}#${sessionCounter}`);
        this.variables.push(v);
        this.params.set(name, v);
      } else this.params.set(name, tf.tensor(data, [...shape]));
    };
    sessionCounter++;
    for (const spec of specs) {
      const w = initial[spec.name];
      if (!w) throw new ModelevoError('TENSOR_NOT_FOUND', `Graph WaveNet initial weights lack '${spec.name}', expected every tensor of the config`, { hint: 'pass a full set of weights (e.g. initialGwnWeights or a snapshot)' });
      add(spec.name, spec.shape, w.data, isTrainable(spec));
    }
    for (const [name, w] of Object.entries(options.extraWeights ?? {})) add(name, w.shape, w.data, true);
    this.optimizer = tf.train.adam(options.learningRate);
    this.batchOrder = createRng('gwn-order', options.seed);
    this.forwardFn = options.forward ?? ((param, input, _samples, forwardOptions) => gwnForward(this.config, param, this.supports, input, forwardOptions));
  }

  readonly param: ParamLookup = (name) => {
    const tensor = this.params.get(name);
    if (!tensor) throw new ModelevoError('TENSOR_NOT_FOUND', `the Graph WaveNet session has no tensor '${name}'`, { hint: 'a custom forward may read the GWN tensors and the extra weights it was given' });
    return tensor;
  };

  /** The supports (P_f, P_b) built from the adjacency, for custom forwards. */
  get predefinedSupports(): readonly tf.Tensor2D[] {
    return this.supports;
  }

  /** Names of the tensors the optimiser updates. */
  trainableNames(): string[] {
    return this.variables.map((v) => v.name.slice(0, v.name.lastIndexOf('#')));
  }

  /** One optimiser step on a batch; returns its loss. */
  async step(batch: readonly number[], epoch: EpochOptions): Promise<number> {
    const nodes = this.config.nodes;
    const x = tf.tensor4d(buildInputs(this.prepared, batch), [nodes, batch.length, INPUT_STEPS, this.config.inChannels]);
    const y = tf.tensor3d(targetsOf(this.prepared, batch), [batch.length, HORIZON_STEPS, nodes]);
    const stepRng = createRng('gwn-dropout', this.options.seed, this.stepCount);
    const dropoutSeed = stepRng.nextUint32() % 1_000_000;
    const dropConnect = epoch.dropConnect ?? 0;
    const masked = dropConnect > 0 || epoch.masked === true;
    const param: ParamLookup = dropConnect > 0 ? this.dropConnectLookup(dropConnect, stepRng.nextUint32() % 1_000_000) : this.param;
    const statUpdates: [string, tf.Tensor][] = [];
    const recordStats = (layer: number, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void => {
      const unbiased = tf.mul(variance, count / Math.max(1, count - 1));
      for (const [suffix, batchValue] of [['running_mean', mean], ['running_var', unbiased]] as const) {
        const name = `layers.${layer}.bn.${suffix}`;
        statUpdates.push([name, tf.keep(tf.add(tf.mul(this.param(name), 1 - BN_MOMENTUM), tf.mul(batchValue, BN_MOMENTUM)))]);
      }
    };
    if (masked) {
      // the statistics of the network inference runs: unmasked, same batch and dropout seed, weights before the update
      tf.tidy(() => {
        this.forwardFn(this.param, x, batch, { training: true, dropoutSeed, statisticsPass: true, onBatchStats: recordStats });
      });
    }
    const { value, grads } = tf.variableGrads(
      () => maskedMaeLoss(this.forwardFn(param, x, batch, { training: true, dropoutSeed, ...(masked ? {} : { onBatchStats: recordStats }) }), y, this.prepared),
      this.variables,
    );
    const adjusted = tf.tidy(() => {
      // clip the raw gradient, then add λ·w (clip_grad_norm_ runs before PyTorch Adam's weight_decay). Tensors
      // that feed nothing (the last layer's graph convolution only reaches an unused residual) get no gradient
      // and, as in PyTorch, no update.
      const raw: Record<string, tf.Tensor> = {};
      for (const v of this.variables) if (grads[v.name]) raw[v.name] = grads[v.name]!;
      const norm = tf.sqrt(tf.addN(Object.values(raw).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
      const scale = norm > this.options.clipNorm ? this.options.clipNorm / norm : 1;
      const clipped: Record<string, tf.Tensor> = {};
      for (const v of this.variables) {
        const g = raw[v.name];
        if (g) clipped[v.name] = epoch.weightDecay > 0 ? tf.add(tf.mul(g, scale), tf.mul(v, epoch.weightDecay)) : tf.mul(g, scale);
      }
      return clipped;
    });
    this.optimizer.applyGradients(Object.entries(adjusted).map(([name, tensor]) => ({ name, tensor })));
    for (const [name, updated] of statUpdates) {
      this.params.get(name)?.dispose();
      this.params.set(name, updated);
    }
    const loss = (await value.data())[0]!;
    tf.dispose([value, x, y, ...Object.values(grads).filter((g) => g !== null), ...Object.values(adjusted)]);
    if (!Number.isFinite(loss)) throw new ModelevoError('VALUE_INVALID', `graph wavenet training diverged at step ${this.stepCount}: expected a finite loss, got ${loss}`, { hint: 'lower the learning rate' });
    this.stepCount++;
    return loss;
  }

  /** DropConnect: each entry of a weight matrix is zeroed with probability p and the rest scaled by 1/(1−p). */
  private dropConnectLookup(p: number, seed: number): ParamLookup {
    return (name) => {
      const tensor = this.param(name);
      if (!name.endsWith('.weight') || tensor.rank !== 2 || p <= 0) return tensor;
      return tf.dropout(tensor, p, undefined, seed + hashName(name));
    };
  }

  /** Forecasts [samples, 12, N] in original units (inference mode: running BatchNorm statistics, no dropout). */
  async forecast(samples: readonly number[], batchSize = 64): Promise<Float64Array> {
    const nodes = this.config.nodes;
    const out = new Float64Array(samples.length * HORIZON_STEPS * nodes);
    const { std, mean } = this.prepared.scaler;
    for (let start = 0; start < samples.length; start += batchSize) {
      const chunk = samples.slice(start, start + batchSize);
      const predicted = tf.tidy(() => {
        const x = tf.tensor4d(buildInputs(this.prepared, chunk), [nodes, chunk.length, INPUT_STEPS, this.config.inChannels]);
        return tf.add(tf.mul(this.forwardFn(this.param, x, chunk, { training: false }), std), mean);
      });
      out.set(await predicted.data(), start * HORIZON_STEPS * nodes);
      predicted.dispose();
    }
    return out;
  }

  /** Masked metrics over all horizons on `samples`. */
  async evaluate(samples: readonly number[]): Promise<ForecastMetrics> {
    return maskedMetrics(await this.forecast(samples), targetsOf(this.prepared, samples));
  }

  /**
   * Gradients of the masked MAE on `samples` (one batch, inference-mode BatchNorm, no dropout) with respect to
   * every trainable tensor, by name (SynEVO §2.1: difficulty Σ‖∇‖², signature = concatenated gradients).
   */
  async gradients(samples: readonly number[]): Promise<Record<string, Float32Array>> {
    const nodes = this.config.nodes;
    const x = tf.tensor4d(buildInputs(this.prepared, samples), [nodes, samples.length, INPUT_STEPS, this.config.inChannels]);
    const y = tf.tensor3d(targetsOf(this.prepared, samples), [samples.length, HORIZON_STEPS, nodes]);
    const { value, grads } = tf.variableGrads(() => maskedMaeLoss(this.forwardFn(this.param, x, samples, { training: false }), y, this.prepared), this.variables);
    const out: Record<string, Float32Array> = {};
    const names = this.trainableNames();
    for (let i = 0; i < this.variables.length; i++) {
      const grad = grads[this.variables[i]!.name];
      out[names[i]!] = grad ? Float32Array.from(await grad.data()) : new Float32Array(this.variables[i]!.size);
    }
    tf.dispose([value, x, y, ...Object.values(grads).filter((g) => g !== null)]);
    return out;
  }

  /** Every tensor (GWN and extra) as plain data. */
  async snapshot(): Promise<GwnWeights> {
    const weights: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const [name, tensor] of this.params) weights[name] = { shape: tensor.shape, data: Float32Array.from(await tensor.data()) };
    return weights;
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose([...this.params.values(), ...this.supports]);
    this.params.clear();
  }
}

let sessionCounter = 0;

function hashName(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 1_000_003;
  return h;
}

/** Masked MAE of inverse-scaled predictions [B, 12, N] against raw labels (0 = missing). */
export function maskedMaeLoss(predicted: tf.Tensor3D, labels: tf.Tensor3D, prepared: Pick<PreparedTraffic, 'scaler'>): tf.Scalar {
  const { std, mean } = prepared.scaler;
  const mask = tf.cast(tf.notEqual(labels, 0), 'float32');
  const error = tf.mul(tf.abs(tf.sub(tf.add(tf.mul(predicted, std), mean), labels)), mask);
  return tf.div(tf.sum(error), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** The two fixed supports (P_f, P_b) of the network as tfjs tensors. */
export function supportsOf(prepared: Pick<PreparedTraffic, 'network'>): tf.Tensor2D[] {
  const nodes = prepared.network.sensorIds.length;
  return transitionMatrices(prepared.network.adjacency, nodes).map((m) => tf.tensor2d(m, [nodes, nodes]));
}
