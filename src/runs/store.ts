/**
 * Run store: one SQLite database per run directory (better-sqlite3, WAL, synchronous=FULL) plus an
 * artifacts folder. It keeps the run's configuration, every evaluated individual, the strategy state after
 * every `tell`, and an append-only event log. Writes are transactions, so a crash (even kill -9) loses at
 * most the evaluation in flight; nothing committed is ever repeated on resume.
 *
 * Hardening (issue #17): a store is created whole in a temporary file and linked into place, so concurrent
 * creations yield one run (the others are told it exists) and a full disk leaves no half-made store; the
 * process that runs the store holds a lock row (pid and host) that a second process is refused by, and that
 * is taken over only when its owner is gone; SQLite failures become typed errors (store-errors.ts).
 */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync, linkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ModelevoError } from '../core/errors.js';
import { RunLockedError, isProcessAlive, storeError } from './store-errors.js';

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
CREATE TABLE IF NOT EXISTS run_lock (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL,
  since TEXT NOT NULL);
`;

export const STORE_FILE = 'run.sqlite';

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

export class RunStore {
  readonly dir: string;
  readonly artifactsDir: string;
  private readonly db: Database.Database;
  private locked = false;

  private constructor(dir: string, db: Database.Database) {
    this.dir = dir;
    this.artifactsDir = join(dir, 'artifacts');
    this.db = db;
  }

  /** Whether `dir` holds a run store. */
  static existsIn(dir: string): boolean {
    return existsSync(join(resolve(dir), STORE_FILE));
  }

  /**
   * Creates a new run directory; fails if it already holds a run (use `open` to resume). The store is built
   * in a temporary file and hard-linked into place, which fails when another process got there first.
   */
  static create(dir: string, manifest: RunManifest): RunStore {
    const full = resolve(dir);
    const path = join(full, STORE_FILE);
    const exists = () =>
      new ModelevoError('CONFIG_INVALID', `run directory ${dir} already holds a run`, {
        hint: 'pass --resume to continue it, or choose another --run-dir',
      });
    if (existsSync(path)) throw exists();
    mkdirSync(join(full, 'artifacts'), { recursive: true });
    const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      guarded(temp, () => {
        const db = RunStore.connect(temp);
        try {
          db.prepare('INSERT INTO manifest (id, kind, created_at, seed, config, code_version) VALUES (?, ?, ?, ?, ?, ?)')
            .run(manifest.id, manifest.kind, manifest.createdAt, manifest.seed, JSON.stringify(manifest.config), manifest.codeVersion);
          db.prepare('INSERT INTO events (time, type, payload) VALUES (?, ?, ?)').run(new Date().toISOString(), 'run-created', JSON.stringify({ id: manifest.id, kind: manifest.kind }));
        } finally {
          db.close(); // checkpoints the WAL into the file, so the link below carries everything
        }
      });
      try {
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw exists();
        throw storeError(path, error);
      }
    } finally {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${temp}${suffix}`, { force: true });
    }
    return RunStore.open(full);
  }

  static open(dir: string): RunStore {
    const path = join(resolve(dir), STORE_FILE);
    if (!existsSync(path)) {
      throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no run found in ${dir} (missing ${STORE_FILE})`, {
        hint: 'check the --run-dir path; `modelevo runs list` shows known runs',
      });
    }
    const db = guarded(path, () => RunStore.connect(path));
    return new RunStore(resolve(dir), db);
  }

  private static connect(path: string): Database.Database {
    const db = new Database(path, { timeout: 10_000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  }

  /** Runs `work` against the database, turning SQLite failures into typed errors. */
  private guard<T>(work: () => T): T {
    return guarded(join(this.dir, STORE_FILE), work);
  }

  /**
   * Takes the run's lock for this process: refused with RunLockedError while another live process holds it;
   * a lock whose owner is gone (same host, no such pid) is taken over and the takeover logged.
   */
  acquireLock(): void {
    const me = { pid: process.pid, host: hostname() };
    this.guard(() =>
      this.db
        .transaction(() => {
          const owner = this.db.prepare('SELECT pid, host, since FROM run_lock WHERE id = 1').get() as LockOwner | undefined;
          if (owner && !(owner.pid === me.pid && owner.host === me.host)) {
            if (owner.host !== me.host || isProcessAlive(owner.pid)) throw new RunLockedError(this.dir, owner, me.host);
            this.db.prepare('INSERT INTO events (time, type, payload) VALUES (?, ?, ?)').run(new Date().toISOString(), 'stale-lock-taken-over', JSON.stringify(owner));
          }
          this.db.prepare('INSERT OR REPLACE INTO run_lock (id, pid, host, since) VALUES (1, ?, ?, ?)').run(me.pid, me.host, new Date().toISOString());
        })
        .immediate(),
    );
    this.locked = true;
  }

  /** The process holding the run's lock, if any. */
  lockOwner(): LockOwner | undefined {
    return this.guard(() => this.db.prepare('SELECT pid, host, since FROM run_lock WHERE id = 1').get() as LockOwner | undefined);
  }

  private releaseLock(): void {
    if (!this.locked) return;
    this.locked = false;
    this.db.prepare('DELETE FROM run_lock WHERE pid = ? AND host = ?').run(process.pid, hostname());
  }

  /** Moves committed pages from the WAL into the database file (a lost WAL file then loses nothing). */
  checkpoint(): void {
    this.guard(() => this.db.pragma('wal_checkpoint(TRUNCATE)'));
  }

  manifest(): RunManifest & { status: string } {
    return this.guard(() => this.readManifest());
  }

  private readManifest(): RunManifest & { status: string } {
    const row = this.db.prepare('SELECT * FROM manifest LIMIT 1').get() as
      | { id: string; kind: string; created_at: string; seed: number; config: string; code_version: string; status: string }
      | undefined;
    if (!row) {
      throw new ModelevoError('CHECKPOINT_INVALID', `run database in ${this.dir} has no manifest`, {
        hint: 'the run store is damaged: restore it or start a new run; `runs list` skips it with a warning',
      });
    }
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
    this.guard(() => this.db.prepare('UPDATE manifest SET status = ?').run(status));
  }

  recordIndividual(record: IndividualRecord): void {
    this.guard(() => this.db
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
      ));
  }

  /** Evaluations already stored for one step, by candidate index. */
  individualsAt(step: number): Map<number, IndividualRecord> {
    const rows = this.guard(() => this.db.prepare('SELECT * FROM individuals WHERE step = ? ORDER BY idx').all(step) as IndividualRow[]);
    return new Map(rows.map((row) => [row.idx, fromRow(row)]));
  }

  individuals(): IndividualRecord[] {
    return this.guard(() => (this.db.prepare('SELECT * FROM individuals ORDER BY step, idx').all() as IndividualRow[]).map(fromRow));
  }

  saveState<S>(step: number, state: S): void {
    this.guard(() => this.db.prepare('INSERT OR REPLACE INTO states (step, state, created_at) VALUES (?, ?, ?)').run(step, JSON.stringify(state), new Date().toISOString()));
  }

  latestState<S>(): StoredState<S> | undefined {
    const row = this.guard(() => this.db.prepare('SELECT step, state FROM states ORDER BY step DESC LIMIT 1').get() as { step: number; state: string } | undefined);
    return row ? { step: row.step, state: JSON.parse(row.state) as S } : undefined;
  }

  event(type: string, payload: unknown): void {
    this.guard(() => this.db.prepare('INSERT INTO events (time, type, payload) VALUES (?, ?, ?)').run(new Date().toISOString(), type, JSON.stringify(payload)));
  }

  events(): { seq: number; time: string; type: string; payload: unknown }[] {
    return this.guard(() =>
      (this.db.prepare('SELECT * FROM events ORDER BY seq').all() as { seq: number; time: string; type: string; payload: string }[]).map((e) => ({
        ...e,
        payload: JSON.parse(e.payload),
      })),
    );
  }

  /** Runs `work` in one transaction (all or nothing). */
  transaction<T>(work: () => T): T {
    return this.guard(() => this.db.transaction(work)());
  }

  /** Releases this process's lock (if held) and closes the database; safe to call more than once. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.releaseLock();
    } finally {
      this.db.close();
    }
  }
}

function guarded<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw storeError(path, error);
  }
}

/** An `individuals` row as SQLite returns it (also read by the dashboard's read-only store reader). */
export interface IndividualRow {
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
