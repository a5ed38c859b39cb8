/**
 * `modelevo ui` server (issue #19): a Fastify app with a read-only JSON API over the run stores under the
 * `--runs` folders and the page bundled at build time (build/ui/, `npm run build:ui`; no CDN, works
 * offline). Read-only by construction: the stores are opened read-only per request (store-reader.ts),
 * every method but GET/HEAD is answered 405, and every path a request names is checked by RunFolders.
 *
 * Routes (the page's URLs are stable: `/`, `/runs?kind=…`, `/run/<ref>`, `/anomaly/<ref>`, `/channel/<ref>/<id>`):
 *   GET /api/runs                       every run: kind, live status, started, steps, evaluations, best, code version
 *   GET /api/run/<ref>                  the view of one run (views.ts)
 *   GET /api/individuals/<ref>?sort=fitness&desc=1&offset=0&limit=50   one page of the individuals table
 *   GET /api/poll/<ref>?after=<seq>     header and the events after seq (the page polls every second)
 *   GET /api/anomaly/<ref>              an AD-NEv run folder: results.json and each level's fitness per generation
 *   GET /api/channel/<ref>/<channel>?width=1200&features=0,1   a channel's test series, score, labels and alarms
 *                                       (min/max per bucket: downsample.ts)
 *   GET /api/forecast/<ref>?sensor=0&horizon=12&width=1200     an st train run's test forecast and truth for one sensor
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { PathRefusedError, RunFolders } from './run-folders.js';
import { readEventsAfter, readRunSnapshot, type RunHeader } from './store-reader.js';
import { INDIVIDUAL_SORTS, bestOf, individualsPage, objectiveOfRun, runView, type IndividualSort } from './views.js';
import { anomalyView, listAnomalyRuns } from './anomaly-view.js';
import { readChannelSeries } from './channel-series.js';
import { CONTINUAL_RUN_KIND, continualRunView } from '../continual/run-events.js';
import { FORECAST_FOLDER, readForecastIndex, readForecastSensor } from '../spatiotemporal/forecast-artifact.js';
import { minMaxDownsample } from './downsample.js';

export interface UiServerOptions {
  readonly roots: readonly string[];
  /** where app.js and app.css are (default <package>/build/ui) */
  readonly assetsDir?: string;
}

export const DEFAULT_ASSETS_DIR = new URL('../../build/ui/', import.meta.url).pathname;

export interface RunListEntry extends RunHeader {
  readonly ref: string;
  readonly objective: 'min' | 'max';
  readonly best: number | null;
  /** continual runs store no individuals: the tasks trained so far (all seeds) and ACC (mean over seeds) once finished */
  readonly continual?: { readonly tasks: number; readonly acc: number | null };
}

function statusFor(error: unknown): number {
  if (error instanceof PathRefusedError) return 403;
  if (error instanceof ModelevoError && error.code === 'CHECKPOINT_NOT_FOUND') return 404;
  if (error instanceof ModelevoError && error.code === 'VALUE_INVALID') return 400;
  return 500;
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const status = statusFor(error);
  const body = error instanceof ModelevoError ? { code: error.code, message: error.message, hint: error.hint } : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
  return reply.code(status).send({ error: body });
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>modelevo ui</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"></head>
<body><header><a href="/" class="brand">modelevo</a> <span class="muted">runs dashboard (read-only)</span></header>
<main id="app">loading…</main><script type="module" src="/assets/app.js"></script></body></html>`;

function listEntry(ref: string, dir: string): RunListEntry {
  const snapshot = readRunSnapshot(dir);
  if (snapshot.header.kind === CONTINUAL_RUN_KIND) {
    const tasks = continualRunView(snapshot.events).reduce((n, seed) => n + seed.accuracy.filter(Boolean).length, 0);
    const acc = (readJsonIfPresent(join(dir, 'artifacts', 'results.json')) as { acc?: { mean?: unknown } } | undefined)?.acc?.mean;
    return { ...snapshot.header, ref, objective: 'max', best: null, continual: { tasks, acc: typeof acc === 'number' ? acc : null } };
  }
  const objective = objectiveOfRun(snapshot.header.kind, snapshot.header.config);
  const best = bestOf(snapshot.individuals, objective);
  return { ...snapshot.header, ref, objective, best: best ? best.fitness : null };
}

function readJsonIfPresent(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined; // written atomically, so only a damaged file lands here: shown as absent
  }
}

/** The page's URLs (one HTML shell; the bundle routes on the client) and its two bundled assets. */
function registerPages(app: FastifyInstance, assets: string): void {
  const page = async (_request: unknown, reply: FastifyReply) => reply.type('text/html; charset=utf-8').send(PAGE);
  app.get('/', page);
  app.get('/runs', page);
  app.get('/run/*', page);
  app.get('/anomaly/*', page);
  app.get('/channel/*', page);

  for (const [file, type] of [['app.js', 'text/javascript; charset=utf-8'], ['app.css', 'text/css; charset=utf-8']] as const) {
    app.get(`/assets/${file}`, async (_request, reply) => {
      const path = join(assets, file);
      if (!existsSync(path)) return reply.code(500).type('text/plain').send(`${path} is missing: run \`npm run build:ui\``);
      return reply.type(type).send(readFileSync(path));
    });
  }
}

