/**
 * `npm run bench:ui`: time to first render of the dashboard (issue #19) in Debian's Chromium, for
 *  - a 10,000-individual evolve run (1,000 steps × 10, parents, kinship and per-domain losses recorded):
 *    `/run/<ref>` from navigation until the header, the fitness chart, the lineage, the kinship map and the
 *    first page of the individuals table are drawn;
 *  - a 500,000-step anomaly channel: `/channel/<ref>/<id>` until its charts are drawn (the server
 *    sends min/max per bucket, downsample.ts).
 * Also the API time of each page's main request, measured in the same run. Flags: --individuals N (10000),
 * --steps N (500000), --repeats N (3: the median is reported).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { RunStore } from '../src/runs/store.js';
import { createUiServer } from '../src/ui/server.js';
import { writeChannelSeries } from '../src/ui/channel-series.js';

const { values } = parseArgs({ options: { individuals: { type: 'string', default: '10000' }, steps: { type: 'string', default: '500000' }, repeats: { type: 'string', default: '3' } } });
const individuals = Number(values.individuals);
const seriesSteps = Number(values.steps);
const repeats = Number(values.repeats);

const built = spawnSync(process.execPath, ['scripts/build-ui.mjs'], { encoding: 'utf8' });
if (built.status !== 0) throw new Error(built.stderr);
const root = mkdtempSync(join(tmpdir(), 'bench-ui-'));

function makeEvolveRun(dir: string, count: number): void {
  const store = RunStore.create(dir, { id: 'bench', kind: 'evolve', createdAt: new Date().toISOString(), seed: 0, config: { fitness: { bench: { objective: 'min' } }, strategy: { name: 'evolver' } }, codeVersion: 'bench' });
  const perStep = 10;
  store.transaction(() => {
    for (let i = 0; i < count; i++) {
      const step = Math.floor(i / perStep);
      const parents = step > 0 ? [`i${i - perStep}`, `i${(i * 7919) % Math.max(1, step * perStep)}`] : undefined;
      const fitness = 3 / (1 + step / 100) + 0.3 * Math.abs(Math.sin(i * 12.9898));
      store.recordIndividual({
        step,
        index: i % perStep,
        key: `i${i}`,
        genome: [Math.sin(i), Math.cos(i), 0.5],
        recipe: { generation: step, slot: i % perStep, mutation: 'interpolate', parent: parents?.[0] ?? 'seed', partners: parents?.slice(1) ?? [], F: 0.5 },
        ...(parents ? { parents, kinship: Object.fromEntries(parents.map((p, k) => [p, 0.5 + 0.1 * k])) } : {}),
        fitness,
        metrics: { loss_code: fitness * 0.9, loss_math: fitness * 1.1, loss_literature: fitness },
        seconds: 0.5,
      });
    }
  });
  store.setStatus('finished');
  store.close();
}

function makeAnomalyRun(dir: string, steps: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'anomaly.json'), JSON.stringify({ dataset: { dataset: 'bench' }, config: {} }));
  const features = [0, 1, 2].map((f) => Float32Array.from({ length: steps }, (_, t) => Math.sin(t / (200 + 50 * f)) + 0.05 * Math.sin(t * 1.7)));
  const labels = new Uint8Array(steps);
  for (let start = 50_000; start < steps; start += 97_000) labels.fill(1, start, Math.min(steps, start + 800));
  const score = Float32Array.from({ length: steps }, (_, t) => Math.abs(Math.sin(t / 5000)) + (labels[t] ? 2 : 0));
  const alarms = Uint8Array.from(score, (s) => (s > 1.5 ? 1 : 0));
  writeChannelSeries(join(dir, 'C-1'), { features, featureNames: ['f0', 'f1', 'f2'], labels, levels: [{ level: 'level1', score, thresholds: { pot: 1.5 }, alarms: { pot: alarms } }] });
}

makeEvolveRun(join(root, 'evolve'), individuals);
makeAnomalyRun(join(root, 'ad'), seriesSteps);
const app = createUiServer({ roots: [root] });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });

async function apiMs(path: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  return performance.now() - t0;
}

async function firstRenderMs(path: string, ready: string): Promise<number> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const t0 = performance.now();
  await page.goto(`${base}${path}`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.waitForFunction((selector) => document.querySelector(selector) !== null && [...document.querySelectorAll('.chart')].every((c) => (c as HTMLElement).dataset['rendered'] !== undefined), ready, { timeout: 60_000 });
  const ms = performance.now() - t0;
  await page.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[][] = [];
const load = loadavg()[0]!;
for (const [label, page, api, ready] of [
  [`evolve run, ${individuals.toLocaleString('en')} individuals`, '/run/0/evolve', '/api/run/0/evolve', 'table.individuals'],
  [`anomaly channel, ${seriesSteps.toLocaleString('en')} steps`, '/channel/0/ad/C-1', '/api/channel/0/ad/C-1?width=1200', '[data-testid=channel-chart]'],
] as const) {
  const renders: number[] = [];
  const apis: number[] = [];
  for (let r = 0; r < repeats; r++) {
    apis.push(await apiMs(api));
    renders.push(await firstRenderMs(page, ready));
  }
  rows.push([label, `${median(apis).toFixed(0)} ms`, `${median(renders).toFixed(0)} ms`, renders.map((x) => x.toFixed(0)).join(', ')]);
}
await browser.close();
await app.close();
rmSync(root, { recursive: true, force: true });

process.stdout.write(`\n## Dashboard: time to first render (bench/ui.ts), ${new Date().toISOString().slice(0, 10)}\n\n`);
process.stdout.write(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load.toFixed(1)} at the start; Chromium ${browser.version()}; median of ${repeats}\n\n`);
process.stdout.write('| page | API response (median) | navigation → drawn (median) | all repeats |\n|---|---|---|---|\n');
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
