#!/usr/bin/env node
// Finds every *.test.ts under src/ and test/ and runs them with node's test runner (scripts/test-lanes.mjs).
// `--typecheck` runs tsc beside the tests (npm test): the type check is one more lane instead of a step the
// two test lanes wait for; the run fails if either fails, and tsc's output is printed after the tests.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

/**
 * The files that take longest (CPU-s of one file alone, measured 2026-12-06), longest first. test-lanes.mjs
 * starts files in the order given, two at a time; starting the long ones first lets the two lanes end together
 * instead of one long file running alone at the end. Only an order: a file missing here still runs.
 */
const LONGEST_FIRST = [
  'test/evolve/demo.test.ts',
  'test/ui/dashboard.test.ts',
  'test/queue/distributed-evolve.test.ts',
  'test/merge/faults.test.ts',
  'test/evolve/resume.test.ts',
  'test/evolve/hardening.test.ts',
  'src/cli/commands/extract-lora.test.ts',
  'test/evolve/run.test.ts',
  'src/eval/lm-eval.test.ts',
  'src/cli/commands/demo.test.ts',
  'src/nn/data-parallel.test.ts',
  'src/cli/commands/kinship.test.ts',
  'src/kinship/compute-pool.test.ts',
  'src/kernels/pool.test.ts',
  'src/spatiotemporal/gwn-engine-session.test.ts',
  'test/merge/merged-loss.test.ts',
];

function findTests(dir, out) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'fixtures') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const typecheck = args.includes('--typecheck');
const filters = args.filter((a) => a !== '--typecheck');
const found = ['src', 'test']
  .flatMap((dir) => findTests(dir, []))
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort();
if (found.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const rank = (file) => {
  const index = LONGEST_FIRST.indexOf(file.split('\\').join('/'));
  return index < 0 ? LONGEST_FIRST.length : index;
};
// stable sort: the listed files first in their order, then the rest alphabetically
const files = [...found].sort((a, b) => rank(a) - rank(b));

/** Runs a command; resolves with its exit status (1 when killed by a signal). `capture` buffers its output. */
function run(command, commandArgs, capture) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (capture) {
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
    }
    child.on('error', (error) => resolve({ status: 1, output: `${output}${error.message}\n` }));
    child.on('close', (status) => resolve({ status: status ?? 1, output }));
  });
}

const tsc = typecheck
  ? run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', '.cache/typecheck.tsbuildinfo'], true)
  : Promise.resolve({ status: 0, output: '' });
// three lanes on two cores: many files mostly wait (child processes, Redis, the browser, kill/resume); measured
// back to back on an idle fresh clone (2026-12-06): 2 lanes 397 s, 3 lanes 342 s, 1295 tests passing in both
const concurrency = Number(process.env['MODELEVO_TEST_CONCURRENCY'] ?? 3);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`MODELEVO_TEST_CONCURRENCY: expected a positive integer; got '${process.env['MODELEVO_TEST_CONCURRENCY']}'`);
  process.exit(2);
}
const tests = await run(process.execPath, ['--import', 'tsx', 'scripts/test-lanes.mjs', String(concurrency), ...files], false);
const types = await tsc;
if (typecheck) {
  process.stdout.write(types.output);
  console.log(types.status === 0 ? '# typecheck: no errors' : `# typecheck FAILED (tsc exit ${types.status})`);
}
process.exit(tests.status !== 0 ? tests.status : types.status);
