/**
 * fit's batch order per epoch: a caller's custom order, the index order, or the default seeded shuffle of one
 * persistent index array (Fisher–Yates from the end), which continues from the previous epoch's order unless
 * `shuffleFrom` is 'identity'.
 */
import { ModelevoError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

export interface OrderOptions {
  readonly shuffle?: boolean;
  readonly shuffleFrom?: 'previous' | 'identity';
  readonly order?: (epoch: number) => ArrayLike<number>;
}

/** The order function for `count` examples; call it once per epoch, in epoch order (it advances `rng`). */
export function epochOrders(count: number, options: OrderOptions, rng: Rng): (epoch: number) => Int32Array {
  const persistent = Int32Array.from({ length: count }, (_, i) => i);
  return (epoch) => {
    if (options.order) {
      const custom = options.order(epoch);
      if (custom.length !== count) {
        throw new ModelevoError('CONFIG_INVALID', `order(${epoch}) gave ${custom.length} indices, expected a permutation of ${count}`, { hint: 'return every example index once' });
      }
      return custom instanceof Int32Array ? custom : Int32Array.from(custom);
    }
    if (options.shuffle === false) return persistent;
    if (options.shuffleFrom === 'identity') for (let i = 0; i < count; i++) persistent[i] = i;
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = persistent[i]!;
      persistent[i] = persistent[j]!;
      persistent[j] = t;
    }
    return persistent;
  };
}
