/**
 * What both sides of data-parallel training share (src/nn/data-parallel.ts runs replica 0 on the calling
 * thread, data-parallel-worker.ts runs replica 1): the control block in a SharedArrayBuffer, a two-party
 * barrier on it (Atomics.wait/notify, no message per step), and the replica's arithmetic, so that both sides
 * reduce and update with literally the same code.
 *
 * Both arenas lie in one shared WebAssembly.Memory (planSharedArenas); both replicas compile the same spec,
 * and the param, grad, optimizer and state regions precede every batch-sized region in the layout, so their
 * offsets relative to each arena's base are identical (checked at start-up). Replica 1's parameter views point
 * into arena 0 (Model.compile's sharedParamsAt: both read one parameter run; its own room stays unused).
 * Per training step:
 *   GO     replica 0 has written both halves of the batch, the step number, lr and the loss weights;
 *   GRADS  both halves are through forward/loss/backward;
 *          replica r reduces its shard of the gradient, g = w₀·g⁽⁰⁾ + w₁·g⁽¹⁾, into its own arena and sums
 *          its squares (each shard is always reduced by the same replica: runs are bit-identical);
 *   NORM   (with clipping only) both partial sums are published; ‖g‖² = s₀ + s₁ on both sides;
 *          replica r runs the optimiser over its shard of the one parameter run both read (arena 0's);
 *          replica 0 also averages the persistent state (batch norm running statistics) into arena 0;
 *   DONE   arena 0 holds the updated parameters; before the next GO replica 0 copies the state into arena 1
 *          (so edits made to arena 0's state between steps reach replica 1 too).
 */
import { ModelevoError } from '../core/errors.js';
import type { Model } from './model.js';
import { WasmKernels, type ArenaPlacement } from './kernels/wasm/index.js';
import { createFixedSharedMemory, instantiateNn, loadNnModule } from './kernels/wasm/loader.js';

/** Int32 slots */
const ARRIVED = [0, 1] as const; // the last barrier number each replica reached
const COMMAND = 2;
const STEP = 3;
const FAILED = 4;
/** Float64 slots, after 8 Int32 slots */
const F64_BASE = 4;
const LR = 0;
const WEIGHT = [1, 2] as const;
const LOSS = [3, 4] as const;
const SQUARES = [5, 6] as const;
const STATE_WEIGHT = [7, 8] as const;
/** per replica, ms spent in each phase (profiling: each replica writes only its own slots) */
const PHASE_BASE = 9;
export const PHASES = ['input', 'compute', 'wait', 'reduce', 'update', 'copy', 'idle'] as const;
export type Phase = (typeof PHASES)[number];
const PHASE_SLOT = Object.fromEntries(PHASES.map((phase, i) => [phase, i])) as Record<Phase, number>;
const F64_SLOTS = PHASE_BASE + 2 * PHASES.length;

/**
 * train: a whole step; predict: inference forward; stop. For callers with their own update (the GWN session:
 * masks, weight decay, frozen tensors over the whole gradient): gradients = GO, forward/loss/backward, GRADS,
 * the shard reduce with replica 1's shard copied into arena 0, DONE (no update); statistics = a training-mode
 * forward only (batch-norm running statistics), DONE.
 */
export const COMMANDS = { train: 1, predict: 2, stop: 3, gradients: 4, statistics: 5 } as const;
export type Command = (typeof COMMANDS)[keyof typeof COMMANDS];

/**
 * Poll this long before sleeping in Atomics.wait: a futex wake-up costs tens of µs, and a step's phases are
 * 0.1–10 ms, so the other replica usually arrives within the spin (between steps too: the caller's loop
 * body is short). Longer waits sleep and cost no CPU.
 */
const SPIN_MS = 0.25;
/** while asleep, look at the failure flag this often (ms) */
const WAIT_SLICE_MS = 100;

export function createControlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(F64_BASE * 8 + F64_SLOTS * 8);
}

export class ControlBlock {
  readonly ints: Int32Array;
  readonly floats: Float64Array;
  /** barriers passed so far; both sides count the same sequence */
  private sequence = 0;
  /** ms spent waiting for the other replica (profiling) */
  waitedMs = 0;
  barriers = 0;

  constructor(
    buffer: SharedArrayBuffer,
    readonly replica: 0 | 1,
  ) {
    this.ints = new Int32Array(buffer, 0, F64_BASE * 2);
    this.floats = new Float64Array(buffer, F64_BASE * 8, F64_SLOTS);
  }

  /** Arrive at the next barrier and, unless `arriveOnly`, wait until the other replica has arrived too. */
  barrier(arriveOnly = false): void {
    const n = ++this.sequence;
    Atomics.store(this.ints, ARRIVED[this.replica], n);
    Atomics.notify(this.ints, ARRIVED[this.replica]);
    if (!arriveOnly) this.addPhase('wait', this.waitFor(n));
  }

  /** Wait for the other replica's next arrival without arriving (replica 1 waiting for GO: idle time). */
  awaitOther(): void {
    this.addPhase('idle', this.waitFor(++this.sequence));
    Atomics.store(this.ints, ARRIVED[this.replica], this.sequence);
  }

