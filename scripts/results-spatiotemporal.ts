/**
 * `node --import tsx scripts/results-spatiotemporal.ts` → docs/results/spatiotemporal.md (+ .json): Graph WaveNet
 * against the last-value and historical-average baselines on the METR-LA subset (issue #7, first acceptance
 * item), masked MAE / RMSE / MAPE at horizons 3 / 6 / 12. The training budget is reduced to fit 2 shared cores
 * (model width, time budget); the report says so. Flags: --max-seconds, --epochs, --batch-size, --lr,
 * --residual-channels, --skip-channels, --end-channels, --seed, --data, --out.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/train/tf.js';
import { renderResultsTable, runTrafficExperiment } from '../src/spatiotemporal/experiment.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'test/fixtures/metr-la-subset' },
    'max-seconds': { type: 'string', default: '230' },
    epochs: { type: 'string', default: '100' },
    'batch-size': { type: 'string', default: '16' },
    lr: { type: 'string', default: '0.003' },
    'residual-channels': { type: 'string', default: '8' },
    'skip-channels': { type: 'string', default: '32' },
    'end-channels': { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'docs/results/spatiotemporal.md' },
  },
});

function commit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

await useBackend('wasm');
const residual = Number(values['residual-channels']);
const result = await runTrafficExperiment(values.data!, {
  seed: Number(values.seed),
  epochs: Number(values.epochs),
  batchSize: Number(values['batch-size']),
  learningRate: Number(values.lr),
  maxSeconds: Number(values['max-seconds']),
  config: { residualChannels: residual, dilationChannels: residual, skipChannels: Number(values['skip-channels']), endChannels: Number(values['end-channels']) },
  onEpoch: (r) => process.stderr.write(`epoch ${r.epoch}: train ${r.trainLoss.toFixed(3)} val ${r.valMae.toFixed(3)} (${r.seconds.toFixed(1)} s)\n`),
});

const mae = (method: string, h: string): number => result.results.find((r) => r.method === method)!.metrics[h]!.mae;
const verdict = ['3', '6', '12']
  .map((h) => {
    const gwn = mae('graph wavenet', h);
    const best = Math.min(mae('last value', h), mae('historical average', h));
    return `h${h}: GWN ${gwn.toFixed(2)} vs best baseline ${best.toFixed(2)} → ${gwn < best ? 'GWN better' : 'GWN NOT better'}`;
  })
  .join('; ');
const epochs = result.history.map((r) => `| ${r.epoch} | ${r.trainLoss.toFixed(3)} | ${r.valMae.toFixed(3)} | ${r.seconds.toFixed(1)} |`);

const text = `# Spatiotemporal forecasting: Graph WaveNet vs baselines (METR-LA subset)

Produced by \`node --import tsx scripts/results-spatiotemporal.ts ${process.argv.slice(2).join(' ')}\` at commit ${commit()} (tfjs 4.22, wasm backend, one
thread on a 2-core machine shared with other jobs). Issue #7, first acceptance item.

## Protocol

- Data: \`test/fixtures/metr-la-subset\` (${result.sensors} sensors × ${result.steps} five-minute steps = 7 days, from
  lehaifeng/T-GCN, derived from METR-LA). Zeros are missing values. Seven days make day-of-week features
  degenerate; only time of day is used.
- 12 inputs → 12 outputs, samples over the whole series split chronologically 7:1:2:
  ${result.split.train} / ${result.split.val} / ${result.split.test} samples (DCRNN sizes). z-score fitted on the training steps only.
- Metrics: masked MAE / RMSE / MAPE (zeros missing) on the test split, on inverse-scaled predictions, at
  horizons 3 / 6 / 12 (15 / 30 / 60 min) and the 12-step average.
- Baselines: **last value** (last non-missing input reading, repeated for all horizons) and **historical
  average** (per sensor × 5-minute time-of-day slot, from the training steps; with ~5 training days each slot
  averages about 5 readings).

## REDUCED training budget (read this before the numbers)

The paper configuration (32 residual/dilation, 256 skip, 512 end channels, batch 64, up to 100 epochs) does not
fit the 5-minute-per-run limit of this session on 2 shared cores (wasm, one thread, dense 207×207 graph
products over 3 supports × 2 diffusion steps in each of 8 layers). This run used:

- width ${residual} residual/dilation, ${values['skip-channels']} skip, ${values['end-channels']} end channels (paper: 32/32/256/512);
- batch ${values['batch-size']}, Adam lr ${values.lr}, weight decay 1e-4, clip 5, dropout 0.3;
- a wall-clock budget of ${values['max-seconds']} s of training (${result.history.length} epoch(s) started, best validation epoch
  ${result.bestEpoch}, ${result.trainSeconds.toFixed(0)} s including validation scoring).

It is not a reproduction of the paper's accuracy; it checks the pipeline end to end under a small budget.

## Results (test split)

${renderResultsTable(result.results)}

Verdict at the reported horizons: ${verdict}.

Graph WaveNet paper (recalled, UNVERIFIED, full METR-LA, 4 months, full budget): MAE 2.69 / 3.07 / 3.53 at
horizons 3 / 6 / 12. Our subset has 7 days and our budget is minutes, so the numbers are not comparable.

Training history:

| epoch | train masked MAE | val masked MAE | seconds |
|---|---|---|---|
${epochs.join('\n')}

## What remains (issue #7)

- Issue #7's first acceptance item (GWN beats last value and historical average on masked MAE at
  horizons 3/6/12) is met only if the verdict above says so for all three; under this budget it is not yet.

- A longer GWN run (full width, many epochs) — needs far more compute than a shared 2-core budget, or a
  faster graph-convolution kernel (sparse adjacency products, or onnxruntime for the forward pass).
- The synthetic multi-source generator, SynEVO (difficulty ordering, elastic schedules, personality
  extractor, κ-gated coupler, ablations), ComS2T (stable/dynamic split, prompt encoder, test-time prompt
  adaptation, ablations), and the \`st synevo|coms2t\` verbs with run-store integration.
- Domain splits (\`--domains time-of-day:4\`) and the cross-temporal / cross-source tables.
`;

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, text);
writeFileSync(values.out!.replace(/\.md$/, '.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stderr.write(`wrote ${values.out}\n${verdict}\n`);
