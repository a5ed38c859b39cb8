/**
 * The order in which the demo reads data: every development evaluation (static selection and every search)
 * and every test evaluation is recorded with the windows it read. Once the test phase starts the log is
 * sealed: a development evaluation after it throws, so "test is evaluated after all selection" is enforced,
 * and the recorded order lets a test check it (and that dev and test windows never overlap).
 */
import { ModelevoError } from '../core/errors.js';
import type { FitnessSource } from '../evolve/fitness/fitness.js';

export interface EvaluationEntry {
  readonly phase: 'dev' | 'test';
  /** what was evaluated: a static merge, `<strategy> seed <s>`, or a model's test row */
  readonly label: string;
  /** windows [first, first + count) of every text */
  readonly first: number;
  readonly count: number;
}

export class EvaluationLog {
  readonly entries: EvaluationEntry[] = [];
  private testStarted = false;

  record(entry: EvaluationEntry): void {
    if (entry.phase === 'dev' && this.testStarted) {
      throw new ModelevoError('INTERNAL', `development evaluation '${entry.label}' after the test split was read`, {
        hint: 'selection must finish before the test split is evaluated; this is a bug in the demo',
      });
    }
    if (entry.phase === 'test') this.testStarted = true;
    this.entries.push(entry);
  }

  /** wraps a windowed fitness source so each evaluation is recorded under `label()` */
  devSource(source: FitnessSource, label: () => string): FitnessSource {
    const windows = source.windows;
    if (!windows) {
      throw new ModelevoError('INTERNAL', `fitness source ${source.name} does not say which windows it reads`, {
        hint: 'the demo only selects with the built-in windowed loss',
      });
    }
    return {
      ...source,
      evaluate: async (candidate) => {
        this.record({ phase: 'dev', label: label(), first: windows.first, count: windows.count });
        return source.evaluate(candidate);
      },
    };
  }
}
