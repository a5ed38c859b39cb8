/**
 * The dashboard in a real Chromium (Debian's /usr/bin/chromium through playwright-core; no browser download)
 * against runs made by the real commands at a tiny budget: every view renders without console errors, the
 * numbers in the DOM equal the store's, a page open on a running run follows it within 2 s of a new stored
 * evaluation, and a killed run shows as interrupted. Screenshots go to out/test-ui/ (docs/ui/ holds copies).
 * The API's security cases (paths out, methods, bind address) are in src/ui/server.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { createUiServer } from '../../src/ui/server.js';
import { readContinualRun, readRunHeader } from '../../src/ui/store-reader.js';
import { readForecastSensor } from '../../src/spatiotemporal/forecast-artifact.js';
import { RunStore } from '../../src/runs/store.js';
import { fmt } from '../../src/ui/web/dom.js';
import { CMA, buildPage, makeAnomalyRun, makeComs2tRun, makeContinualRun, makeEvolveRun, makeStRun, makeSynevoRun, writeEvolveConfig } from './fixture-runs.js';

export const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve('out/test-ui');
const root = mkdtempSync(join(tmpdir(), 'ui-browser-'));
const runs = join(root, 'runs');
let app: FastifyInstance;
let base = '';
let browser: Browser;
let live: ChildProcess | undefined;
let continualStderr = '';

before(async () => {
  mkdirSync(runs, { recursive: true });
  mkdirSync(SHOTS, { recursive: true });
  buildPage();
  await makeEvolveRun(root, join(runs, 'evolve'));
  await makeStRun(root, join(runs, 'st'));
  await makeComs2tRun(root, join(runs, 'coms2t'));
  await makeSynevoRun(join(runs, 'synevo'));
  await makeAnomalyRun(root, join(runs, 'ad'));
  continualStderr = (await makeContinualRun(root, join(runs, 'continual'))).stderr;
  app = createUiServer({ roots: [runs] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  live?.kill('SIGKILL');
  await browser?.close();
  await app?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Opens `path`, waits until the page and its charts are drawn, fails on any console error; saves a screenshot. */
