/**
 * Evaluating one candidate away from its run (#20: a queue worker on another machine): merge its recipe in
 * memory from the run's input models and score it with the run's fitness source — the same `runMerge` and
 * `buildFitness` code a local run uses (evolve/run.ts), so a distributed run stores the same numbers. The
 * evaluator keeps opened models and fitness sources between candidates of the same run (a worker serves many
 * jobs of one run in a row) and closes them in `close()`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseWithSchema } from '../core/schema.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { openCheckpoint, parseModelReference } from '../io/open.js';
import { writeModelFolder } from '../io/shard-writer.js';
import { runMerge } from '../merge/index.js';
import { fitnessSchema, type FitnessConfig } from './config.js';
import { buildFitness } from './fitness/build.js';
import type { FitnessSource } from './fitness/fitness.js';

/** One candidate as a worker receives it (the queue's job data, structurally). */
export interface RemoteCandidate {
  /** a mergekit-style recipe naming the input models as written in the run's config */
  readonly recipe: unknown;
  /** the run's `fitness:` block, checked here with the evolve config's schema */
  readonly fitness: unknown;
  readonly models: { readonly refs: readonly string[]; readonly base?: string };
  /** the folder relative model and fitness paths resolve against (storage the workers share) */
  readonly cwd: string;
}

export interface CandidateScore {
  /** NaN marks a failed evaluation */
  readonly fitness: number;
  readonly failure?: string;
  readonly metrics?: Record<string, number>;
}

export interface CandidateEvaluator {
  evaluate(candidate: RemoteCandidate): Promise<CandidateScore>;
  close(): Promise<void>;
}

export function candidateEvaluator(): CandidateEvaluator {
  const models = new Map<string, Checkpoint>(); // key: cwd + '\0' + reference
  const sources = new Map<string, Promise<FitnessSource>>(); // key: the run's fitness inputs as JSON

  function modelMap(candidate: RemoteCandidate): Map<string, Checkpoint> {
    const map = new Map<string, Checkpoint>();
    for (const ref of [...candidate.models.refs, ...(candidate.models.base ? [candidate.models.base] : [])]) {
      const key = `${candidate.cwd}\0${ref}`;
      let model = models.get(key);
      if (!model) {
        model = openCheckpoint(ref, { cwd: candidate.cwd });
        models.set(key, model);
      }
      map.set(ref, model);
    }
    return map;
  }

  function fitnessSourceOf(candidate: RemoteCandidate): Promise<FitnessSource> {
    const fitness = parseWithSchema(fitnessSchema, candidate.fitness, 'the job\'s fitness') as FitnessConfig;
    const config = { fitness, models: [...candidate.models.refs], ...(candidate.models.base ? { base_model: candidate.models.base } : {}) };
    const key = JSON.stringify([config, candidate.cwd]);
    let source = sources.get(key);
    if (!source) {
      source = buildFitness(config, candidate.cwd);
      sources.set(key, source);
      source.catch(() => sources.delete(key)); // a source that failed to build is retried on the next job
    }
    return source;
  }

  /** the folder config.json and tokenizer files are copied from, as evolve/run.ts chooses it */
  function donorFolder(candidate: RemoteCandidate): string | undefined {
    const ref = candidate.models.base ?? candidate.models.refs[0]!;
    const folder = resolve(candidate.cwd, parseModelReference(ref, { cwd: candidate.cwd }).base);
    return existsSync(join(folder, 'config.json')) ? folder : undefined;
  }

  return {
    async evaluate(candidate) {
      const source = await fitnessSourceOf(candidate);
      const merged = await runMerge(candidate.recipe, undefined, { inMemory: true, models: modelMap(candidate), cwd: candidate.cwd, progress: 'none' });
      let dir: string | undefined;
      try {
        if (source.needsFolder) {
          dir = mkdtempSync(join(tmpdir(), 'modelevo-candidate-'));
          rmSync(dir, { recursive: true });
          const donor = donorFolder(candidate);
          writeModelFolder(dir, merged.checkpoint!, donor ? { copyFrom: donor } : {});
        }
        const scored = await source.evaluate({ checkpoint: merged.checkpoint!, ...(dir ? { dir } : {}), recipe: candidate.recipe });
        return { fitness: scored.score, ...(scored.failure ? { failure: scored.failure } : {}), ...(scored.metrics ? { metrics: scored.metrics } : {}) };
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    },
    async close() {
      for (const source of sources.values()) await source.then((s) => s.close?.()).catch(() => undefined);
      sources.clear();
      for (const model of models.values()) model.close();
      models.clear();
    },
  };
}
