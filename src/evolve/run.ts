/**
 * `runEvolution`: one evolution run end to end — open the models once, bind the configured strategy to a
 * driver, run the resumable ask/tell loop against the fitness source (development data only), then write
 * the best model as an HF folder (+ the mergekit YAML that reproduces it, when one exists) and the report.
 * Time spent merging and evaluating is measured separately so framework overhead is visible.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { withAbsoluteModelPaths } from '../merge/config-paths.js';
import { parseMergeConfig } from '../merge/config.js';
import { modelCard } from '../merge/model-card.js';
import { getMergeMethod } from '../merge/registry.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { ConfigError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { openCheckpoint, parseModelReference } from '../io/open.js';
import { writeModelFolder } from '../io/shard-writer.js';
import { openRun } from '../runs/open-run.js';
import type { RunStore } from '../runs/store.js';
import { evaluateInOrder, runLoop, type EvaluateBatch, type EvaluationOutcome, type LoopProgress, type LoopResult } from './loop.js';
import type { RemoteBatchEvaluator, RemoteEvaluation } from './remote.js';
import { fitnessObjective, type EvolveConfig } from './config.js';
import type { Materialised } from './drivers/driver.js';
import { evolveBinding, type AnyDriver } from './registry.js';
import { trackBest } from './strategy.js';
import type { FitnessResult, FitnessSource } from './fitness/fitness.js';
import { computeKinship } from '../kinship/compute.js';
import { computeKinshipOnPool } from '../kinship/compute-pool.js';
import { createKernels, type Kernels } from '../kernels/index.js';
import { KernelPool } from '../kernels/pool.js';
import { checkPopulation, checkPopulationMemory } from './population-limits.js';

export interface EvolveOptions {
  readonly config: EvolveConfig;
  readonly runDir: string;
  readonly resume?: boolean;
  /** folder model paths resolve against (default process.cwd()) */
  readonly cwd?: string;
  /** the fitness source; built from `config.fitness` by the caller (see fitness/build.ts) */
  readonly fitness: FitnessSource;
  /** write the best model folder (default true) */
  readonly writeBest?: boolean;
  /**
   * evaluate candidates elsewhere (a queue of workers, #20) instead of one after the other here; needs a
   * strategy whose candidates are recipes. The best model is still merged here at the end.
   */
  readonly remote?: RemoteEvaluation;
  onProgress?(progress: LoopProgress): void;
}

export interface EvolveSummary {
  readonly runDir: string;
  readonly strategy: string;
  readonly objective: 'min' | 'max';
  readonly stopReason: string;
  readonly evaluations: number;
  readonly evaluatedThisSession: number;
  readonly reused: number;
  /** the driver's gene names (model × layer group …) when candidates are real vectors */
  readonly geneNames?: readonly string[];
  readonly best: { readonly key: string; readonly fitness: number; readonly description: string; readonly output?: string; readonly recipeFile?: string } | undefined;
  readonly seconds: { readonly total: number; readonly merge: number; readonly evaluate: number; readonly kinship: number; readonly overheadFraction: number };
}

function openModels(config: EvolveConfig, cwd: string): Map<string, Checkpoint> {
  const models = new Map<string, Checkpoint>();
  for (const ref of [...config.models, ...(config.base_model ? [config.base_model] : [])]) {
    if (!models.has(ref)) models.set(ref, openCheckpoint(ref, { cwd }));
  }
  return models;
}

/** the folder config.json and tokenizer files are copied from when a candidate is written */
function donorFolder(config: EvolveConfig, cwd: string): string | undefined {
  const ref = config.base_model ?? config.models[0];
  if (!ref) return undefined;
  const folder = resolve(cwd, parseModelReference(ref, { cwd }).base);
  return existsSync(join(folder, 'config.json')) ? folder : undefined;
}

function numLayersOf(models: Map<string, Checkpoint>, config: EvolveConfig): number {
  const donor = models.get(config.base_model ?? config.models[0]!);
  const layers = donor?.config?.num_hidden_layers;
  if (typeof layers !== 'number') {
    throw new ConfigError([{ path: ['base_model'], message: 'the donor model has no config.json with num_hidden_layers' }]);
  }
  return layers;
}

