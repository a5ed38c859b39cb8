/**
 * `npm run fuzz [-- <cases> <seed>]`: the safetensors reader fuzz (test/support/safetensors-fuzz.ts) at scale,
 * 1,000,000 cases by default. Every case must end in a typed error with the reason its mutation fixes, or in a
 * correct acceptance; the first case that does not is printed (with fast-check's seed and path to replay it)
 * and the exit status is 1. The CI test runs the same cases 10,000 at a time.
 */
import fc from 'fast-check';
import { build, caseArb, checkOutcome, parseInMemory } from '../test/support/safetensors-fuzz.js';

const cases = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: npm run fuzz -- [cases (default 1000000)] [seed]');
  process.exit(2);
}
const counts = new Map<string, number>();
const started = performance.now();
const result = fc.check(
  fc.property(caseArb, (c) => {
    const { bytes, expected, accept } = build(c);
    const parsed = checkOutcome(() => parseInMemory(bytes, 'fuzz.safetensors'), bytes.length, 'fuzz.safetensors', expected, accept);
    const key = `${c.mutation.kind} ${parsed ? 'accepted' : 'rejected'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }),
  { numRuns: cases, seed },
);
const seconds = (performance.now() - started) / 1000;
for (const [key, n] of [...counts].sort()) console.log(`${key.padEnd(28)} ${n}`);
if (result.failed) {
  console.error(`FAILED after ${result.numRuns} cases (seed ${seed}, path ${result.counterexamplePath}):`);
  console.error(JSON.stringify(result.counterexample, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  console.error(String(result.errorInstance));
  process.exit(1);
}
console.log(`${result.numRuns} cases, seed ${seed}: every case a typed error or a correct acceptance (${seconds.toFixed(1)} s)`);
