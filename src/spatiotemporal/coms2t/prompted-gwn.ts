/**
 * The prompt-conditioned Graph WaveNet of ComS2T (coms2t.md §2) on the training engine, for one batch size: the
 * backbone compiled for 13 input steps (the 12 inputs left-padded by one zero step, the prompt's span) with
 * `inputGrad`, and the prompt signal (PromptSignalModel) added to the value channel of that input. Backward runs
 * the backbone, then hands the value channel of its input gradient to the prompt model (`backwardFrom`), so
 * both models hold their gradients of the one loss; the caller steps them (stage-one.ts).
 *
 * Without prompts (ablation `pmt`) the backbone is compiled exactly as the plain engine session compiles it
 * (12 steps, no input gradient). With prompts, a receptive field above 13 steps is padded further inside the
 * layer (zeros on the left, as the tfjs forward did). Layouts: engine input [B, 2, N, steps] (value, time of
 * day); the prompt rows are node-major (row n·B + b).
 */
import { Model, type CompileOptions } from '../../nn/model.js';
import { createRng } from '../../core/rng.js';
import { INPUT_STEPS } from '../../tasks/traffic/windows.js';
import { transitionMatrices, type GraphWaveNetConfig, type GwnWeights } from '../gwn-config.js';
import { gwnModelSpec, setGwnSupports, setGwnWeights } from '../gwn-engine.js';
import { engineInputs } from '../gwn-engine-session.js';
import { targetsOf, type PreparedTraffic } from '../gwn-data.js';
import type { PromptFeatureContext } from './features.js';
import { PromptSignalModel } from './prompt-engine.js';
import { PROMPT_STEPS } from './prompt-encoder.js';

/** GWN's input channels: z-scored value and time of day */
const CHANNELS = 2;

export interface PromptedGwnOptions {
  readonly prepared: PreparedTraffic;
  readonly context: PromptFeatureContext;
  readonly config: GraphWaveNetConfig;
  /** backbone (tfjs names and layouts) and, when `prompts`, the prompt tensors */
  readonly weights: GwnWeights;
  readonly prompts: boolean;
  readonly batch: number;
  /** plan Adam state in both models and the backbone's input gradient (training) */
  readonly training: boolean;
  /** seeds the backbone's dropout masks */
  readonly seed: number | string;
  /** tests pass float64 reference kernels */
  readonly kernels?: CompileOptions['kernels'];
}

export class PromptedGwn {
  readonly gwn: Model;
  readonly prompt: PromptSignalModel | undefined;
  /** input steps the backbone is compiled for (13 with prompts, 12 without) */
  readonly steps: number;
  private readonly plainInputs: Float32Array;
  private readonly dSignal: Float32Array | undefined;

  constructor(private readonly options: PromptedGwnOptions) {
    const { config, batch, prompts, training } = options;
    const kernels = options.kernels ?? 'wasm';
    this.steps = prompts ? Math.max(PROMPT_STEPS, INPUT_STEPS) : INPUT_STEPS;
    this.gwn = Model.compile(gwnModelSpec(config, CHANNELS, options.prepared.scaler, this.steps), {
      batch,
      kernels,
      seed: createRng('gwn-engine-dropout', options.seed).nextUint32(),
      ...(training ? { optimizer: { kind: 'adam' as const } } : {}),
      inputGrad: training && prompts,
    });
    setGwnSupports(this.gwn, transitionMatrices(options.prepared.network.adjacency, config.nodes));
    setGwnWeights(this.gwn, config, CHANNELS, options.weights);
    this.prompt = prompts ? new PromptSignalModel(options.context, batch, options.weights, { optimizer: training, kernels }) : undefined;
    this.plainInputs = new Float32Array(batch * CHANNELS * config.nodes * INPUT_STEPS);
    this.dSignal = prompts && training ? new Float32Array(config.nodes * batch * PROMPT_STEPS) : undefined;
  }

  get batch(): number {
    return this.options.batch;
  }

  /**
   * Writes the backbone input of `samples` (exactly `batch` of them): the engine inputs, left-padded to `steps`,
   * plus the prompt signal on the value channel; and their targets.
   */
  load(samples: readonly number[]): void {
    const { nodes } = this.options.config;
    const batch = samples.length;
    engineInputs(this.options.prepared, samples, this.plainInputs);
    const input = this.gwn.view(this.gwn.input);
    const steps = this.steps;
    const gap = steps - INPUT_STEPS;
    for (let r = 0; r < batch * CHANNELS * nodes; r++) {
      input.fill(0, r * steps, r * steps + gap);
      input.set(this.plainInputs.subarray(r * INPUT_STEPS, (r + 1) * INPUT_STEPS), r * steps + gap);
    }
    if (this.prompt) {
      const signal = this.prompt.signal(samples);
      // the signal covers the last PROMPT_STEPS steps of the value channel (channel 0)
      const offset = steps - PROMPT_STEPS;
      for (let b = 0; b < batch; b++) {
        for (let n = 0; n < nodes; n++) {
          const row = ((b * CHANNELS) * nodes + n) * steps + offset;
          const from = (n * batch + b) * PROMPT_STEPS;
          for (let t = 0; t < PROMPT_STEPS; t++) input[row + t] = input[row + t]! + signal[from + t]!;
        }
      }
    }
    this.gwn.view(this.gwn.target).set(targetsOf(this.options.prepared, samples));
  }

  /** forward, loss and backward through the backbone and the prompt signal; returns the batch's loss */
  lossAndGradients(training: boolean, step: number): number {
    const gwn = this.gwn;
    gwn.forward(training, step);
    const loss = gwn.loss();
    gwn.backward();
    if (this.prompt && this.dSignal) {
      const { nodes } = this.options.config;
      const batch = this.options.batch;
      const steps = this.steps;
      const offset = steps - PROMPT_STEPS;
      const dInput = gwn.view(gwn.inputGrad!);
      for (let b = 0; b < batch; b++) {
        for (let n = 0; n < nodes; n++) {
          const row = ((b * CHANNELS) * nodes + n) * steps + offset;
          const to = (n * batch + b) * PROMPT_STEPS;
          for (let t = 0; t < PROMPT_STEPS; t++) this.dSignal[to + t] = dInput[row + t]!;
        }
      }
      this.prompt.backward(this.dSignal);
    }
    return loss;
  }

  /** forecasts [batch, 12, N] in data units of the loaded batch (inference mode); a view valid until the next call */
  forecast(): Float32Array | Float64Array {
    this.gwn.forward(false);
    return this.gwn.view(this.gwn.output);
  }
}