async function open(path: string, shot: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}${path}`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => (c as HTMLElement).dataset['rendered'] !== undefined));
  await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
  return { page, errors };
}

function storedRecords(dir: string) {
  const store = RunStore.open(dir);
  try {
    return store.individuals();
  } finally {
    store.close();
  }
}

const valueOf = async (page: Page, selector: string) => Number(await page.locator(selector).first().getAttribute('data-value'));

test('runs list: the runs, finished, with the store\'s evaluation counts and best fitness', async () => {
  const { page, errors } = await open('/', 'runs-list');
  assert.deepEqual(errors, []);
  for (const name of ['evolve', 'st']) {
    const records = storedRecords(join(runs, name));
    const row = page.locator(`tr[data-ref="0/${name}"]`);
    assert.equal(await row.locator('[data-testid=status]').textContent(), 'finished');
    assert.equal(Number(await row.locator('[data-testid=evaluations]').getAttribute('data-value')), records.length);
    const best = Math.min(...records.map((r) => r.fitness).filter(Number.isFinite));
    assert.equal(Number(await row.locator('[data-testid=best]').getAttribute('data-value')), best);
    assert.equal(await row.locator('[data-testid=best]').textContent(), fmt(best));
  }
  const continual = page.locator('tr[data-ref="0/continual"]');
  assert.equal(await continual.locator('[data-testid=kind]').textContent(), 'continual');
  assert.equal(await continual.locator('a').getAttribute('href'), '/run/0/continual');
  assert.equal(await continual.locator('[data-testid=status]').textContent(), 'finished');
  const continualResults = JSON.parse(readFileSync(join(runs, 'continual', 'artifacts', 'results.json'), 'utf8')) as { acc: { mean: number } };
  assert.equal(Number(await continual.locator('[data-testid=acc]').getAttribute('data-value')), continualResults.acc.mean);
  assert.equal(Number(await continual.locator('[data-testid=tasks]').getAttribute('data-value')), 2 * 5, 'two seeds of five tasks');
  await page.close();
  // filter by kind (a stable URL): only the continual run; `st` gathers every st-* kind
  for (const [kind, expected] of [['continual', ['0/continual']], ['st', ['0/coms2t', '0/st', '0/synevo']]] as const) {
    const filtered = await open(`/runs?kind=${kind}`, `runs-list-${kind}`);
    assert.deepEqual(filtered.errors, []);
    assert.deepEqual((await filtered.page.locator('[data-testid=run-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-ref')))).sort(), expected);
    await filtered.page.close();
  }
});

test('evolve view: best fitness, the best row of the table, kinship cells and reference lines equal the store', async () => {
  const { page, errors } = await open('/run/0/evolve', 'evolve-run');
  assert.deepEqual(errors, []);
  const records = storedRecords(join(runs, 'evolve'));
  const best = records.filter((r) => Number.isFinite(r.fitness)).sort((a, b) => a.fitness - b.fitness)[0]!;
  assert.equal(await valueOf(page, '[data-testid=best-fitness]'), best.fitness);
  assert.equal(await page.locator('[data-testid=best-fitness]').textContent(), fmt(best.fitness));
  assert.equal(await valueOf(page, '[data-testid=evaluations]'), records.length);
  // the table opens sorted best first
  await page.waitForSelector('table.individuals');
  assert.equal(await page.locator('table.individuals tbody tr').first().getAttribute('data-key'), best.key);
  assert.equal(await valueOf(page, 'table.individuals tbody tr [data-testid=fitness]'), best.fitness);
  // sortable: by seconds, fastest first
  await page.locator('table.individuals th[data-sort=seconds]').click();
  await page.waitForSelector('table.individuals th[data-sort=seconds]:has-text("▲")');
  const fastest = Math.min(...records.map((r) => r.seconds));
  const firstKey = await page.locator('table.individuals tbody tr').first().getAttribute('data-key');
  assert.ok(records.some((r) => r.key === firstKey && r.seconds === fastest), `first row ${firstKey} is a fastest one (${fastest} s)`);
  // kinship: every number in the heat map is one of the stored kinship values
  const stored = new Set(records.flatMap((r) => Object.values(r.kinship ?? {})));
  const cells = await page.locator('[data-testid=kinship] td .num').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  assert.ok(cells.length > 0 && cells.every((v) => stored.has(v)), `kinship cells ${cells}`);
  // reference lines: evolve stored the base's and each expert's fitness
  const references = readRunHeader(join(runs, 'evolve')) && (await page.locator('[data-testid=fitness] p.muted').textContent());
  assert.match(references ?? '', /base .*tiny-llama\/base/);
  assert.equal(await page.locator('[data-testid=lineage] circle').count() > 1, true);
  const domain = await valueOf(page, '[data-testid=domain-code]');
  assert.equal(domain, best.metrics!['loss_code']);
  await page.close();
});

test('spatiotemporal view: MAE by horizon vs the baselines equals artifacts/results.json; best validation MAE equals the store; forecast vs truth for a chosen sensor', async () => {
  const { page, errors } = await open('/run/0/st', 'st-run');
  assert.deepEqual(errors, []);
  const results = JSON.parse(readFileSync(join(runs, 'st', 'artifacts', 'results.json'), 'utf8')) as { results: { method: string; metrics: Record<string, { mae: number; rmse: number }> }[] };
  for (const r of results.results) {
    for (const horizon of ['3', '12', 'all']) {
      assert.equal(await valueOf(page, `[data-testid="mae-${r.method.replace(/\s+/g, '-')}-${horizon}"]`), r.metrics[horizon]!.mae);
    }
  }
  const records = storedRecords(join(runs, 'st'));
  assert.equal(await valueOf(page, '[data-testid=best-fitness]'), Math.min(...records.map((r) => r.fitness)));
  await page.close();

  // forecast vs truth for a chosen sensor (stable URL): the stored truth is a stretch of that sensor's CSV column
  const chosen = await open('/run/0/st?sensor=1&horizon=3', 'st-run-forecast');
  assert.deepEqual(chosen.errors, []);
  await chosen.page.waitForSelector('[data-testid=forecast-chart][data-rendered]');
  assert.equal(await chosen.page.locator('[data-testid=forecast-sensor]').inputValue(), '1');
  assert.equal(await chosen.page.locator('[data-testid=forecast-horizon]').inputValue(), '3');
  const stored = readForecastSensor(join(runs, 'st', 'artifacts', 'forecast'), 1, 3);
  const column = readFileSync(join(root, 'speed.csv'), 'utf8').trim().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
  const offset = column.findIndex((_, k) => stored.truth.every((v, s) => Math.abs(v - column[k + s]!) < 1e-4 * Math.abs(v)));
  assert.ok(offset > 0 && stored.truth.length > 0, `truth of sensor s2 found at step ${offset}`);
  // what the page drew: the server's min/max buckets of the stored arrays
  const served = await chosen.page.evaluate(async () => (await (await fetch('/api/forecast/0/st?sensor=1&horizon=3&width=50')).json()) as { truth: { y: number[] }; forecast: { y: number[] } });
  assert.equal(Math.max(...served.truth.y), Math.max(...stored.truth));
  assert.equal(Math.min(...served.forecast.y), Math.min(...stored.forecast));
  await chosen.page.close();
});

test('ComS2T view: the stable / dynamic split as the stored weight-split event has it, MAE by horizon as results.json', async () => {
  const { page, errors } = await open('/run/0/coms2t', 'st-coms2t-run');
  assert.deepEqual(errors, []);
  const store = RunStore.open(join(runs, 'coms2t'));
  const split = store.events().find((e) => e.type === 'weight-split')!.payload as { eligible: number; dynamic: string[] };
  store.close();
  assert.ok(split.eligible > 0 && split.dynamic.length > 0);
  assert.equal(await valueOf(page, '[data-testid=split-eligible]'), split.eligible);
  assert.equal(await valueOf(page, '[data-testid=split-dynamic]'), split.dynamic.length);
  assert.equal(await valueOf(page, '[data-testid=stable-share]'), (split.eligible - split.dynamic.length) / split.eligible);
  // test MAE by horizon of ComS2T and of its Stage 0 Graph WaveNet, as artifacts/results.json has them
  const results = JSON.parse(readFileSync(join(runs, 'coms2t', 'artifacts', 'results.json'), 'utf8')) as { test: Record<'plainGwn' | 'coms2t', Record<string, { mae: number }>> };
  assert.equal(await valueOf(page, '[data-testid="mae-ComS2T-12"]'), results.test.coms2t['h12']!.mae);
  assert.equal(await valueOf(page, '[data-testid="mae-Graph-WaveNet-(Stage-0)-all"]'), results.test.plainGwn['all']!.mae);
  // one chart per training stage (Stage 0, Stage 1b)
  assert.equal(await page.locator('[data-testid=stage-epochs] .chart').count(), 2);
  await page.close();
});

test('SynEVO view: κ, zero/few-shot MAE and curriculum order as results.json has them; every stored gate decision', async () => {
  const { page, errors } = await open('/run/0/synevo', 'st-synevo-run');
  assert.deepEqual(errors, []);
  const results = JSON.parse(readFileSync(join(runs, 'synevo', 'artifacts', 'results.json'), 'utf8')) as { synevo: { ablation: string; kappa: number; order: string[]; zeroShot: { all: { mae: number } }; fewShot: { all: { mae: number } } }[] };
  for (const s of results.synevo) {
    assert.equal(await valueOf(page, `[data-testid="kappa-${s.ablation}"]`), s.kappa);
    assert.equal(await valueOf(page, `[data-testid="zero-shot-${s.ablation}"]`), s.zeroShot.all.mae);
    assert.equal(await valueOf(page, `[data-testid="few-shot-${s.ablation}"]`), s.fewShot.all.mae);
    assert.match((await page.locator('[data-testid=synevo]').textContent()) ?? '', new RegExp(s.order.join(' → ')));
  }
  const store = RunStore.open(join(runs, 'synevo'));
  const gates = store.events().filter((e) => e.type === 'gate').length;
  store.close();
  assert.ok(gates > 0);
  assert.equal(await page.locator('[data-testid=gates] tbody tr').count(), gates);
  await page.close();
});

test('anomaly view: per-level F1 / PA-F1 equal results.json; each level\'s generations page shows its store\'s best', async () => {
  const { page, errors } = await open('/anomaly/0/ad', 'anomaly-run');
  assert.deepEqual(errors, []);
  const results = JSON.parse(readFileSync(join(runs, 'ad', 'results.json'), 'utf8')) as { id: string; levels: { level: string; validationFitness: number; metrics: Record<string, number> }[] }[];
  let compared = 0;
  for (const channel of results) {
    for (const level of channel.levels) {
      assert.equal(await valueOf(page, `[data-testid="val-${channel.id}-${level.level}"]`), level.validationFitness);
      for (const key of ['pot_f1', 'pot_pa_f1', 'oracle_f1']) {
        if (level.metrics[key] === undefined) continue;
        assert.equal(await valueOf(page, `[data-testid="${key}-${channel.id}-${level.level}"]`), level.metrics[key]);
        compared++;
      }
    }
  }
  assert.ok(compared >= 3, `compared ${compared} metrics`);
  await page.close();
  const level = await open('/run/0/ad/plant/level1', 'anomaly-level');
  assert.deepEqual(level.errors, []);
  const records = storedRecords(join(runs, 'ad', 'plant', 'level1'));
  assert.equal(await valueOf(level.page, '[data-testid=best-fitness]'), Math.min(...records.map((r) => r.fitness).filter(Number.isFinite)));
  await level.page.close();
});

test('anomaly channel view: the test series, score and alarms as stored; the labelled range is shaded', async () => {
  const anomaly = await open('/anomaly/0/ad', 'anomaly-run-links');
  assert.deepEqual(await anomaly.page.locator('[data-testid=channel-link]').evaluateAll((links) => links.map((a) => a.getAttribute('href'))), ['/channel/0/ad/plant']);
  await anomaly.page.close();
  const { page, errors } = await open('/channel/0/ad/plant', 'anomaly-channel');
  assert.deepEqual(errors, []);
  assert.equal(await valueOf(page, '[data-testid=series-steps]'), 160);
  assert.equal(await valueOf(page, '[data-testid=label-ranges]'), 1);
  // alarm ranges counted independently from the stored 0/1 file
  const alarms = new Uint8Array(readFileSync(join(runs, 'ad', 'plant', 'series', 'alarms-level1-pot.u8')));
  const starts = alarms.filter((a, t) => a === 1 && (t === 0 || alarms[t - 1] === 0)).length;
  assert.equal(await valueOf(page, '[data-testid=alarms-level1-pot]'), starts);
  assert.equal(await page.locator('[data-testid=feature-picker] input').count(), 3);
  // the threshold line: its value as index.json stores it, drawn as a series of the score chart
  const index = JSON.parse(readFileSync(join(runs, 'ad', 'plant', 'series', 'index.json'), 'utf8')) as { levels: { level: string; thresholds: Record<string, number> }[] };
  const level1 = index.levels.find((l) => l.level === 'level1')!;
  assert.ok(Object.keys(level1.thresholds).length > 0, 'level1 stored a threshold');
  for (const [method, value] of Object.entries(level1.thresholds)) {
    assert.equal(await valueOf(page, `[data-testid=threshold-level1-${method}]`), value);
    assert.equal(await page.locator('[data-testid=level-level1] .u-legend .u-series', { hasText: `${method} threshold` }).count(), 1);
  }
  // selectable features: unticking one reloads the page with the other two in the URL and in the chart
  await page.locator('[data-testid=feature-picker] input').nth(2).uncheck();
  await page.waitForURL(/features=0,1$/);
  await page.waitForSelector('body[data-ready="1"]');
  await page.waitForSelector('[data-testid=channel-chart][data-rendered]');
  assert.equal(await page.locator('[data-testid=feature-picker] input:checked').count(), 2);
  assert.equal(await page.locator('[data-testid=channel-chart] .u-legend .u-series').count(), 1 + 2, 'x and two features');
  assert.deepEqual(errors, []);
  await page.close();
});

test('continual view: ACC, BWT, forgetting, matrix cells and bases equal the store; the command printed its watch-it-live line', async () => {
  assert.ok(continualStderr.includes(`watch it live: modelevo ui --runs ${runs}\n`), continualStderr);
  const { page, errors } = await open('/run/0/continual', 'continual-run');
  assert.deepEqual(errors, []);
  const dir = join(runs, 'continual');
  const { seeds } = readContinualRun(dir);
  assert.deepEqual(seeds.map((s) => s.seed), [0, 1]);
  for (const seed of seeds) {
    const R = seed.accuracy;
    const T = R.length;
    assert.equal(T, 5, 'split-fmnist: five tasks, every row stored');
    // the stored summary against the definitions (fs-dgpm.md §6), computed here from the stored rows
    const acc = R[T - 1]!.reduce((a, b) => a + b, 0) / T;
    const bwt = R.slice(0, T - 1).reduce((a, _, j) => a + R[T - 1]![j]! - R[j]![j]!, 0) / (T - 1);
    assert.ok(Math.abs(seed.summary!.acc - acc) < 1e-12 && Math.abs(seed.summary!.bwt - bwt) < 1e-12);
    assert.equal(await valueOf(page, `[data-testid=acc-seed-${seed.seed}]`), seed.summary!.acc);
    assert.equal(await valueOf(page, `[data-testid=bwt-seed-${seed.seed}]`), seed.summary!.bwt);
    assert.equal(await valueOf(page, `[data-testid=forgetting-seed-${seed.seed}]`), seed.summary!.forgetting);
    assert.equal(await page.locator(`[data-testid=acc-seed-${seed.seed}]`).textContent(), fmt(seed.summary!.acc));
    // matrix cells: the last row's first task (after forgetting) and a diagonal one, number visible in the cell
    for (const [i, j] of [[T - 1, 0], [2, 2]] as const) {
      assert.equal(await valueOf(page, `[data-testid=r-${seed.seed}-${i}-${j}]`), R[i]![j]);
      assert.equal(await page.locator(`[data-testid=r-${seed.seed}-${i}-${j}]`).textContent(), fmt(R[i]![j]));
    }
    assert.equal(await page.locator(`[data-testid=accuracy-${seed.seed}] td .num`).count(), T * T);
    // bases per layer after each task; the task-incremental head (last layer) is not projected
    const bases = seed.basisSizesPerTask;
    assert.equal(await valueOf(page, `[data-testid=basis-${seed.seed}-${T - 1}-0]`), bases[T - 1]![0]);
    assert.equal(await valueOf(page, `[data-testid=basis-${seed.seed}-${T - 1}-2]`), 0);
  }
  // mean ± std over the seeds as results.json stores them
  const results = JSON.parse(readFileSync(join(dir, 'artifacts', 'results.json'), 'utf8')) as Record<'acc' | 'bwt', { mean: number; std: number }>;
  assert.equal(await valueOf(page, '[data-testid=acc-mean]'), results.acc.mean);
  assert.equal(await valueOf(page, '[data-testid=bwt-mean]'), results.bwt.mean);
  assert.equal(await valueOf(page, '[data-testid=bwt-std]'), results.bwt.std);
  assert.ok(Math.abs(results.acc.mean - (seeds[0]!.summary!.acc + seeds[1]!.summary!.acc) / 2) < 1e-12);
  await page.close();
});

test('live: the page follows a running evolve within 2 s of each stored evaluation; killed, it shows interrupted', async () => {
  const yml = writeEvolveConfig(root, 'ui-live', CMA, 40, false);
  const runDir = join(runs, 'live');
  live = spawn(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', runDir, '--json'], { stdio: 'ignore', env: { ...process.env, DELAY_MS: '600' } });
  const evaluations = () => (existsSync(join(runDir, 'run.sqlite')) ? readRunHeader(runDir).evaluations : 0);
  for (let i = 0; i < 600 && evaluations() < 1; i++) await new Promise((r) => setTimeout(r, 50));
  const { page, errors } = await open('/run/0/live', 'live-run');
  const latencies: number[] = [];
  for (let round = 0; round < 2; round++) {
    const shown = await valueOf(page, '[data-testid=evaluations]');
    let stored = evaluations();
    while (stored <= shown) {
      await new Promise((r) => setTimeout(r, 20));
      stored = evaluations();
    }
    const seen = Date.now();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=evaluations]')?.getAttribute('data-value')) >= n, stored, { timeout: 5000 });
    latencies.push(Date.now() - seen);
  }
  assert.ok(latencies.every((ms) => ms < 2000), `page updates after ${latencies.join(', ')} ms`);
  assert.equal(await page.locator('[data-testid=status]').textContent(), 'running');

  const exited = new Promise((r) => live!.once('exit', r));
  live.kill('SIGKILL');
  await exited;
  live = undefined;
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'interrupted', undefined, { timeout: 5000 });
  await page.screenshot({ path: join(SHOTS, 'interrupted-run.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
  const list = await open('/', 'runs-list-interrupted');
  assert.equal(await list.page.locator('tr[data-ref="0/live"] [data-testid=status]').textContent(), 'interrupted');
  assert.deepEqual(list.errors, []);
  await list.page.close();
});
