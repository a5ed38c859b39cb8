/**
 * Reservoir replay memory (Vitter's algorithm R) for FS-DGPM's all-tasks loss and its basis recomputation
 * (fs-dgpm.md §1.4, §3 step 5): every example offered so far has the same chance capacity/seen of being held.
 */
import type { Rng } from '../core/rng.js';

export class ReservoirBuffer {
  readonly capacity: number;
  readonly dim: number;
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly task: Int32Array;
  size = 0;
  seen = 0;

  constructor(capacity: number, dim: number) {
    this.capacity = capacity;
    this.dim = dim;
    this.x = new Float32Array(capacity * dim);
    this.y = new Int32Array(capacity);
    this.task = new Int32Array(capacity);
  }

  /** Offers one example (`row` holds `dim` values). */
  offer(row: ArrayLike<number>, label: number, taskId: number, rng: Rng): void {
    this.seen++;
    let slot: number;
    if (this.size < this.capacity) slot = this.size++;
    else {
      slot = rng.int(this.seen);
      if (slot >= this.capacity) return;
    }
    for (let k = 0; k < this.dim; k++) this.x[slot * this.dim + k] = row[k]!;
    this.y[slot] = label;
    this.task[slot] = taskId;
  }

  /** `count` slots drawn uniformly with replacement. */
  sample(count: number, rng: Rng): Int32Array {
    const out = new Int32Array(this.size === 0 ? 0 : count);
    for (let i = 0; i < out.length; i++) out[i] = rng.int(this.size);
    return out;
  }

  /** Up to `count` distinct slots (a seeded partial shuffle). */
  sampleDistinct(count: number, rng: Rng): Int32Array {
    const order = Int32Array.from({ length: this.size }, (_, i) => i);
    const k = Math.min(count, this.size);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(this.size - i);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order.slice(0, k);
  }
}
