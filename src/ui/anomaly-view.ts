/**
 * The anomaly (AD-NEv) view: an `anomaly evolve` run folder holds anomaly.json (dataset and config),
 * results.json when finished (per channel, per level: validation fitness and the detection metrics by
 * threshold method), and one run store per channel and level (<channel>/<level>/run.sqlite) whose steps are
 * the GA's generations. All numbers are the stored ones.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hasChannelSeries } from './channel-series.js';
import { join } from 'node:path';
import { stepSummaries, type StepSummary } from '../runs/report.js';
import type { RunFolders } from './run-folders.js';
import { readRunSnapshot, type RunStatus } from './store-reader.js';
import { objectiveOf } from './views.js';

export const ANOMALY_MARKER = 'anomaly.json';

export interface AnomalyRunEntry {
  readonly ref: string;
  readonly dataset: unknown;
  readonly finished: boolean;
}

export function listAnomalyRuns(folders: RunFolders): AnomalyRunEntry[] {
  return folders.list(ANOMALY_MARKER).map((folder) => {
    const manifest = readJson(join(folder.dir, ANOMALY_MARKER)) as { dataset?: unknown } | undefined;
    return { ref: folder.ref, dataset: manifest?.dataset ?? null, finished: existsSync(join(folder.dir, 'results.json')) };
  });
}

function readJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined; // being rewritten or damaged: shown as absent
  }
}

export interface AnomalyLevelRun {
  readonly ref: string;
  readonly channel: string;
  readonly level: string;
  readonly status: RunStatus;
  readonly evaluations: number;
  readonly generations: StepSummary[];
}

export interface AnomalyView {
  readonly ref: string;
  readonly manifest: unknown;
  /** results.json as written by the run (per channel: levels with validationFitness and metrics) */
  readonly results: unknown;
  readonly levels: AnomalyLevelRun[];
  /** channels whose test series is stored (the channel page: /channel/<ref>/<id>) */
  readonly channels: string[];
}

export function anomalyView(folders: RunFolders, ref: string): AnomalyView {
  const dir = folders.resolve(ref);
  const manifest = readJson(folders.resolve(`${ref}/${ANOMALY_MARKER}`));
  const prefix = `${ref}/`;
  const levels = folders
    .list()
    .filter((folder) => folder.ref.startsWith(prefix) && folder.dir.startsWith(dir))
    .map((folder) => {
      const snapshot = readRunSnapshot(folder.dir);
      const [channel = '', level = ''] = folder.ref.slice(prefix.length).split('/');
      return {
        ref: folder.ref,
        channel,
        level,
        status: snapshot.header.status,
        evaluations: snapshot.header.evaluations,
        generations: stepSummaries(snapshot.individuals, objectiveOf(snapshot.header.config)),
      };
    });
  const channels = [...new Set(levels.map((l) => l.channel))];
  const stored = (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []).filter((e) => e.isDirectory() && hasChannelSeries(join(dir, e.name))).map((e) => e.name);
  return { ref, manifest: manifest ?? null, results: readJson(join(dir, 'results.json')) ?? null, levels, channels: [...new Set([...channels.filter((c) => stored.includes(c)), ...stored])] };
}