  /** adds to this replica's time in `phase` (ms) */
  addPhase(phase: Phase, ms: number): void {
    this.floats[PHASE_BASE + this.replica * PHASES.length + PHASE_SLOT[phase]]! += ms;
  }

  /** adds the time since `since` (a performance.now()) to `phase`; returns now, the next phase's start */
  lap(phase: Phase, since: number): number {
    const now = performance.now();
    this.addPhase(phase, now - since);
    return now;
  }

  /** ms replica `r` spent in each phase so far (replica 1's are current after a barrier) */
  phases(r: 0 | 1): Record<Phase, number> {
    const at = PHASE_BASE + r * PHASES.length;
    return Object.fromEntries(PHASES.map((phase, i) => [phase, this.floats[at + i]!])) as Record<Phase, number>;
  }

  /** ms spent waiting */
  private waitFor(n: number): number {
    const slot = ARRIVED[1 - this.replica as 0 | 1];
    this.barriers++;
    if (Atomics.load(this.ints, slot) >= n) return 0;
    const start = performance.now();
    let waited = 0;
    for (let polls = 1; ; polls++) {
      if (Atomics.load(this.ints, slot) >= n) {
        waited = performance.now() - start;
        this.waitedMs += waited;
        return waited;
      }
      if ((polls & 255) === 0 && performance.now() - start > SPIN_MS) break;
    }
    for (;;) {
      const seen = Atomics.load(this.ints, slot);
      if (seen >= n) break;
      if (Atomics.load(this.ints, FAILED) !== 0) {
        throw new ModelevoError('INTERNAL', `data-parallel replica ${1 - this.replica} failed, expected it at barrier ${n}`, {
          hint: "the worker's error was posted to the main thread; close() reports it",
        });
      }
      Atomics.wait(this.ints, slot, seen, WAIT_SLICE_MS);
    }
    waited = performance.now() - start;
    this.waitedMs += waited;
    return waited;
  }

  get command(): Command {
    return Atomics.load(this.ints, COMMAND) as Command;
  }
  set command(c: Command) {
    Atomics.store(this.ints, COMMAND, c);
  }
  get step(): number {
    return Atomics.load(this.ints, STEP);
  }
  set step(s: number) {
    Atomics.store(this.ints, STEP, s);
  }
  markFailed(): void {
    Atomics.store(this.ints, FAILED, 1);
    Atomics.notify(this.ints, ARRIVED[this.replica]);
  }
  get failed(): boolean {
    return Atomics.load(this.ints, FAILED) !== 0;
  }
  // plain Float64 slots: every write happens before a barrier (Atomics.store/notify), every read after one
  get lr(): number {
    return this.floats[LR]!;
  }
  set lr(v: number) {
    this.floats[LR] = v;
  }
  weight(r: 0 | 1): number {
    return this.floats[WEIGHT[r]]!;
  }
  setWeights(w0: number, w1: number): void {
    this.floats[WEIGHT[0]] = w0;
    this.floats[WEIGHT[1]] = w1;
  }
  stateWeight(r: 0 | 1): number {
    return this.floats[STATE_WEIGHT[r]]!;
  }
  setStateWeights(w0: number, w1: number): void {
    this.floats[STATE_WEIGHT[0]] = w0;
    this.floats[STATE_WEIGHT[1]] = w1;
  }
  loss(r: 0 | 1): number {
    return this.floats[LOSS[r]]!;
  }
  setLoss(v: number): void {
    this.floats[LOSS[this.replica]] = v;
  }
  squares(r: 0 | 1): number {
    return this.floats[SQUARES[r]]!;
  }
  setSquares(v: number): void {
    this.floats[SQUARES[this.replica]] = v;
  }
}

export interface Shard {
  /** [from, to) within the parameter run */
  readonly from: number;
  readonly to: number;
}

/**
 * The parameter run split in two at a multiple of 16 floats (a cache line, and a multiple of the SIMD width,
 * so the sharded optimiser pass takes the same SIMD/tail path per element as one whole pass).
 */
export function shardsOf(count: number): readonly [Shard, Shard] {
  const cut = Math.min(count, Math.ceil(count / 2 / 16) * 16);
  return [
    { from: 0, to: cut },
    { from: cut, to: count },
  ];
}

/**
 * Both arenas in one shared WebAssembly.Memory: [static data | scratch 0 | arena 0 | scratch 1 | arena 1].
 * One memory lets either replica's kernels read the other's gradients, so the all-reduce is a SIMD pass.
 * Arena 1 gets as much room as arena 0: its batch ⌊B/2⌋ ≤ ⌈B/2⌉ and no buffer shrinks with a larger batch.
 */
export interface SharedArenas {
  readonly memory: WebAssembly.Memory;
  readonly placements: readonly [ArenaPlacement, ArenaPlacement];
  /** floats available to each arena */
  readonly floats: number;
}

const ALIGN_FLOATS = 16;
const alignUp = (x: number, to: number): number => Math.ceil(x / to) * to;

