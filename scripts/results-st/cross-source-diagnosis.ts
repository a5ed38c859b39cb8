/**
 * Diagnosis of SynEVO's synthetic cross-source failure (issue #14; round 1: zero-shot MAE 27.4 vs 8.3 for GWN
 * joint). Trains plain Graph WaveNets on single sources, in SynEVO's curriculum order and jointly, and prints the
 * zero-shot MAE on the held-out source s3 with the mean error (prediction − truth): the error is almost all
 * level bias set by the last source trained. About 2 minutes of CPU.
 * Run: `node --import tsx scripts/results-st/cross-source-diagnosis.ts`.
 */
import { domainSetupOf } from '../../src/spatiotemporal/synevo/experiment.js';
import { GwnEngineSession } from '../../src/spatiotemporal/gwn-engine-session.js';
import { trainSteps, evaluateOn } from '../../src/spatiotemporal/synevo/setup.js';
import { targetsOf } from '../../src/spatiotemporal/gwn-data.js';
import { lastValueForecast } from '../../src/spatiotemporal/baselines.js';
import { maskedMetrics } from '../../src/spatiotemporal/metrics.js';
const setup = domainSetupOf({ kind: 'cross-source', sources: 4, nodes: 30, days: 7, stepsPerDay: 96, seed: 0, holdout: 'last' });
const { prepared, groups, heldOut } = setup;
const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]!; return s / a.length; };
for (const g of [...groups, heldOut]) console.log(g.id, 'mean target', mean(targetsOf(prepared, g.test)).toFixed(2));
console.log('scaler', prepared.scaler);
const truth = targetsOf(prepared, heldOut.test);
const nodes = 30;
const lv = new Float64Array(heldOut.test.length * 12 * nodes);
heldOut.test.forEach((s, i) => lv.set(lastValueForecast(prepared.network, { start: s, end: s + 1 }, new Float64Array(nodes).fill(prepared.scaler.mean)), i * 12 * nodes));
console.log('last value on s3 test MAE', maskedMetrics(lv, truth).mae.toFixed(3));
const cfg = { residualChannels: 8, dilationChannels: 8, skipChannels: 32, endChannels: 64 };
async function run(label: string, plan: { samples: readonly number[]; steps: number }[]) {
  const s = new GwnEngineSession(prepared, { seed: 0, learningRate: 0.01, clipNorm: 5, config: cfg });
  for (const p of plan) await trainSteps(s, p.samples, { steps: p.steps, batchSize: 16, weightDecay: 0.001 });
  const f = await s.forecast(heldOut.test);
  const m = maskedMetrics(f, truth);
  console.log(label, 'zero-shot s3 MAE', m.mae.toFixed(3), 'bias (pred - truth)', (mean(f) - mean(truth)).toFixed(3));
  for (const g of groups) { const e = await evaluateOn(s, prepared, g.test); console.log('   on', g.id, e.all.mae.toFixed(3)); }
  await s.dispose();
}
const byId = Object.fromEntries(groups.map((g) => [g.id, g.train]));
await run('only s0 (60 steps)', [{ samples: byId.s0p0!, steps: 60 }]);
await run('only s2 (60 steps)', [{ samples: byId.s2p0!, steps: 60 }]);
await run('s1,s2,s0 x2 (curriculum order, 30 each)', [1,2].flatMap(() => ['s1p0','s2p0','s0p0'].map((id) => ({ samples: byId[id]!, steps: 30 }))));
await run('joint 180', [{ samples: groups.flatMap((g) => g.train), steps: 180 }]);
