/**
 * modelevo's library API (style.md §2: curated named exports, nothing else; package.json "exports" → dist/index.js).
 *
 * - merge, kinship, checkpoints and errors are plain re-exports: importing them loads no training engine;
 * - the entry points that run a model (eval and evolve: the Llama evaluator on tfjs; anomaly, st, continual: the
 *   src/nn engine) are async wrappers that import their module on first call, so `import { runMerge } from
 *   'modelevo'` stays fast. Their option and result types are re-exported as types.
 *
 * Everything else under src/ is internal and may change without notice.
 */

// errors: every failure is a ModelevoError with a stable code and a hint
export { ModelevoError, ConfigError, CheckpointError, ShapeMismatchError, UnknownNameError, type ErrorCode, type ConfigIssue } from './core/errors.js';

// checkpoints: Hugging Face folders, .safetensors files, base+adapter references
export { openCheckpoint, parseModelReference, type OpenCheckpointOptions, type ModelReference } from './io/open.js';
export type { Checkpoint, TensorInfo } from './io/checkpoint.js';

// merge: mergekit-compatible configs
export { runMerge, type RunMergeOptions, type MergeResult } from './merge/index.js';
export { parseMergeConfig, parseMergeConfigYaml, type MergeConfig } from './merge/config.js';
export { MERGE_METHOD_NAMES, getMergeMethod, type MergeMethodName } from './merge/registry.js';

// kinship: similarity of task vectors
export { computeKinship, type KinshipOptions, type KinshipResult } from './kinship/compute.js';
export { computeKinshipWithKernels } from './kinship/compute-pool.js';
export { KINSHIP_METRIC_NAMES, type KinshipMetricName } from './kinship/registry.js';
export type { KinshipMatrix } from './kinship/matrix.js';

// ---- entry points that load a training engine on first call ----
import type * as LmEval from './eval/lm-eval.js';
import type * as Llama from './eval/llama-model.js';
import type * as Tokenizer from './eval/tokenizer.js';
import type * as Evolve from './evolve/run.js';
import type * as AdNev from './neuro/ad-nev/run.js';
import type * as Traffic from './spatiotemporal/experiment.js';
import type * as Synevo from './spatiotemporal/synevo/experiment.js';
import type * as SynevoSettings from './spatiotemporal/synevo/options-from.js';
import type * as ComS2T from './spatiotemporal/coms2t/pipeline.js';
import type * as Continual from './continual/experiment.js';
import type { TrafficNetwork } from './tasks/traffic/csv-loader.js';

export type { LmEvalOptions, LmEvalResult } from './eval/lm-eval.js';
export type { LlamaModel, LlamaModelOptions } from './eval/llama-model.js';
export type { LmTokenizer } from './eval/tokenizer.js';
export type { EvolveOptions, EvolveSummary } from './evolve/run.js';
export type { RunOptions as AnomalyRunOptions } from './neuro/ad-nev/run.js';
export type { AdNevConfig } from './neuro/ad-nev/config.js';
export type { TrafficExperimentResult } from './spatiotemporal/experiment.js';
export type { CrossTemporalSpec, CrossSourceSpec, ComparisonOptions as SynevoComparisonOptions, ComparisonResult as SynevoComparisonResult } from './spatiotemporal/synevo/experiment.js';
export type { SynevoOptions } from './spatiotemporal/synevo/loop.js';
export type { SynevoSettings } from './spatiotemporal/synevo/options-from.js';
export type { ComS2TOptions, ComS2TRun, Ablation as ComS2TAblation } from './spatiotemporal/coms2t/pipeline.js';
export type { ExperimentOptions as ContinualExperimentOptions, ExperimentResult as ContinualExperimentResult } from './continual/experiment.js';
export type { TrafficNetwork } from './tasks/traffic/csv-loader.js';

/** eval: a Llama model from a checkpoint (wasm workers); close it when done. */
export async function loadLlamaModel(checkpoint: Parameters<typeof Llama.LlamaModel.fromCheckpoint>[0], options?: Parameters<typeof Llama.LlamaModel.fromCheckpoint>[1]): Promise<Llama.LlamaModel> {
  return (await import('./eval/llama-model.js')).LlamaModel.fromCheckpoint(checkpoint, options);
}

/** eval: the tokenizer of a model folder (or of the base of a base+adapter reference). */
export async function loadTokenizer(modelFolder: string): Promise<Tokenizer.LmTokenizer> {
  const { LmTokenizer, tokenizerFolderFor } = await import('./eval/tokenizer.js');
  return LmTokenizer.fromFolder(tokenizerFolderFor(modelFolder));
}

/** eval: next-token loss and perplexity per text (the `modelevo eval` protocol). */
export async function evaluateTexts(...args: Parameters<typeof LmEval.evaluateTexts>): ReturnType<typeof LmEval.evaluateTexts> {
  return (await import('./eval/lm-eval.js')).evaluateTexts(...args);
}

/** evolve: one evolution run (the `modelevo evolve` loop), stored and resumable in `runDir`. */
export async function runEvolution(...args: Parameters<typeof Evolve.runEvolution>): ReturnType<typeof Evolve.runEvolution> {
  return (await import('./evolve/run.js')).runEvolution(...args);
}

/** anomaly: AD-NEv's three levels on SMAP/MSL channels or a CSV (`modelevo anomaly evolve`). */
export async function runAnomalyDetection(...args: Parameters<typeof AdNev.runAdNev>): ReturnType<typeof AdNev.runAdNev> {
  return (await import('./neuro/ad-nev/run.js')).runAdNev(...args);
}

/** st: Graph WaveNet against the baselines on a traffic folder (`modelevo st train`). */
export async function runTrafficExperiment(...args: Parameters<typeof Traffic.runTrafficExperiment>): ReturnType<typeof Traffic.runTrafficExperiment> {
  return (await import('./spatiotemporal/experiment.js')).runTrafficExperiment(...args);
}

/** st: SynEVO's full options from flat settings (the `modelevo st synevo` flags); unset ones take the defaults. */
export async function synevoOptions(settings: SynevoSettings.SynevoSettings): Promise<ReturnType<typeof SynevoSettings.synevoOptionsFrom>> {
  return (await import('./spatiotemporal/synevo/options-from.js')).synevoOptionsFrom(settings);
}

/** st: SynEVO (and optional references) on a cross-temporal or cross-source setting (`modelevo st synevo`). */
export async function runSynevo(spec: Synevo.CrossTemporalSpec | Synevo.CrossSourceSpec, options: Synevo.ComparisonOptions, log?: (line: string) => void): Promise<Synevo.ComparisonResult> {
  const { domainSetupOf, runComparison } = await import('./spatiotemporal/synevo/experiment.js');
  return runComparison(domainSetupOf(spec), options, log);
}

/** st: ComS2T on a traffic network with the time-of-day OOD split (`modelevo st coms2t`). */
export async function runComS2T(network: TrafficNetwork, options: ComS2T.ComS2TOptions, ablation: ComS2T.Ablation = 'none', stepsPerDay?: number): Promise<ComS2T.ComS2TRun> {
  const { runComS2T: run, setupComS2T } = await import('./spatiotemporal/coms2t/pipeline.js');
  return run(setupComS2T(network, stepsPerDay), options, ablation);
}

/** continual: GPM / SGP / FS-DGPM on Fashion-MNIST task streams over seeds (`modelevo continual run`). */
export async function runContinualExperiment(...args: Parameters<typeof Continual.runExperiment>): ReturnType<typeof Continual.runExperiment> {
  return (await import('./continual/experiment.js')).runExperiment(...args);
}
