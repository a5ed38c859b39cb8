/**
 * Replica 1 of data-parallel training (started by data-parallel.ts through core/worker-start.ts). It compiles
 * the spec at its share of the batch, hands its shared memory to replica 0, receives replica 0's memory, and
 * then serves steps from the control block until told to stop: no message per step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Model, type ModelSpec } from './model.js';
import type { OptimizerSpec } from './optim/registry.js';
import type { WasmKernels } from './kernels/wasm/index.js';
import { COMMANDS, ControlBlock, ReplicaArithmetic, clipScale, type Shard } from './data-parallel-sync.js';

export interface ReplicaWorkerData {
  readonly spec: ModelSpec;
  readonly batch: number;
  readonly optimizer: OptimizerSpec;
  readonly seed: number;
  readonly control: SharedArrayBuffer;
  readonly shard: Shard;
  readonly clipNorm: number | undefined;
}

export interface ReplicaHello {
  readonly memory: WebAssembly.Memory;
  /** offsets replica 0 checks against its own */
  readonly regions: Model['layout']['regions'];
  readonly input: number;
  readonly target: number;
  readonly output: number;
}

const port = parentPort!;
const data = workerData as ReplicaWorkerData;
const control = new ControlBlock(data.control, 1);

try {
  const model = Model.compile(data.spec, { batch: data.batch, kernels: 'wasm', optimizer: data.optimizer, seed: data.seed });
  const memory = (model.kernels as WasmKernels).memory;
  const hello: ReplicaHello = { memory, regions: model.layout.regions, input: model.input.offset, target: model.target.offset, output: model.output.offset };
  port.postMessage(hello);
  port.once('message', (peer: { memory: WebAssembly.Memory }) => {
    try {
      serve(new ReplicaArithmetic(model, [new Float32Array(peer.memory.buffer), new Float32Array(memory.buffer)], 1, data.shard));
    } catch (error) {
      fail(error);
    }
  });
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
    control.setLoss(replica.forwardBackward(step));
    control.barrier(); // GRADS
    control.setSquares(replica.reduceShard(control.weight(0), control.weight(1)));
    if (data.clipNorm !== undefined) control.barrier(); // NORM
    replica.updateShard(control.lr, clipScale(control, data.clipNorm).scale, step);
    control.barrier(true); // DONE
  }
}

function fail(error: unknown): void {
  const e = error as { message?: string; code?: string };
  port.postMessage({ error: { message: e.message ?? String(error), code: e.code ?? 'INTERNAL' } });
  control.markFailed();
}
