/**
 * Child process for the crash test: runs CMA-ES on a sphere in a run store and kills itself with SIGKILL
 * (no cleanup, like kill -9) while evaluating the candidate number given on the command line.
 */
import { RunStore } from '../../src/runs/store.js';
import { runSphereLoop } from './loop-fixture.js';

const [dir, killAtArg] = process.argv.slice(2);
const killAt = Number(killAtArg);
const store = RunStore.create(dir!, { id: 'crash', kind: 'test', createdAt: 'now', seed: 5, config: {}, codeVersion: 'test' });
await runSphereLoop(store, (call) => {
  if (call === killAt) process.kill(process.pid, 'SIGKILL');
});
