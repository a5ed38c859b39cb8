/**
 * The dashboard's one read-only view of run stores (issue #19). Everything the UI shows is read here, so
 * when run opening is unified (#18: `openRun`) only this file changes. Each call opens the SQLite file with
 * `readonly: true`, reads inside one short transaction (a consistent snapshot while the writer keeps
 * appending in WAL mode), and closes it again: the UI never holds a lock or a connection a writer could
 * wait on, and it can never write.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { isProcessAlive, storeError } from '../runs/store-errors.js';
import { STORE_FILE, type IndividualRecord, type IndividualRow } from '../runs/store.js';
import { CONTINUAL_RUN_KIND, continualRunView, type ContinualSeedView } from '../continual/run-events.js';

/** running: a live process holds the run; interrupted: the run stopped without finishing or failing (killed) */
export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted';

export interface RunHeader {
  readonly id: string;
  readonly kind: string;
  readonly createdAt: string;
  readonly seed: number;
  readonly config: unknown;
  readonly codeVersion: string;
  readonly status: RunStatus;
  /** the status column as stored ('running' for a killed run too) */
  readonly storedStatus: string;
  readonly steps: number;
  readonly evaluations: number;
  readonly failed: number;
  readonly lastSeq: number;
}

export interface StoredEvent {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly payload: unknown;
}

export interface RunSnapshot {
  readonly header: RunHeader;
  readonly individuals: readonly IndividualRecord[];
  readonly events: readonly StoredEvent[];
}

/**
 * Runs without a lock row (AD-NEv levels and the `st synevo|coms2t` verbs take none) count as running while
 * their last write is this recent, and as interrupted after.
 */
export const UNLOCKED_IDLE_SECONDS = 120;

interface ManifestRow {
  id: string;
  kind: string;
  created_at: string;
  seed: number;
  config: string;
  code_version: string;
  status: string;
}

export function hasStore(dir: string): boolean {
  return existsSync(join(dir, STORE_FILE));
}

/** Reads `work` against the store in `dir` in one read transaction on a read-only connection. */
function withReadOnly<T>(dir: string, work: (db: Database.Database) => T): T {
  const path = join(dir, STORE_FILE);
  if (!existsSync(path)) {
    throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no run found in ${dir} (missing ${STORE_FILE})`, { hint: 'pass the folder that holds the runs with --runs' });
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 2_000 });
    const connection = db;
    return connection.transaction(() => work(connection))();
  } catch (error) {
    throw error instanceof ModelevoError ? error : storeError(path, error);
  } finally {
    db?.close();
  }
}

function lastWriteTime(db: Database.Database): string | undefined {
  const row = db.prepare('SELECT MAX(t) AS t FROM (SELECT MAX(time) AS t FROM events UNION ALL SELECT MAX(created_at) AS t FROM individuals)').get() as { t: string | null };
  return row.t ?? undefined;
}

function liveStatus(db: Database.Database, stored: string, now: number): RunStatus {
  if (stored === 'finished' || stored === 'failed') return stored;
  const lock = db.prepare('SELECT pid, host FROM run_lock WHERE id = 1').get() as { pid: number; host: string } | undefined;
  if (lock) {
    // a lock of another host cannot be checked from here: trust it
    return lock.host !== hostname() || isProcessAlive(lock.pid) ? 'running' : 'interrupted';
  }
  const last = lastWriteTime(db);
  return last !== undefined && now - Date.parse(last) < UNLOCKED_IDLE_SECONDS * 1000 ? 'running' : 'interrupted';
}

function readHeader(db: Database.Database, dir: string, now: number): RunHeader {
  const row = db.prepare('SELECT * FROM manifest LIMIT 1').get() as ManifestRow | undefined;
  if (!row) throw new ModelevoError('CHECKPOINT_INVALID', `run database in ${dir} has no manifest`, { hint: 'the run store is damaged; the dashboard skips it' });
  const counts = db.prepare('SELECT COUNT(*) AS n, SUM(fitness IS NULL) AS failed, COUNT(DISTINCT step) AS steps FROM individuals').get() as { n: number; failed: number | null; steps: number };
  const seq = db.prepare('SELECT MAX(seq) AS seq FROM events').get() as { seq: number | null };
  return {
    id: row.id,
    kind: row.kind,
    createdAt: row.created_at,
    seed: row.seed,
    config: JSON.parse(row.config) as unknown,
    codeVersion: row.code_version,
    status: liveStatus(db, row.status, now),
    storedStatus: row.status,
    steps: counts.steps,
    evaluations: counts.n,
    failed: counts.failed ?? 0,
    lastSeq: seq.seq ?? 0,
  };
}

function fromRow(row: IndividualRow): IndividualRecord {
  return {
    step: row.step,
    index: row.idx,
    key: row.key,
    genome: JSON.parse(row.genome) as unknown,
    ...(row.recipe === null ? {} : { recipe: JSON.parse(row.recipe) as unknown }),
    ...(row.parents === null ? {} : { parents: JSON.parse(row.parents) as string[] }),
    fitness: row.fitness ?? NaN,
    ...(row.failure === null ? {} : { failure: row.failure }),
    ...(row.metrics === null ? {} : { metrics: JSON.parse(row.metrics) as Record<string, number> }),
    ...(row.kinship === null ? {} : { kinship: JSON.parse(row.kinship) as Record<string, number> }),
    seconds: row.seconds,
  };
}

function readEvents(db: Database.Database, afterSeq: number): StoredEvent[] {
  return (db.prepare('SELECT seq, time, type, payload FROM events WHERE seq > ? ORDER BY seq').all(afterSeq) as { seq: number; time: string; type: string; payload: string }[]).map((e) => ({
    ...e,
    payload: JSON.parse(e.payload) as unknown,
  }));
}

/** The run's manifest, live status and counts (cheap: no individual is parsed). */
export function readRunHeader(dir: string, now = Date.now()): RunHeader {
  return withReadOnly(dir, (db) => readHeader(db, dir, now));
}

/** Header, every individual (ordered by step, index) and every event, from one snapshot. */
export function readRunSnapshot(dir: string, now = Date.now()): RunSnapshot {
  return withReadOnly(dir, (db) => ({
    header: readHeader(db, dir, now),
    individuals: (db.prepare('SELECT * FROM individuals ORDER BY step, idx').all() as IndividualRow[]).map(fromRow),
    events: readEvents(db, 0),
  }));
}

/** Events after `afterSeq` and the header, for live polling. */
export function readEventsAfter(dir: string, afterSeq: number, now = Date.now()): { header: RunHeader; events: StoredEvent[] } {
  return withReadOnly(dir, (db) => ({ header: readHeader(db, dir, now), events: readEvents(db, afterSeq) }));
}

/**
 * A stored `continual run`: its header and, per seed, the accuracy matrix rows and bases per layer stored so
 * far (the shape is continual/run-events.ts's).
 */
export function readContinualRun(dir: string, now = Date.now()): { header: RunHeader; seeds: ContinualSeedView[] } {
  return withReadOnly(dir, (db) => {
    const header = readHeader(db, dir, now);
    if (header.kind !== CONTINUAL_RUN_KIND) {
      throw new ModelevoError('CONFIG_INVALID', `run directory ${dir} holds a '${header.kind}' run, expected '${CONTINUAL_RUN_KIND}'`, {
        hint: 'pass the folder of a `modelevo continual run --run-dir` run',
        details: { dir, expected: CONTINUAL_RUN_KIND, found: header.kind },
      });
    }
    return { header, seeds: continualRunView(readEvents(db, 0)) };
  });
}