function makeDriver(config: EvolveConfig, models: Map<string, Checkpoint>, storeOf: () => RunStore, cwd: string): AnyDriver {
  let records: Map<string, { recipe?: unknown; parents?: readonly string[] }> | undefined;
  return evolveBinding(config.strategy).driver({
    strategy: config.strategy,
    config,
    models,
    objective: fitnessObjective(config.fitness),
    cwd,
    numLayers: () => numLayersOf(models, config),
    recordOf(key) {
      // individuals are only ever added: reread the store when a key is not (yet) in the cached map
      if (!records?.has(key)) records = new Map(storeOf().individuals().map((r) => [r.key, r]));
      return records.get(key);
    },
  });
}

/**
 * Candidate folders (and their writers' temp folders) left in the artifacts by a killed session: this
 * process holds the run's lock, so none of them belongs to a live evaluation.
 */
function removeStaleCandidates(artifactsDir: string): void {
  if (!existsSync(artifactsDir)) return;
  for (const name of readdirSync(artifactsDir)) {
    if (name.startsWith('candidate-') || name.startsWith('.candidate-')) rmSync(join(artifactsDir, name), { recursive: true, force: true });
  }
}

/** The run's open resources; whoever holds them closes them (see runEvolution's finally). */
interface OpenedEvolution {
  readonly models: Map<string, Checkpoint>;
  readonly driver: AnyDriver;
  readonly store: RunStore;
}

/** Opens models, driver and store (locked); on any failure closes what was opened and rethrows. */
async function openEvolution(options: EvolveOptions, cwd: string): Promise<OpenedEvolution> {
  const { config } = options;
  const models = openModels(config, cwd);
  let openedStore: RunStore | undefined;
  let madeDriver: AnyDriver | undefined;
  try {
    checkPopulation(config);
    // the driver reads the store only while the loop runs, after the store exists
    madeDriver = makeDriver(config, models, () => openedStore!, cwd);
    if (options.remote && !madeDriver.recipeOf) {
      throw new ConfigError([{ path: ['strategy', 'name'], message: `${config.strategy.name} cannot be evaluated on a queue: its candidates are not self-contained merge recipes` }], {
        hint: 'use cma-es, random or grid-greedy with --queue, or run this strategy without --queue',
      });
    }
    checkPopulationMemory(config, madeDriver.params);
    // a fitness that can never succeed is refused before anything is created or evaluated
    await options.fitness.preflight?.(models.get(config.base_model ?? config.models[0]!) ?? [...models.values()][0]!);
    // the budget may be raised on resume (and a finished run continued); everything else must match the stored configuration
    const { store } = openRun(options.runDir, { kind: 'evolve', seed: config.seed, config, resume: options.resume ?? false, continueFinished: true, mayDiffer: ['budget'] });
    openedStore = store;
    try {
      store.acquireLock();
    } catch (error) {
      store.close();
      throw error;
    }
  } catch (error) {
    madeDriver?.close();
    for (const model of models.values()) model.close();
    throw error;
  }
  return { models, driver: madeDriver, store: openedStore };
}

/** Seconds spent merging, scoring and computing kinship; the framework overhead is what the total leaves. */
interface PhaseSeconds {
  merge: number;
  evaluate: number;
  kinship: number;
}

interface CandidateWork {
  readonly config: EvolveConfig;
  readonly fitness: FitnessSource;
  readonly driver: AnyDriver;
  readonly store: RunStore;
  readonly base: Checkpoint | undefined;
  /** the folder config.json and tokenizer files are copied from */
  readonly donor: string | undefined;
  readonly seconds: PhaseSeconds;
}

