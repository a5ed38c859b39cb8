/** The planner's layout: one gap-free parameter run, gradients mirroring it, aligned non-overlapping buffers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArenaPlanner } from './arena.js';

test('parameters form one contiguous run and gradients mirror it; other buffers are 4-aligned and disjoint', () => {
  const planner = new ArenaPlanner();
  const act = planner.buffer('activation', 'a', [3, 5]);
  const w = planner.param('w', [7, 3], { kind: 'zeros' });
  const scratch = planner.buffer('scratch', 's', [1]);
  const b = planner.param('b', [7], { kind: 'zeros' });
  const opt = planner.buffer('optimizer', 'm', [28]);
  const layout = planner.layout(100);
  assert.deepEqual([w.offset, b.offset], [100, 121]);
  assert.deepEqual(layout.regions.param, { start: 100, end: 128 });
  assert.equal(b.grad.offset - w.grad.offset, b.offset - w.offset);
  assert.deepEqual(layout.regions.grad, { start: 128, end: 156 });
  const views = [w, b, w.grad, b.grad, act, scratch, opt];
  for (const v of [act, scratch, opt]) assert.equal(v.offset % 4, 0, `${v.name} aligned`);
  for (const x of views) for (const y of views) {
    if (x !== y) assert.ok(x.offset + x.size <= y.offset || y.offset + y.size <= x.offset, `${x.name} and ${y.name} overlap`);
  }
  assert.ok(layout.floats <= planner.floatsNeeded(), 'the pre-layout size bound holds');
  assert.throws(() => planner.buffer('activation', 'late', [1]), /after the arena was laid out/);
});
