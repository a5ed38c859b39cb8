/**
 * NASA SMAP/MSL telemetry (Hundman et al., KDD 2018; the TranAD copy `data/SMAP_MSL`; ad-nev.md §2).
 * Per channel `train/<id>.npy`, `test/<id>.npy` [T, F] and one row of `labeled_anomalies.csv` with
 * `[[start, end], ...]` ranges into the test series. The bundle is unpacked with the system `tar` into a
 * gitignored cache (`.cache/smap-msl` in the repo, else the OS temp dir) on first use.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ModelevoError } from '../../core/errors.js';
import { readNpy } from './npy.js';
import type { Series } from './series.js';

export type Spacecraft = 'SMAP' | 'MSL';
/** how the `end` of a labelled range is read (§2: inclusive is the data description's convention) */
export type IntervalConvention = 'inclusive' | 'exclusive';

export interface LabelRow {
  readonly channel: string;
  readonly spacecraft: Spacecraft;
  readonly ranges: readonly (readonly [number, number])[];
  readonly numValues: number;
}

export interface Channel {
  readonly id: string;
  readonly spacecraft: Spacecraft;
  readonly train: Series;
  readonly test: Series;
  /** 0/1 per test step */
  readonly labels: Uint8Array;
  readonly ranges: readonly (readonly [number, number])[];
}

function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * The folder holding `labeled_anomalies.csv`, `train/`, `test/`. `dataDir` may be that folder, its parent
 * (with `SMAP_MSL/`), a folder with `smap-msl.tar.gz`, or the tarball itself; by default `../shared/data`
 * beside the repo. Tarballs are unpacked once into the cache.
 */
export function resolveSmapMslRoot(dataDir?: string): string {
  const root = repoRoot();
  const candidate = dataDir ?? (root ? join(root, '..', 'shared', 'data') : undefined);
  if (!candidate || !existsSync(candidate)) {
    throw new ModelevoError('CHECKPOINT_NOT_FOUND', `SMAP/MSL data not found at ${candidate ?? '<no default>'}`, {
      hint: 'pass --data-dir with the folder or the smap-msl.tar.gz bundle (see /work/shared/data/README.md)',
    });
  }
  const direct = [candidate, join(candidate, 'SMAP_MSL')].find((d) => existsSync(join(d, 'labeled_anomalies.csv')));
  if (direct) return resolve(direct);
  const tarball = statSync(candidate).isFile() ? candidate : join(candidate, 'smap-msl.tar.gz');
  if (!existsSync(tarball)) {
    throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no labeled_anomalies.csv or smap-msl.tar.gz in ${candidate}`, {
      hint: 'pass --data-dir pointing at the unpacked SMAP_MSL folder or the tarball',
    });
  }
  const cache = root ? join(root, '.cache', 'smap-msl') : join(tmpdir(), 'modelevo-cache', 'smap-msl');
  const unpacked = join(cache, 'SMAP_MSL');
  if (!existsSync(join(unpacked, 'labeled_anomalies.csv'))) {
    const staging = `${cache}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const result = spawnSync('tar', ['-xzf', tarball, '-C', staging], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new ModelevoError('IO_FAILED', `tar failed to unpack ${tarball}: ${result.stderr || result.error?.message}`, { hint: 'check that `tar` and gzip are installed' });
    }
    mkdirSync(cache, { recursive: true });
    rmSync(unpacked, { recursive: true, force: true });
    renameSync(join(staging, 'SMAP_MSL'), unpacked);
    rmSync(staging, { recursive: true, force: true });
  }
  return unpacked;
}

