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
import { readRunHeader } from '../../src/ui/store-reader.js';
import { RunStore } from '../../src/runs/store.js';
import { fmt } from '../../src/ui/web/dom.js';
import { CMA, buildPage, makeAnomalyRun, makeEvolveRun, makeStRun, writeEvolveConfig } from './fixture-runs.js';

export const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve('out/test-ui');
const root = mkdtempSync(join(tmpdir(), 'ui-browser-'));
const runs = join(root, 'runs');
let app: FastifyInstance;
let base = '';
let browser: Browser;
let live: ChildProcess | undefined;

before(async () => {
  mkdirSync(runs, { recursive: true });
  mkdirSync(SHOTS, { recursive: true });
  buildPage();
  await makeEvolveRun(root, join(runs, 'evolve'));
  await makeStRun(root, join(runs, 'st'));
  await makeAnomalyRun(root, join(runs, 'ad'));
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
  await page.close();
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

test('spatiotemporal view: MAE by horizon vs the baselines equals artifacts/results.json; best validation MAE equals the store', async () => {
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
