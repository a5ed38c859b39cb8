/**
 * Runs the modelevo CLI entry in-process for tests, capturing everything it writes to stdout and stderr.
 * One helper for every CLI test so the capture-and-restore dance lives in one place.
 */
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Calls `main(argv)` with process.stdout/stderr.write swapped for collectors; restores them even on a throw. */
export async function runCli(argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const originalOut = process.stdout.write;
  const originalErr = process.stderr.write;
  // The CLI writes strings; node's test runner reports to its parent through binary chunks on the same stdout
  // while a long command awaits. Swallowing those lost whole test results, so binary chunks pass through.
  const collect = (sink: string[], original: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      sink.push(chunk);
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = collect(out, originalOut, process.stdout);
  process.stderr.write = collect(err, originalErr, process.stderr);
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
  }
}
