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

test('paramsAt points the parameter views at another run and leaves every other offset where it was', () => {
  const plan = (): { planner: ArenaPlanner; views: ReturnType<ArenaPlanner['buffer']>[] } => {
    const planner = new ArenaPlanner();
    const views = [planner.buffer('activation', 'a', [3, 5]), planner.param('w', [7, 3], { kind: 'zeros' }), planner.param('b', [7], { kind: 'zeros' }), planner.buffer('state', 's', [6])];
    return { planner, views };
  };
  const own = plan();
  const shared = plan();
  const ownLayout = own.planner.layout(100);
  const sharedLayout = shared.planner.layout(100, { paramsAt: 4000 });
  assert.deepEqual(sharedLayout.regions.param, { start: 4000, end: 4028 });
  assert.deepEqual([shared.views[1]!.offset, shared.views[2]!.offset], [4000, 4021]);
  for (const region of ['grad', 'optimizer', 'state', 'io', 'activation', 'activationGrad', 'scratch'] as const) {
    assert.deepEqual(sharedLayout.regions[region], ownLayout.regions[region], region);
  }
  assert.deepEqual(
    shared.views.filter((v) => v.region !== 'param').map((v) => v.offset),
    own.views.filter((v) => v.region !== 'param').map((v) => v.offset),
  );
  assert.equal(sharedLayout.floats, ownLayout.floats, 'the unused parameter room stays reserved');
});
