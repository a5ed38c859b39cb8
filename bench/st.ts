/**
 * `npm run bench:st`: Graph WaveNet training speed on the METR-LA subset (issue #7): milliseconds per optimiser
 * step (forward + backward + Adam) and per inference forward, and training samples/s, on tfjs-wasm (one
 * thread). `--profile` adds the kernels' share of one training step (tf.profile, summed by kernel name).
 *
 * Flags: --residual 8 --skip 32 --end 64 (channels), --batch 16, --steps 10 (timed steps after 2 warm-up
 * steps), --profile, --data test/fixtures/metr-la-subset, --forward-module <file> (a module exporting a
 * `gwnForward` with the same signature, e.g. an older version of graph-wavenet.ts, timed beside the current one
 * in the same run).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { tf, useBackend } from '../src/train/tf.js';
import { loadTrafficNetwork } from '../src/tasks/traffic/csv-loader.js';
import { prepareTraffic, rangeIndices } from '../src/spatiotemporal/gwn-data.js';
import { GwnTrainingSession, type GwnForwardFn } from '../src/spatiotemporal/gwn-session.js';
import { gwnForward } from '../src/spatiotemporal/graph-wavenet.js';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const { values } = parseArgs({
  options: {
    residual: { type: 'string', default: '8' },
    skip: { type: 'string', default: '32' },
    end: { type: 'string', default: '64' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '10' },
    data: { type: 'string', default: 'test/fixtures/metr-la-subset' },
    profile: { type: 'boolean', default: false },
    'forward-module': { type: 'string' },
  },
});
const [residual, skip, end, batch, steps] = [values.residual, values.skip, values.end, values.batch, values.steps].map(Number) as [number, number, number, number, number];

await useBackend('wasm');
const prepared = prepareTraffic(loadTrafficNetwork(values.data));
const nodes = prepared.network.sensorIds.length;
const train = rangeIndices(prepared.splits.train);
const batchAt = (i: number): number[] => train.slice((i * batch) % (train.length - batch), ((i * batch) % (train.length - batch)) + batch);
const epochOptions = { batchSize: batch, weightDecay: 1e-4 };
const config = { residualChannels: residual, dilationChannels: residual, skipChannels: skip, endChannels: end };
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

type Forward = typeof gwnForward;
const sessionWith = (forward: Forward): GwnTrainingSession => {
  let session: GwnTrainingSession | undefined = undefined;
  const custom: GwnForwardFn = (param, input, _samples, options) => forward(session!.config, param, session!.predefinedSupports, input, options);
  session = new GwnTrainingSession(prepared, { seed: 0, learningRate: 1e-3, clipNorm: 5, config, forward: custom });
  return session;
};

/** median ms per training step and per inference forward, after 2 warm-up steps */
async function measure(forward: Forward): Promise<{ stepMs: number[]; forwardMs: number[] }> {
  const session = sessionWith(forward);
  try {
    for (let i = 0; i < 2; i++) await session.step(batchAt(i), epochOptions);
    const stepMs: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      await session.step(batchAt(i + 2), epochOptions);
      stepMs.push(performance.now() - started);
    }
    const forwardMs: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(steps / 2)); i++) {
      const started = performance.now();
      await session.forecast(batchAt(i), batch);
      forwardMs.push(performance.now() - started);
    }
    return { stepMs, forwardMs };
  } finally {
    session.dispose();
  }
}

const loadStart = loadavg()[0]!;
const candidates: [string, Forward][] = [['current graph-wavenet.ts', gwnForward]];
if (values['forward-module']) {
  const other = (await import(pathToFileURL(resolve(values['forward-module'])).href)) as { gwnForward: Forward };
  candidates.unshift([values['forward-module'], other.gwnForward]);
}
// two interleaved rounds so that load changes hit every candidate alike
const times = new Map<string, { stepMs: number[]; forwardMs: number[] }>();
for (let round = 0; round < (candidates.length > 1 ? 2 : 1); round++) {
  for (const [label, forward] of candidates) {
    const t = await measure(forward);
    const entry = times.get(label) ?? { stepMs: [], forwardMs: [] };
    entry.stepMs.push(...t.stepMs);
    entry.forwardMs.push(...t.forwardMs);
    times.set(label, entry);
  }
}
console.log(
  `Graph WaveNet ${nodes} nodes, width ${residual}/${skip}/${end}, batch ${batch}, tfjs ${tf.version.tfjs} ${tf.getBackend()}, ${cpus().length} vCPUs, ` +
    `load average ${loadStart.toFixed(2)} at start → ${loadavg()[0]!.toFixed(2)} at end`,
);
console.log('| forward implementation | training step (fwd + bwd + Adam) ms, median [min–max] | inference forward ms, median | training samples/s |');
console.log('|---|---|---|---|');
for (const [label, t] of times) {
  const stepMs = median(t.stepMs);
  console.log(`| ${label} | ${stepMs.toFixed(0)} [${Math.min(...t.stepMs).toFixed(0)}–${Math.max(...t.stepMs).toFixed(0)}] | ${median(t.forwardMs).toFixed(0)} | ${((1000 * batch) / stepMs).toFixed(1)} |`);
}
if (times.size > 1) {
  const [first, second] = [...times.values()];
  console.log(`\nstep-time ratio (first / current): ${(median(first!.stepMs) / median(second!.stepMs)).toFixed(2)}×`);
}

if (values.profile) {
  const session = sessionWith(gwnForward);
  await session.step(batchAt(0), epochOptions);
  const info = await tf.profile(async () => {
    await session.step(batchAt(0), epochOptions);
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.calls++;
    byKernel.set(k.name, entry);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`\nkernel time of one profiled step: ${total.toFixed(0)} ms over ${info.kernels.length} kernel calls`);
  console.log('| kernel | ms | share | calls |');
  console.log('|---|---|---|---|');
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    console.log(`| ${name} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)}% | ${e.calls} |`);
  }
  session.dispose();
}
