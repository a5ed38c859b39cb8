/**
 * `npm run bench:st`: Graph WaveNet training speed on the METR-LA subset through the session the results use
 * (GwnEngineSession: Adam with L2 and clipping, DropConnect and frozen tensors when asked for, BatchNorm
 * statistics): milliseconds per optimiser step and per forecast of one batch, and training windows/s, on
 * 1 thread and on 2 data-parallel workers (`workers: 2`), interleaved in two rounds so that load changes hit
 * both alike. The raw engine step beside tfjs and PyTorch is in bench/nn-train.ts.
 *
 * Flags: --residual 8 --skip 32 --end 64 (channels), --batch 16, --steps 10 (timed steps after 2 warm-up
 * steps), --drop-connect 0 (p of the masked steps, SynEVO's reading), --data test/fixtures/metr-la-subset.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadTrafficNetwork } from '../src/tasks/traffic/csv-loader.js';
import { prepareTraffic, rangeIndices } from '../src/spatiotemporal/gwn-data.js';
import { GwnEngineSession } from '../src/spatiotemporal/gwn-engine-session.js';

const { values } = parseArgs({
  options: {
    residual: { type: 'string', default: '8' },
    skip: { type: 'string', default: '32' },
    end: { type: 'string', default: '64' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '10' },
    'drop-connect': { type: 'string', default: '0' },
    data: { type: 'string', default: 'test/fixtures/metr-la-subset' },
  },
});
const [residual, skip, end, batch, steps, dropConnect] = [values.residual, values.skip, values.end, values.batch, values.steps, values['drop-connect']].map(Number) as [number, number, number, number, number, number];

const prepared = prepareTraffic(loadTrafficNetwork(values.data));
const nodes = prepared.network.sensorIds.length;
const train = rangeIndices(prepared.splits.train);
const batchAt = (i: number): number[] => train.slice((i * batch) % (train.length - batch), ((i * batch) % (train.length - batch)) + batch);
const epoch = { batchSize: batch, weightDecay: 1e-4, dropConnect };
const config = { residualChannels: residual, dilationChannels: residual, skipChannels: skip, endChannels: end };
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** ms per training step and per forecast of one batch, after 2 warm-up steps */
async function measure(workers: 1 | 2): Promise<{ stepMs: number[]; forecastMs: number[]; losses: number[] }> {
  const session = new GwnEngineSession(prepared, { seed: 0, learningRate: 1e-3, clipNorm: 5, config, workers });
  try {
    await session.ready(batch);
    for (let i = 0; i < 2; i++) session.step(batchAt(i), epoch);
    const stepMs: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      losses.push(session.step(batchAt(i + 2), epoch));
      stepMs.push(performance.now() - started);
    }
    const forecastMs: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(steps / 2)); i++) {
      const started = performance.now();
      await session.forecast(batchAt(i), batch);
      forecastMs.push(performance.now() - started);
    }
    return { stepMs, forecastMs, losses };
  } finally {
    await session.dispose();
  }
}

const loadStart = loadavg()[0]!;
const times = new Map<1 | 2, { stepMs: number[]; forecastMs: number[]; losses: number[] }>();
for (let round = 0; round < 2; round++) {
  for (const workers of [1, 2] as const) {
    const t = await measure(workers);
    const entry = times.get(workers) ?? { stepMs: [], forecastMs: [], losses: t.losses };
    entry.stepMs.push(...t.stepMs);
    entry.forecastMs.push(...t.forecastMs);
    times.set(workers, entry);
  }
}
console.log(
  `Graph WaveNet session, ${nodes} nodes, width ${residual}/${skip}/${end}, batch ${batch}, DropConnect ${dropConnect}, ${cpus().length} vCPUs, ` +
    `load average ${loadStart.toFixed(2)} at start → ${loadavg()[0]!.toFixed(2)} at end`,
);
console.log('| threads | training step (fwd + bwd + Adam) ms, median [min–max] | forecast of one batch ms, median | training windows/s | last loss |');
console.log('|---|---|---|---|---|');
for (const [workers, t] of times) {
  const stepMs = median(t.stepMs);
  console.log(`| ${workers === 1 ? '1 thread' : '2 data-parallel workers'} | ${stepMs.toFixed(0)} [${Math.min(...t.stepMs).toFixed(0)}–${Math.max(...t.stepMs).toFixed(0)}] | ${median(t.forecastMs).toFixed(0)} | ${((1000 * batch) / stepMs).toFixed(1)} | ${t.losses.at(-1)!.toFixed(3)} |`);
}
const [one, two] = [times.get(1)!, times.get(2)!];
console.log(`\nstep-time ratio (2 workers / 1 thread): ${(median(two.stepMs) / median(one.stepMs)).toFixed(2)}×`);