/** Splits one CSV line on commas outside double quotes. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields;
}

/** Parses `labeled_anomalies.csv`; a channel listed twice (P-2) gets the union of its rows' ranges. */
export function parseLabelCsv(text: string, file = 'labeled_anomalies.csv'): Map<string, LabelRow> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new ModelevoError('VALUE_INVALID', `${file}: missing column '${name}' (header: ${header.join(', ')})`, { hint: 'use the labeled_anomalies.csv of the SMAP/MSL release' });
    return i;
  };
  const [cChan, cCraft, cSeq, cNum] = [col('chan_id'), col('spacecraft'), col('anomaly_sequences'), col('num_values')];
  const rows = new Map<string, LabelRow>();
  for (const [n, line] of lines.slice(1).entries()) {
    const fields = splitCsvLine(line);
    const channel = fields[cChan]!.trim();
    const spacecraft = fields[cCraft]?.trim();
    if (spacecraft !== 'SMAP' && spacecraft !== 'MSL') throw new ModelevoError('VALUE_INVALID', `${file} row ${n + 2}: spacecraft '${spacecraft}' is not SMAP or MSL`, { hint: 'use the labeled_anomalies.csv of the SMAP/MSL release' });
    let ranges: [number, number][];
    try {
      ranges = JSON.parse(fields[cSeq] ?? '') as [number, number][];
    } catch {
      throw new ModelevoError('VALUE_INVALID', `${file} row ${n + 2}: anomaly_sequences ${fields[cSeq]} is not a [[start, end], ...] list`, { hint: 'write ranges as JSON, e.g. "[[10, 20]]"' });
    }
    const row: LabelRow = { channel, spacecraft, ranges: [...ranges].sort((a, b) => a[0] - b[0]), numValues: Number(fields[cNum]) };
    const previous = rows.get(channel);
    // the release lists P-2 twice with overlapping, different ranges: both annotations count (union)
    if (previous) rows.set(channel, { ...previous, ranges: [...previous.ranges, ...row.ranges].sort((a, b) => a[0] - b[0]) });
    else rows.set(channel, row);
  }
  return rows;
}

/** 0/1 labels of length `rows` from ranges; a range outside the series is an error, not clipped. */
export function rangesToLabels(ranges: readonly (readonly [number, number])[], rows: number, convention: IntervalConvention, source: string): Uint8Array {
  const labels = new Uint8Array(rows);
  for (const [start, end] of ranges) {
    const last = convention === 'inclusive' ? end : end - 1;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || last < start || last >= rows) {
      throw new ModelevoError('VALUE_INVALID', `${source}: label range [${start}, ${end}] (${convention}) lies outside the series of ${rows} rows`, {
        hint: 'label ranges index test rows from 0; check the interval convention and the series length',
        details: { start, end, rows, convention },
      });
    }
    labels.fill(1, start, last + 1);
  }
  return labels;
}

function npySeries(path: string): Series {
  const array = readNpy(path);
  if (array.shape.length !== 2) throw new ModelevoError('VALUE_INVALID', `${path}: expected a 2-D [time, features] array, got shape [${array.shape.join(', ')}]`);
  const [rows, columns] = array.shape as [number, number];
  return { values: array.data, rows, columns, names: Array.from({ length: columns }, (_, i) => (i === 0 ? 'telemetry' : `command_${i}`)) };
}

export function listChannels(root: string, spacecraft: Spacecraft): string[] {
  const labels = parseLabelCsv(readFileSync(join(root, 'labeled_anomalies.csv'), 'utf8'));
  return [...labels.values()].filter((r) => r.spacecraft === spacecraft && existsSync(join(root, 'test', `${r.channel}.npy`))).map((r) => r.channel);
}

export function loadChannel(root: string, id: string, convention: IntervalConvention = 'inclusive'): Channel {
  const labels = parseLabelCsv(readFileSync(join(root, 'labeled_anomalies.csv'), 'utf8'));
  const row = labels.get(id);
  if (!row) throw new ModelevoError('UNKNOWN_NAME', `channel '${id}' has no row in ${join(root, 'labeled_anomalies.csv')}`, { hint: `known channels: ${[...labels.keys()].join(', ')}` });
  const train = npySeries(join(root, 'train', `${id}.npy`));
  const test = npySeries(join(root, 'test', `${id}.npy`));
  if (train.columns !== test.columns) throw new ModelevoError('SHAPE_MISMATCH', `channel ${id}: train has ${train.columns} columns, test ${test.columns}`);
  return { id, spacecraft: row.spacecraft, train, test, labels: rangesToLabels(row.ranges, test.rows, convention, `channel ${id}`), ranges: row.ranges };
}
