/**
 * Traffic sensor networks from CSV (spatiotemporal.md §4, the T-GCN `los_speed.csv` / `los_adj.csv` layout):
 * a series file with a header row of sensor ids and one row per time step (zeros are missing values), and an
 * N×N weighted adjacency without header. Users' own networks use the same two files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelevoError } from '../../core/errors.js';

/** Windows of 12 inputs + 12 targets need at least this many steps. */
export const MIN_SERIES_STEPS = 24;

export interface TrafficNetwork {
  readonly sensorIds: readonly string[];
  /** number of time steps */
  readonly steps: number;
  /** values [steps × sensors], row-major; 0 marks a missing value */
  readonly values: Float64Array;
  /** weighted adjacency [sensors × sensors], row-major */
  readonly adjacency: Float64Array;
  readonly source: string;
}

const SERIES_NAMES = ['los_speed.csv', 'speed.csv', 'series.csv'];
const ADJACENCY_NAMES = ['los_adj.csv', 'adj.csv', 'adjacency.csv'];

function dataError(message: string, hint: string, details: Record<string, unknown>): ModelevoError {
  return new ModelevoError('VALUE_INVALID', message, { hint, details });
}

function parseCell(cell: string, file: string, row: number, column: number): number {
  const trimmed = cell.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) {
    throw dataError(
      `${file}: expected a finite number at row ${row + 1}, column ${column + 1}, found '${trimmed}'`,
      'write missing readings as 0 (the null value); NaN, Infinity and empty cells are not accepted',
      { file, row: row + 1, column: column + 1, cell: trimmed },
    );
  }
  return value;
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** Parses a series CSV: header of sensor ids, then one row of readings per step. */
export function parseSeriesCsv(text: string, file = '<series>'): { sensorIds: string[]; steps: number; values: Float64Array } {
  const lines = splitLines(text);
  const header = lines[0];
  if (header === undefined) throw dataError(`${file}: expected a header row of sensor ids, found an empty file`, 'pass the series CSV (header + one row per step)', { file });
  const sensorIds = header.split(',').map((id) => id.trim());
  const steps = lines.length - 1;
  if (steps < MIN_SERIES_STEPS) {
    throw dataError(
      `${file}: expected at least ${MIN_SERIES_STEPS} time steps (12 inputs + 12 targets), found ${steps}`,
      'supply a longer series; one window needs 24 consecutive steps',
      { file, steps, minimum: MIN_SERIES_STEPS },
    );
  }
  const width = sensorIds.length;
  const values = new Float64Array(steps * width);
  for (let t = 0; t < steps; t++) {
    const cells = (lines[t + 1] ?? '').split(',');
    if (cells.length !== width) {
      throw dataError(`${file}: row ${t + 2} has ${cells.length} values, expected ${width} (one per sensor in the header)`, 'every row needs one reading per sensor', { file, row: t + 2, found: cells.length, expected: width });
    }
    for (let n = 0; n < width; n++) values[t * width + n] = parseCell(cells[n] ?? '', file, t + 1, n);
  }
  return { sensorIds, steps, values };
}

/** Parses an N×N adjacency CSV (no header); weights must be finite and non-negative. */
export function parseAdjacencyCsv(text: string, sensors: number, file = '<adjacency>'): Float64Array {
  const lines = splitLines(text);
  const columns = lines[0]?.split(',').length ?? 0;
  if (lines.length !== sensors || columns !== sensors) {
    throw new ModelevoError('SHAPE_MISMATCH', `${file}: expected a ${sensors}×${sensors} adjacency (one row and column per sensor), found ${lines.length}×${columns}`, {
      hint: 'the adjacency must list the sensors in the order of the series header, without a header row',
      details: { file, expected: [sensors, sensors], found: [lines.length, columns] },
    });
  }
  const adjacency = new Float64Array(sensors * sensors);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== sensors) {
      throw new ModelevoError('SHAPE_MISMATCH', `${file}: row ${i + 1} has ${cells.length} weights, expected ${sensors}`, { hint: 'every adjacency row needs one weight per sensor', details: { file, row: i + 1 } });
    }
    cells.forEach((cell, j) => {
      const weight = parseCell(cell, file, i, j);
      if (weight < 0) throw dataError(`${file}: adjacency weight at row ${i + 1}, column ${j + 1} is ${weight}, expected ≥ 0`, 'edge weights must be non-negative', { file, row: i + 1, column: j + 1 });
      adjacency[i * sensors + j] = weight;
    });
  });
  return adjacency;
}

