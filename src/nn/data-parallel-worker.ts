/**
 * Replica 1 of data-parallel training (started by data-parallel.ts through core/worker-start.ts). It compiles
 * the spec at its share of the batch into its place in the shared memory, reports its offsets, and then
 * serves steps from the control block until told to stop: no message per step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { faultPoint } from '../core/fault-points.js';
import { Model, type ModelSpec } from './model.js';
import type { OptimizerSpec } from './optim/registry.js';
import { COMMANDS, ControlBlock, ReplicaArithmetic, clipScale, replicaKernels, type SharedArenas, type Shard } from './data-parallel-sync.js';

export interface ReplicaWorkerData {
  readonly spec: ModelSpec;
  readonly batch: number;
  readonly optimizer: OptimizerSpec;
  readonly seed: number;
  /** where replica 0's parameter run starts: replica 1 reads and updates it in place */
  readonly paramsAt: number;
  readonly control: SharedArrayBuffer;
  readonly arenas: SharedArenas;
  readonly shard: Shard;
  readonly clipNorm: number | undefined;
}

export interface ReplicaHello {
  /** offsets replica 0 checks against its own */
  readonly regions: Model['layout']['regions'];
  readonly input: number;
  readonly target: number;
  readonly output: number;
}

const port = parentPort!;
const data = workerData as ReplicaWorkerData;
const control = new ControlBlock(data.control, 1);
// fault tests make a replica fail mid-step; without MODELEVO_FAULT a step pays no environment lookup
const stepFault = process.env.MODELEVO_FAULT ? (): void => faultPoint('nn-dp.replica-step') : (): void => {};

try {
  const kernels = (floats: number): ReturnType<typeof replicaKernels> => replicaKernels(data.arenas, 1, floats);
  const model = Model.compile(data.spec, { batch: data.batch, kernels, optimizer: data.optimizer, seed: data.seed, sharedParamsAt: data.paramsAt });
  const hello: ReplicaHello = { regions: model.layout.regions, input: model.input.offset, target: model.target.offset, output: model.output.offset };
  const bases = [data.arenas.placements[0].base, data.arenas.placements[1].base] as const;
  port.postMessage(hello);
  // replica 0 copies its persistent state into this arena before every GO
  serve(new ReplicaArithmetic(model, 1, data.shard, bases));
} catch (error) {
  fail(error);
}

function serve(replica: ReplicaArithmetic): void {
  for (;;) {
    control.awaitOther(); // GO
    const command = control.command;
    if (command === COMMANDS.stop) return;
    if (command === COMMANDS.predict) {
      replica.model.forward(false);
      control.barrier(true); // DONE
      continue;
    }
    const step = control.step;
    if (command === COMMANDS.statistics) {
      replica.model.forward(true, step);
      control.barrier(true); // DONE
      continue;
    }
    if (command === COMMANDS.gradients) {
      control.setLoss(replica.forwardBackward(step));
      control.barrier(); // GRADS
      replica.reduceShard(control.weight(1), control.weight(0), false);
      replica.publishGradShard();
      control.barrier(true); // DONE
      continue;
    }
    stepFault();
    let t = performance.now();
    control.setLoss(replica.forwardBackward(step));
    t = control.lap('compute', t);
    control.barrier(); // GRADS
    t = performance.now();
    control.setSquares(replica.reduceShard(control.weight(1), control.weight(0), data.clipNorm !== undefined));
    t = control.lap('reduce', t);
    if (data.clipNorm !== undefined) {
      control.barrier(); // NORM
      t = performance.now();
    }
    replica.updateShard(control.lr, clipScale(control, data.clipNorm).scale, step);
    control.lap('update', t);
    control.barrier(true); // DONE
  }
}

function fail(error: unknown): void {
  const e = error as { message?: string; code?: string };
  port.postMessage({ error: { message: e.message ?? String(error), code: e.code ?? 'INTERNAL' } });
  control.markFailed();
}
