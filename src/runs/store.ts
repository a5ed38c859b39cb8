/**
 * Run store: one SQLite database per run directory (better-sqlite3, WAL, synchronous=FULL) plus an
 * artifacts folder. It keeps the run's configuration, every evaluated individual, the strategy state after
 * every `tell`, and an append-only event log. Writes are transactions, so a crash (even kill -9) loses at
 * most the evaluation in flight; nothing committed is ever repeated on resume.
 */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelevoError } from '../core/errors.js';

export interface RunManifest {
  readonly id: string;
  readonly kind: string;
  readonly createdAt: string;
  readonly seed: number;
  readonly config: unknown;
  readonly codeVersion: string;
}

export interface IndividualRecord {
  /** step (ask/tell round) and index of the candidate within it: the key that makes resume exact */
  readonly step: number;
  readonly index: number;
  readonly key: string;
  readonly genome: unknown;
  readonly recipe?: unknown;
  readonly parents?: readonly string[];
  /** NaN for a failed evaluation (stored as NULL with the reason) */
  readonly fitness: number;
  readonly failure?: string;
  readonly metrics?: Record<string, number>;
  readonly kinship?: Record<string, number>;
  readonly seconds: number;
}

export interface StoredState<S> {
  readonly step: number;
  readonly state: S;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS manifest (id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL,
  seed INTEGER NOT NULL, config TEXT NOT NULL, code_version TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'running');
CREATE TABLE IF NOT EXISTS individuals (step INTEGER NOT NULL, idx INTEGER NOT NULL, key TEXT NOT NULL,
  genome TEXT NOT NULL, recipe TEXT, parents TEXT, fitness REAL, failure TEXT, metrics TEXT, kinship TEXT,
  seconds REAL NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (step, idx));
CREATE TABLE IF NOT EXISTS states (step INTEGER PRIMARY KEY, state TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, type TEXT NOT NULL,
  payload TEXT NOT NULL);
`;

export class RunStore {
  readonly dir: string;
  readonly artifactsDir: string;
  private readonly db: Database.Database;

  private constructor(dir: string, db: Database.Database) {
    this.dir = dir;
    this.artifactsDir = join(dir, 'artifacts');
    this.db = db;
  }

  /** Creates a new run directory; fails if it already holds a run (use `open` to resume). */
  static create(dir: string, manifest: RunManifest): RunStore {
    const path = join(resolve(dir), 'run.sqlite');
    if (existsSync(path)) {
      throw new ModelevoError('CONFIG_INVALID', `run directory ${dir} already holds a run`, {
        hint: 'pass --resume to continue it, or choose another --run-dir',
      });
    }
    mkdirSync(join(dir, 'artifacts'), { recursive: true });
    const store = new RunStore(resolve(dir), RunStore.connect(path));
    store.db
      .prepare('INSERT INTO manifest (id, kind, created_at, seed, config, code_version) VALUES (?, ?, ?, ?, ?, ?)')
      .run(manifest.id, manifest.kind, manifest.createdAt, manifest.seed, JSON.stringify(manifest.config), manifest.codeVersion);
    store.event('run-created', { id: manifest.id, kind: manifest.kind });
    return store;
  }

  static open(dir: string): RunStore {
    const path = join(resolve(dir), 'run.sqlite');
    if (!existsSync(path)) {
      throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no run found in ${dir} (missing run.sqlite)`, {
        hint: 'check the --run-dir path; `modelevo runs list` shows known runs',
      });
    }
    return new RunStore(resolve(dir), RunStore.connect(path));
  }

  private static connect(path: string): Database.Database {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    return db;
  }

  manifest(): RunManifest & { status: string } {
    const row = this.db.prepare('SELECT * FROM manifest LIMIT 1').get() as
      | { id: string; kind: string; created_at: string; seed: number; config: string; code_version: string; status: string }
      | undefined;
    if (!row) throw new ModelevoError('CHECKPOINT_INVALID', `run database in ${this.dir} has no manifest`);
    return {
      id: row.id,
      kind: row.kind,
      createdAt: row.created_at,
      seed: row.seed,
      config: JSON.parse(row.config),
      codeVersion: row.code_version,
      status: row.status,
    };
  }

  setStatus(status: 'running' | 'finished' | 'failed'): void {
    this.db.prepare('UPDATE manifest SET status = ?').run(status);
  }

  recordIndividual(record: IndividualRecord): void {
    this.db
      .prepare(
        `INSERT INTO individuals (step, idx, key, genome, recipe, parents, fitness, failure, metrics, kinship, seconds, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.step,
        record.index,
        record.key,
        JSON.stringify(record.genome),
        record.recipe === undefined ? null : JSON.stringify(record.recipe),
        record.parents === undefined ? null : JSON.stringify(record.parents),
        Number.isFinite(record.fitness) ? record.fitness : null,
        record.failure ?? null,
        record.metrics === undefined ? null : JSON.stringify(record.metrics),
        record.kinship === undefined ? null : JSON.stringify(record.kinship),
        record.seconds,
        new Date().toISOString(),
      );
  }

  /** Evaluations already stored for one step, by candidate index. */
  individualsAt(step: number): Map<number, IndividualRecord> {
    const rows = this.db.prepare('SELECT * FROM individuals WHERE step = ? ORDER BY idx').all(step) as IndividualRow[];
    return new Map(rows.map((row) => [row.idx, fromRow(row)]));
  }

  individuals(): IndividualRecord[] {
    return (this.db.prepare('SELECT * FROM individuals ORDER BY step, idx').all() as IndividualRow[]).map(fromRow);
  }

  saveState<S>(step: number, state: S): void {
    this.db.prepare('INSERT OR REPLACE INTO states (step, state, created_at) VALUES (?, ?, ?)').run(step, JSON.stringify(state), new Date().toISOString());
  }

  latestState<S>(): StoredState<S> | undefined {
    const row = this.db.prepare('SELECT step, state FROM states ORDER BY step DESC LIMIT 1').get() as { step: number; state: string } | undefined;
    return row ? { step: row.step, state: JSON.parse(row.state) as S } : undefined;
  }

  event(type: string, payload: unknown): void {
    this.db.prepare('INSERT INTO events (time, type, payload) VALUES (?, ?, ?)').run(new Date().toISOString(), type, JSON.stringify(payload));
  }

  events(): { seq: number; time: string; type: string; payload: unknown }[] {
    return (this.db.prepare('SELECT * FROM events ORDER BY seq').all() as { seq: number; time: string; type: string; payload: string }[]).map((e) => ({
      ...e,
      payload: JSON.parse(e.payload),
    }));
  }

  /** Runs `work` in one transaction (all or nothing). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  close(): void {
    this.db.close();
  }
}

interface IndividualRow {
  step: number;
  idx: number;
  key: string;
  genome: string;
  recipe: string | null;
  parents: string | null;
  fitness: number | null;
  failure: string | null;
  metrics: string | null;
  kinship: string | null;
  seconds: number;
}

function fromRow(row: IndividualRow): IndividualRecord {
  return {
    step: row.step,
    index: row.idx,
    key: row.key,
    genome: JSON.parse(row.genome),
    ...(row.recipe === null ? {} : { recipe: JSON.parse(row.recipe) }),
    ...(row.parents === null ? {} : { parents: JSON.parse(row.parents) as string[] }),
    fitness: row.fitness ?? NaN,
    ...(row.failure === null ? {} : { failure: row.failure }),
    ...(row.metrics === null ? {} : { metrics: JSON.parse(row.metrics) as Record<string, number> }),
    ...(row.kinship === null ? {} : { kinship: JSON.parse(row.kinship) as Record<string, number> }),
    seconds: row.seconds,
  };
}