function findFile(dir: string, names: readonly string[], what: string): string {
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new ModelevoError('IO_FAILED', `no ${what} file in ${dir}: expected one of ${names.join(', ')}`, {
    hint: 'a traffic data folder holds the series CSV (header of sensor ids) and the N×N adjacency CSV',
    details: { dir, expected: names },
  });
}

/**
 * Checks a network built in code (synthetic generators, domain splits) as strictly as the CSV parsers check
 * files: at least 24 steps, values.length = steps × sensors, an N×N adjacency, finite readings and finite,
 * non-negative weights. Errors name `network.source`.
 */
export function validateTrafficNetwork(network: TrafficNetwork): void {
  const { source, steps } = network;
  const sensors = network.sensorIds.length;
  if (steps < MIN_SERIES_STEPS) {
    throw dataError(`${source}: expected at least ${MIN_SERIES_STEPS} time steps (12 inputs + 12 targets), found ${steps}`, 'supply a longer series; one window needs 24 consecutive steps', { source, steps, minimum: MIN_SERIES_STEPS });
  }
  if (network.values.length !== steps * sensors) {
    throw new ModelevoError('SHAPE_MISMATCH', `${source}: expected ${steps} × ${sensors} = ${steps * sensors} readings, found ${network.values.length}`, {
      hint: 'values are [steps × sensors], row-major',
      details: { source, expected: steps * sensors, found: network.values.length },
    });
  }
  if (network.adjacency.length !== sensors * sensors) {
    throw new ModelevoError('SHAPE_MISMATCH', `${source}: expected a ${sensors}×${sensors} adjacency (one row and column per sensor), found ${network.adjacency.length} weights`, {
      hint: 'the adjacency is [sensors × sensors], row-major, in the order of sensorIds',
      details: { source, expected: [sensors, sensors], found: network.adjacency.length },
    });
  }
  const badValue = network.values.findIndex((v) => !Number.isFinite(v));
  if (badValue >= 0) {
    throw dataError(
      `${source}: expected finite readings, found ${network.values[badValue]} at step ${Math.floor(badValue / sensors)}, sensor '${network.sensorIds[badValue % sensors]}'`,
      'write missing readings as 0 (the null value)',
      { source, step: Math.floor(badValue / sensors), sensor: network.sensorIds[badValue % sensors] },
    );
  }
  const badWeight = network.adjacency.findIndex((w) => !Number.isFinite(w) || w < 0);
  if (badWeight >= 0) {
    throw dataError(
      `${source}: expected finite non-negative adjacency weights, found ${network.adjacency[badWeight]} at row ${Math.floor(badWeight / sensors) + 1}, column ${(badWeight % sensors) + 1}`,
      'edge weights must be finite and ≥ 0 (0 = no edge)',
      { source, row: Math.floor(badWeight / sensors) + 1, column: (badWeight % sensors) + 1 },
    );
  }
}

/** Loads a folder holding `los_speed.csv`/`speed.csv`/`series.csv` and `los_adj.csv`/`adj.csv`/`adjacency.csv`. */
export function loadTrafficNetwork(dir: string): TrafficNetwork {
  const seriesPath = findFile(dir, SERIES_NAMES, 'series');
  const adjacencyPath = findFile(dir, ADJACENCY_NAMES, 'adjacency');
  const series = parseSeriesCsv(readFileSync(seriesPath, 'utf8'), seriesPath);
  const adjacency = parseAdjacencyCsv(readFileSync(adjacencyPath, 'utf8'), series.sensorIds.length, adjacencyPath);
  return { ...series, adjacency, source: dir };
}