export function planSharedArenas(floats: number): SharedArenas {
  const module = loadNnModule();
  // a throw-away instance on a one-page memory tells the static data's size and the scratch's
  const probe = instantiateNn(module, new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }));
  const scratchFloats = probe.gemmScratchFloats();
  const scratch0 = alignUp(Math.ceil(probe.heapBase() / 4), ALIGN_FLOATS);
  const base0 = alignUp(scratch0 + scratchFloats, ALIGN_FLOATS);
  const scratch1 = alignUp(base0 + floats, ALIGN_FLOATS);
  const base1 = alignUp(scratch1 + scratchFloats, ALIGN_FLOATS);
  const memory = createFixedSharedMemory((base1 + floats + ALIGN_FLOATS) * 4);
  return { memory, floats, placements: [{ scratch: scratch0, base: base0 }, { scratch: scratch1, base: base1 }] };
}

/** A replica's kernels on the shared memory; refuses an arena larger than its room. */
export function replicaKernels(arenas: SharedArenas, replica: 0 | 1, floats: number): WasmKernels {
  if (floats > arenas.floats) {
    throw new ModelevoError('INTERNAL', `replica ${replica} needs ${floats} arena floats, expected at most ${arenas.floats} (replica 0's)`, {
      hint: 'a layer planned a buffer that shrinks as the batch grows',
    });
  }
  return new WasmKernels(arenas.memory, instantiateNn(loadNnModule(), arenas.memory), arenas.placements[replica]);
}

/** The part of a training step each replica runs on its own arena and its shard. */
export class ReplicaArithmetic {
  /** float distance from the own arena to the other's (same region offsets relative to each base) */
  private readonly toOther: number;
  /** the reduction's SGD-kernel arguments, reused every step */
  private readonly reduceHyper = { lr: 1, momentum: 0, nesterov: false, weightDecay: 0, gradScale: 0 };

  constructor(
    readonly model: Model,
    readonly replica: 0 | 1,
    readonly shard: Shard,
    bases: readonly [number, number],
  ) {
    this.toOther = bases[1 - replica]! - bases[replica];
  }

  forwardBackward(step: number): number {
    this.model.forward(true, step);
    const loss = this.model.loss();
    this.model.backward();
    return loss;
  }

  /**
   * g = w_own·g_own + w_other·g_other over the shard, into the own arena, as one SIMD pass; returns Σ g² when
   * `squares` (for clipping; 0 otherwise, saving a pass). The pass is the SGD kernel p ← p − lr·(g·s + λ·p)
   * with lr = 1, s = −w_other, λ = 1 − w_own, which is exactly w_own·p + w_other·g: no extra kernel for an axpby.
   */
  reduceShard(wOwn: number, wOther: number, squares: boolean): number {
    const { kernels, runs } = this.model;
    const { from, to } = this.shard;
    const own = runs.grads + from;
    this.reduceHyper.weightDecay = 1 - wOwn;
    this.reduceHyper.gradScale = -wOther;
    kernels.sgdStep(own, own + this.toOther, -1, to - from, this.reduceHyper);
    return squares ? kernels.sumSquares(own, to - from) : 0;
  }

  /** the optimiser over the shard */
  updateShard(lr: number, gradScale: number, step: number): void {
    const { runs, optimizer, kernels } = this.model;
    const { from, to } = this.shard;
    if (to === from) return;
    optimizer!.step(kernels, { params: runs.params + from, grads: runs.grads + from, count: to - from, first: from }, lr, gradScale, step);
  }

  /** replica 1: its reduced gradient shard into arena 0, which then holds the whole reduced gradient */
  publishGradShard(): void {
    const { runs, kernels } = this.model;
    const { from, to } = this.shard;
    kernels.data.copyWithin(runs.grads + from + this.toOther, runs.grads + from, runs.grads + to);
  }

  /** replica 0: persistent state (running statistics) := w₀·s⁽⁰⁾ + w₁·s⁽¹⁾ in arena 0 */
  averageState(w0: number, w1: number): void {
    const { start, end } = this.model.layout.regions.state;
    const data = this.model.kernels.data;
    for (let i = start; i < end; i++) data[i] = Math.fround(w0 * data[i]! + w1 * data[i + this.toOther]!);
  }

  /**
   * Replica 0, before every GO: persistent state from arena 0 into arena 1. Arena 0 is the one callers see
   * (`trainer.model`), so whatever they changed there in between (graph supports) reaches replica 1. The
   * parameters need no copy: replica 1 reads arena 0's.
   */
  pushStateToReplica1(): void {
    const data = this.model.kernels.data;
    const { start, end } = this.model.layout.regions.state;
    if (end > start) data.copyWithin(start + this.toOther, start, end);
  }
}

/** the global-norm clipping factor from the two partial sums, in a fixed order on both sides */
export function clipScale(control: ControlBlock, clipNorm: number | undefined): { norm: number; scale: number } {
  const norm = Math.sqrt(control.squares(0) + control.squares(1));
  return { norm, scale: clipNorm !== undefined && norm > clipNorm ? clipNorm / norm : 1 };
}