/** The run list and the evolution / spatiotemporal / continual run view: one run, its individuals, its new events. */
function registerRunRoutes(app: FastifyInstance, folders: RunFolders): void {
  app.get('/api/runs', async (_request, reply) => {
    const runs: RunListEntry[] = [];
    const skipped: { ref: string; message: string }[] = [];
    for (const folder of folders.list()) {
      try {
        runs.push(listEntry(folder.ref, folder.dir));
      } catch (error) {
        skipped.push({ ref: folder.ref, message: error instanceof Error ? error.message : String(error) });
      }
    }
    return reply.send({ roots: folders.roots, runs, anomaly: listAnomalyRuns(folders), skipped });
  });

  app.get('/api/run/*', async (request, reply) => {
    try {
      const dir = folders.resolve((request.params as { '*': string })['*']);
      const view = runView(readRunSnapshot(dir));
      // st runs keep their test metrics (by horizon, vs the baselines) in artifacts/results.json, continual runs
      // their ACC / BWT / forgetting as mean ± std over the seeds
      const results = view.view === 'spatiotemporal' || view.view === 'continual' ? readJsonIfPresent(join(dir, 'artifacts', 'results.json')) : undefined;
      // st train runs keep test forecasts per sensor (spatiotemporal/forecast-artifact.ts)
      const forecast = view.view === 'spatiotemporal' ? readForecastIndex(join(dir, 'artifacts', FORECAST_FOLDER)) : undefined;
      return reply.send({ ...view, results: results ?? null, forecast: forecast ?? null });
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.get('/api/individuals/*', async (request, reply) => {
    try {
      const dir = folders.resolve((request.params as { '*': string })['*']);
      const query = request.query as Record<string, string | undefined>;
      const sort = (INDIVIDUAL_SORTS as readonly string[]).includes(query['sort'] ?? '') ? (query['sort'] as IndividualSort) : 'fitness';
      const snapshot = readRunSnapshot(dir);
      const objective = objectiveOfRun(snapshot.header.kind, snapshot.header.config);
      // default order: best first
      const descending = query['desc'] === undefined ? (sort === 'fitness' ? objective === 'max' : false) : query['desc'] === '1';
      const offset = Math.max(0, Math.floor(Number(query['offset'] ?? 0)) || 0);
      const limit = Math.min(500, Math.max(1, Math.floor(Number(query['limit'] ?? 50)) || 50));
      return reply.send({ sort, descending, offset, ...individualsPage(snapshot.individuals, sort, descending, offset, limit) });
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.get('/api/poll/*', async (request, reply) => {
    try {
      const dir = folders.resolve((request.params as { '*': string })['*']);
      const after = Math.max(0, Number((request.query as { after?: string }).after ?? 0) || 0);
      return reply.send(readEventsAfter(dir, after));
    } catch (error) {
      return sendError(reply, error);
    }
  });
}

/** The AD-NEv view: an anomaly run folder and one channel's series. */
function registerAnomalyRoutes(app: FastifyInstance, folders: RunFolders): void {
  app.get('/api/anomaly/*', async (request, reply) => {
    try {
      const ref = (request.params as { '*': string })['*'];
      return reply.send(anomalyView(folders, ref));
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.get('/api/channel/*', async (request, reply) => {
    try {
      // <run ref>/<channel id>: the channel folder is resolved (and checked) like any run path
      const channelDir = folders.resolve((request.params as { '*': string })['*']);
      const query = request.query as { width?: string; features?: string };
      const buckets = Math.min(4000, Math.max(50, Math.floor(Number(query.width ?? 1200)) || 1200));
      const features = query.features === undefined || query.features === '' ? undefined : query.features.split(',').map(Number);
      return reply.send(readChannelSeries(channelDir, buckets, features));
    } catch (error) {
      return sendError(reply, error);
    }
  });
}

/** The spatiotemporal forecast plot: one sensor's test forecast and truth. */
function registerForecastRoutes(app: FastifyInstance, folders: RunFolders): void {
  app.get('/api/forecast/*', async (request, reply) => {
    try {
      const dir = folders.resolve((request.params as { '*': string })['*']);
      const query = request.query as { sensor?: string; horizon?: string; width?: string };
      const buckets = Math.min(4000, Math.max(50, Math.floor(Number(query.width ?? 1200)) || 1200));
      const { index, truth, forecast } = readForecastSensor(join(dir, 'artifacts', FORECAST_FOLDER), Number(query.sensor ?? 0), Number(query.horizon ?? 12));
      return reply.send({ ...index, sensor: Number(query.sensor ?? 0), horizon: Number(query.horizon ?? 12), buckets, downsampling: 'min/max per bucket', truth: minMaxDownsample(truth, buckets), forecast: minMaxDownsample(forecast, buckets) });
    } catch (error) {
      return sendError(reply, error);
    }
  });
}

export function createUiServer(options: UiServerOptions): FastifyInstance {
  const folders = new RunFolders(options.roots);
  const assets = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const app = Fastify({ logger: false });

  // Nothing here writes: every method but GET and HEAD is refused before routing.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply.code(405).header('allow', 'GET, HEAD').send({ error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not accepted: the dashboard is read-only` } });
    }
    reply.header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    reply.header('x-content-type-options', 'nosniff');
    return undefined;
  });

  registerPages(app, assets);
  registerRunRoutes(app, folders);
  registerAnomalyRoutes(app, folders);
  registerForecastRoutes(app, folders);
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such page' } }));
  return app;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
