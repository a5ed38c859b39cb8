/**
 * modelevo command-line entry. Each verb lives in `commands/<verb>.ts` and is listed in COMMANDS below
 * (explicit registration, no import side effects). Errors print one `error [CODE]: message` line and a hint on
 * stderr (with `--json` also one `{"error": {...}}` object on stdout); stacks only with --debug. Exit statuses:
 * core/exit-codes.ts.
 */
import { Command, CommanderError } from 'commander';
import { CheckpointError, ConfigError, ModelevoError, formatPath } from '../core/errors.js';
import { EXIT_STATUS, exitStatusFor, isSystemError } from '../core/exit-codes.js';
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

/** Commander's own outcomes that are not failures. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly hint: string | undefined;
  /** the offending config key, file or tensor, when the error names one */
  readonly path?: string;
}

/** What an error says to the user, in the shape `--json` prints. */
export function describeError(error: unknown): ErrorReport {
  if (error instanceof CommanderError) {
    return { code: 'USAGE', message: error.message.replace(/^error: /, ''), hint: 'run the command with --help for usage and examples' };
  }
  if (error instanceof ModelevoError) {
    const path =
      error instanceof ConfigError && error.issues.length > 0
        ? formatPath(error.issues[0]!.path)
        : error instanceof CheckpointError
          ? error.file
          : typeof error.details['path'] === 'string'
            ? error.details['path']
            : undefined;
    return { code: error.code, message: error.message, hint: error.hint, ...(path === undefined ? {} : { path }) };
  }
  if (isSystemError(error)) {
    return {
      code: 'IO_FAILED',
      message: error.message,
      hint: 'check that the path exists, is writable and the disk has space',
      ...(error.path === undefined ? {} : { path: error.path }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, hint: 'this looks like a bug in modelevo; rerun with --debug and report it' };
}

export function reportError(error: unknown, debug: boolean, json = false): number {
  const status = error instanceof CommanderError ? (COMMANDER_SUCCESS.has(error.code) ? EXIT_STATUS.ok : EXIT_STATUS.usage) : exitStatusFor(error);
  if (status === EXIT_STATUS.ok) return status;
  const report = describeError(error);
  if (json) process.stdout.write(`${JSON.stringify({ error: report })}\n`);
  // commander has already printed its own message on stderr
  if (!(error instanceof CommanderError)) {
    process.stderr.write(`error [${report.code}]: ${report.message}\n`);
    if (report.hint) process.stderr.write(`hint: ${report.hint}\n`);
  }
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return status;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_STATUS.ok;
  } catch (error) {
    return reportError(error, argv.includes('--debug'), argv.includes('--json'));
  }
}
// bin/modelevo.js sets the flag; it is cleared so child processes do not inherit it.
if (process.env.MODELEVO_CLI === '1') {
  delete process.env.MODELEVO_CLI;
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