/** Materialise, score and kinship-to-parents of one candidate, each timed into `work.seconds`. */
function candidateEvaluator(work: CandidateWork) {
  const { config, driver, store, base, donor, seconds } = work;
  // one kernel pool for every kinship-to-parents computation of the run, started on first use
  let kinshipKernels: Promise<Kernels> | undefined;

  /** PCC of the candidate's delta with each parent's delta (kinship to parents, kinship.md §1), on the kernel pool */
  async function kinshipToParents(made: Materialised): Promise<Record<string, number> | undefined> {
    if (!base || !config.record_kinship || !made.parents || !made.parentCheckpoints) return undefined;
    const t0 = performance.now();
    try {
      const labels = ['candidate', ...made.parents.map((p, i) => `${i}:${p}`)];
      kinshipKernels ??= createKernels({ kernels: 'wasm', workers: 1, callerTakesPart: true, fallback: 'reference' });
      const kernels = await kinshipKernels;
      const inputs = [made.checkpoint, ...made.parentCheckpoints];
      const result =
        kernels instanceof KernelPool
          ? await computeKinshipOnPool(kernels, base, inputs, { metrics: ['pcc'], labels })
          : computeKinship(base, inputs, { metrics: ['pcc'], labels });
      return Object.fromEntries(made.parents.map((p, i) => [p, result.matrices.pcc![0]![i + 1]!]));
    } catch {
      return undefined; // kinship is a record, never a reason to fail an evaluation
    } finally {
      seconds.kinship += (performance.now() - t0) / 1000;
    }
  }

  async function materialise(candidate: unknown): Promise<Materialised> {
    const t0 = performance.now();
    try {
      return await driver.materialise(candidate);
    } finally {
      seconds.merge += (performance.now() - t0) / 1000;
    }
  }

  /** scores a candidate; sources that run another program get it written to a temporary folder first */
  async function score(made: Materialised): Promise<FitnessResult> {
    const t0 = performance.now();
    let dir: string | undefined;
    try {
      if (work.fitness.needsFolder) {
        dir = mkdtempSync(join(store.artifactsDir, 'candidate-'));
        rmSync(dir, { recursive: true });
        writeModelFolder(dir, made.checkpoint, donor ? { copyFrom: donor } : {});
      }
      return await work.fitness.evaluate({ checkpoint: made.checkpoint, ...(dir ? { dir } : {}), recipe: made.recipe });
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
      seconds.evaluate += (performance.now() - t0) / 1000;
    }
  }

  async function evaluate(candidate: unknown): Promise<EvaluationOutcome> {
    const made = await materialise(candidate);
    const scored = await score(made);
    const kinship = await kinshipToParents(made);
    return {
      fitness: scored.score,
      ...(scored.failure ? { failure: scored.failure } : {}),
      ...(scored.metrics ? { metrics: scored.metrics } : {}),
      details: {
        ...(kinship ? { kinship } : {}),
        ...(made.recipe === undefined ? {} : { recipe: made.recipe }),
        ...(made.parents ? { parents: made.parents } : {}),
      },
    };
  }

  async function close(): Promise<void> {
    await kinshipKernels?.then((kernels) => kernels.close()).catch(() => undefined);
  }

  return { materialise, evaluate, close };
}

/**
 * The best evaluation (the strategy's best, or one of a step the budget cut short), written as `best/` with the
 * recipe that reproduces it when the strategy has one; recorded as the run's 'best' event.
 */
async function writeBestOf(
  options: EvolveOptions,
  cwd: string,
  opened: OpenedEvolution,
  result: LoopResult<unknown, unknown>,
  materialise: (candidate: unknown) => Promise<Materialised>,
  donor: string | undefined,
): Promise<EvolveSummary['best']> {
  const { config } = options;
  const { driver, store } = opened;
  const fromStrategy = driver.bestCandidate(result.state);
  // a step cut short by the budget was never told to the strategy; its evaluations still compete for best
  const chosen = trackBest(
    fitnessObjective(config.fitness),
    fromStrategy ? { genome: fromStrategy.candidate, fitness: fromStrategy.fitness } : null,
    result.untold.map((u) => u.candidate),
    result.untold.map((u) => u.fitness),
  );
  if (!chosen) return undefined;
  const key = driver.keyOf(chosen.genome);
  let best: NonNullable<EvolveSummary['best']> = { key, fitness: chosen.fitness, description: driver.describe(chosen.genome) };
  if (options.writeBest ?? true) {
    const made = await materialise(chosen.genome);
    const output = join(store.dir, 'best');
    writeModelFolder(output, made.checkpoint, { ...(donor ? { copyFrom: donor } : {}), overwrite: true });
    best = { ...best, output };
    if (made.recipe !== undefined && evolveBinding(config.strategy).writesRecipe) {
      const recipeFile = join(store.dir, 'best.yml');
      // absolute model paths: `modelevo merge best.yml out` works from any directory
      const recipe = withAbsoluteModelPaths(made.recipe, cwd);
      const recipeText = stringifyYaml(recipe);
      writeFileSync(recipeFile, `# reproduces ${output} with: modelevo merge ${recipeFile} <out-dir>\n${recipeText}`);
      // the model card every merged folder carries (merge/model-card.ts)
      const parsedRecipe = parseMergeConfig(recipe);
      writeFileAtomic(join(output, 'README.md'), modelCard(parsedRecipe, getMergeMethod(parsedRecipe.merge_method), recipeText));
      best = { ...best, recipeFile };
    }
  }
  store.event('best', best);
  return best;
}

