/**
 * External-command fitness: `--fitness-cmd "python score.py --model {model}"`. The candidate is written to a
 * folder, `{model}` is replaced by its path (shell-quoted), and the command's last JSON line on stdout must
 * be `{"score": <number>, ...}` (other numeric keys are kept as metrics). A non-zero exit, a timeout, or a
 * missing/invalid score line is a failed evaluation with the reason (stderr tail included).
 */
import { spawn } from 'node:child_process';
import { ModelevoError } from '../../core/errors.js';
import type { Objective } from '../strategy.js';
import { type FitnessResult, type FitnessSource, failed } from './fitness.js';

export interface CommandFitnessOptions {
  readonly command: string;
  readonly objective: Objective;
  readonly timeoutSeconds: number;
  readonly cwd?: string;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** the last line of the output that parses as a JSON object with a numeric `score` */
export function parseScoreLine(stdout: string): { score: number; metrics: Record<string, number> } | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if (typeof value.score !== 'number') continue;
      const metrics: Record<string, number> = {};
      for (const [key, v] of Object.entries(value)) if (key !== 'score' && typeof v === 'number') metrics[key] = v;
      return { score: value.score, metrics };
    } catch {
      continue;
    }
  }
  return undefined;
}

export function commandFitness(options: CommandFitnessOptions): FitnessSource {
  if (!options.command.includes('{model}')) {
    throw new ModelevoError('CONFIG_INVALID', `fitness command does not contain the {model} placeholder: ${options.command}`, {
      hint: 'write e.g. --fitness-cmd "python score.py --model {model}"',
    });
  }
  return {
    name: 'command',
    objective: options.objective,
    needsFolder: true,
    evaluate(candidate) {
      if (!candidate.dir) return Promise.resolve(failed('internal: the command fitness needs the candidate written to a folder'));
      const command = options.command.replaceAll('{model}', shellQuote(candidate.dir));
      return runCommand(command, options);
    },
  };
}

function runCommand(command: string, options: CommandFitnessOptions): Promise<FitnessResult> {
  return new Promise((resolvePromise) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => {
      timedOut = true;
      // the whole process group: a shell's children must not outlive the timeout
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolvePromise(failed(`could not start the fitness command: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      if (timedOut) return resolvePromise(failed(`fitness command timed out after ${options.timeoutSeconds} s`));
      if (code !== 0) return resolvePromise(failed(`fitness command exited with ${signal ?? `code ${code}`}${tail ? `: ${tail}` : ''}`));
      const parsed = parseScoreLine(stdout);
      if (!parsed) return resolvePromise(failed(`fitness command printed no JSON line with a numeric "score"${tail ? ` (stderr: ${tail})` : ''}`));
      resolvePromise({ score: parsed.score, metrics: parsed.metrics });
    });
  });
}
