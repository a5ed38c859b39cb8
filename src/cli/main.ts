/**
 * modelevo command-line entry. Each verb lives in `commands/<verb>.ts` and is listed in COMMANDS below
 * (explicit registration, no import side effects). Errors print message + hint; stacks only with --debug.
 */
import { Command, CommanderError } from 'commander';
import { ModelevoError, exitCodeFor } from '../core/errors.js';
import { COMMANDS } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('modelevo')
    .description('Merge, measure and evolve neural network checkpoints (Hugging Face safetensors folders).')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) return error.exitCode;
  if (error instanceof ModelevoError) {
    process.stderr.write(`error [${error.code}]: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (!debug) process.stderr.write('hint: this looks like a bug in modelevo; rerun with --debug and report it\n');
  }
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return exitCodeFor(error);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error, argv.includes('--debug'));
  }
}
// bin/modelevo.js sets the flag; it is cleared so child processes do not inherit it.
if (process.env.MODELEVO_CLI === '1') {
  delete process.env.MODELEVO_CLI;
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
