#!/usr/bin/env node
// Runs the given test files with node:test's run() in the given order (the `node --test` command line sorts its
// files, so an order chosen by scripts/run-tests.mjs would be lost there). Each file still runs in its own child
// process, which inherits this process's flags (`--import tsx`). Usage: node --import tsx test-lanes.mjs N files…
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { resolve } from 'node:path';

const [lanes, ...files] = process.argv.slice(2);
const concurrency = Number(lanes);
if (!Number.isInteger(concurrency) || concurrency < 1 || files.length === 0) {
  console.error('usage: node --import tsx scripts/test-lanes.mjs <concurrency> <file>…');
  process.exit(2);
}
const stream = run({ files: files.map((f) => resolve(f)), concurrency });
// a failing test, or a file that does not load or exits non-zero (reported as its file's failure), fails the run
stream.on('test:fail', (event) => {
  if (!event.todo) process.exitCode = 1;
});
// as `node --test` reports: spec on a terminal, TAP otherwise
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