export async function runEvolution(options: EvolveOptions): Promise<EvolveSummary> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const { config } = options;
  const opened = await openEvolution(options, cwd);
  const { models, driver, store } = opened;
  removeStaleCandidates(store.artifactsDir);
  const donor = donorFolder(config, cwd);
  const seconds: PhaseSeconds = { merge: 0, evaluate: 0, kinship: 0 };
  const base = config.base_model ? models.get(config.base_model) : undefined;
  const candidates = candidateEvaluator({ config, fitness: options.fitness, driver, store, base, donor, seconds });

  let remote: RemoteBatchEvaluator | undefined;
  try {
    if (options.remote) {
      remote = await options.remote.open({ runId: store.manifest().id });
      store.event('remote-evaluation', { on: options.remote.describe });
    }
    const result = await runLoop({
      strategy: driver.strategy,
      params: driver.params,
      seed: config.seed,
      store,
      keyOf: (candidate) => driver.keyOf(candidate),
      ...(driver.beforeAsk ? { beforeAsk: (state: unknown) => driver.beforeAsk!(state) } : {}),
      maxEvaluations: config.budget,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      // one candidate at a time: each merge holds a whole model in memory
      evaluateBatch: remote ? timedBatches(offloaded(remote, driver), (s) => (seconds.evaluate += s)) : evaluateInOrder(candidates.evaluate),
    });
    const best = await writeBestOf(options, cwd, opened, result, candidates.materialise, donor);
    store.setStatus('finished');
    const total = (performance.now() - started) / 1000;
    return {
      runDir: store.dir,
      strategy: config.strategy.name,
      objective: fitnessObjective(config.fitness),
      stopReason: result.stopReason,
      evaluations: store.individuals().length,
      evaluatedThisSession: result.evaluated,
      reused: result.reused,
      ...(driver.geneNames ? { geneNames: driver.geneNames } : {}),
      best,
      // kinship to parents is optional bookkeeping (record_kinship), reported apart from the framework overhead
      seconds: { total, ...seconds, overheadFraction: Math.max(0, (total - seconds.merge - seconds.evaluate - seconds.kinship) / total) },
    };
  } catch (error) {
    try {
      store.setStatus('failed');
    } catch {
      // the store itself may be what failed; the original error matters
    }
    throw error;
  } finally {
    await remote?.close();
    driver.close();
    await candidates.close();
    for (const model of models.values()) model.close();
    store.close();
  }
}

/** The loop's batch evaluator for a remote run: candidates go out as recipes; the recipe and parents are stored with each outcome. */
function offloaded(remote: RemoteBatchEvaluator, driver: AnyDriver): EvaluateBatch<unknown> {
  return (candidates, contexts) => {
    const jobs = candidates.map((candidate) => ({ key: driver.keyOf(candidate), ...driver.recipeOf!(candidate) }));
    return remote.evaluateBatch(jobs, contexts).map((outcome, k) =>
      outcome.then((result) => ({ ...result, details: { ...result.details, recipe: jobs[k]!.recipe, parents: jobs[k]!.parents } })),
    );
  };
}

/** adds each batch's wall time until its last outcome settled: a remote run's evaluation time as the coordinator waits it out */
function timedBatches<G>(evaluate: EvaluateBatch<G>, add: (seconds: number) => void): EvaluateBatch<G> {
  return (candidates, contexts) => {
    const started = performance.now();
    const outcomes = evaluate(candidates, contexts);
    void Promise.allSettled(outcomes).then(() => add((performance.now() - started) / 1000));
    return outcomes;
  };
}
