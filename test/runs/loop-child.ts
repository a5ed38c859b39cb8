/**
 * Child process for the crash test: runs CMA-ES on a sphere in a run store and kills itself with SIGKILL
 * (no cleanup, like kill -9) while evaluating the candidate number given on the command line.
 */
import { RunStore } from '../../src/runs/store.js';
import { runLoop } from '../../src/runs/loop.js';
import { cmaEs } from '../../src/evolve/strategies/cma-es.js';
import { crashParams, sphere } from './loop-fixture.js';

const [dir, killAtArg] = process.argv.slice(2);
const killAt = Number(killAtArg);
const store = RunStore.create(dir!, { id: 'crash', kind: 'test', createdAt: 'now', seed: 5, config: {}, codeVersion: 'test' });
let calls = 0;
await runLoop({
  strategy: cmaEs,
  params: crashParams,
  seed: 5,
  store,
  keyOf: (x) => x.join(','),
  async evaluate(x) {
    calls++;
    if (calls === killAt) process.kill(process.pid, 'SIGKILL');
    return { fitness: sphere(x) };
  },
});
