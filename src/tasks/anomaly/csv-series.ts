/**
 * Users' own series as CSV: a header row (names kept), numeric columns, an optional timestamp column
 * (named timestamp/time/date/datetime, or any first column whose values are not numbers) and an optional
 * 0/1 label column (`label`, `anomaly`, `is_anomaly`). Policy for missing or non-finite values (empty cell,
 * NaN, Inf): `reject` (default) fails naming the row and column; `ffill` copies the previous row's value and
 * still fails when the first data row has none. Nothing non-finite ever reaches a model.
 */
import { readFileSync } from 'node:fs';
import { ModelevoError } from '../../core/errors.js';
import { splitCsvLine } from './smap-msl.js';
import type { Series } from './series.js';

export type ImputePolicy = 'reject' | 'ffill';

export interface CsvSeries {
  readonly series: Series;
  readonly timestamps: readonly string[] | undefined;
  /** 0/1 per row when a label column exists */
  readonly labels: Uint8Array | undefined;
  /** how many cells were forward-filled */
  readonly imputed: number;
}

export interface CsvOptions {
  readonly impute?: ImputePolicy;
  /** a column name to use as timestamps; default: auto-detect */
  readonly timestampColumn?: string;
  readonly source?: string;
}

const TIMESTAMP_NAMES = new Set(['timestamp', 'time', 'date', 'datetime']);
const LABEL_NAMES = new Set(['label', 'anomaly', 'is_anomaly']);

function csvError(source: string, message: string, hint: string, details: Record<string, unknown> = {}): ModelevoError {
  return new ModelevoError('VALUE_INVALID', `${source}: ${message}`, { hint, details: { file: source, ...details } });
}

export function readCsvSeries(path: string, options: CsvOptions = {}): CsvSeries {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ModelevoError('CHECKPOINT_NOT_FOUND', `cannot read ${path}: ${(cause as Error).message}`, { hint: 'check the --dataset / --data path', cause });
  }
  return parseCsvSeries(text, { ...options, source: options.source ?? path });
}

export function parseCsvSeries(text: string, options: CsvOptions = {}): CsvSeries {
  const source = options.source ?? '<csv>';
  const impute = options.impute ?? 'reject';
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length < 2) throw csvError(source, `expected a header row and at least one data row, found ${lines.length} line(s)`, 'the first row must name the columns');
  const header = splitCsvLine(lines[0]!).map((h) => h.trim());
  const rows = lines.slice(1).map(splitCsvLine);
  rows.forEach((fields, i) => {
    if (fields.length !== header.length) {
      throw csvError(source, `row ${i + 2} has ${fields.length} fields, the header has ${header.length}`, 'every row needs one value per header column (ragged rows are not repaired)', { row: i + 2 });
    }
  });
  let timestampIndex: number | undefined;
  if (options.timestampColumn !== undefined) {
    timestampIndex = header.indexOf(options.timestampColumn);
    if (timestampIndex < 0) throw csvError(source, `timestamp column '${options.timestampColumn}' not in header (${header.join(', ')})`, 'name an existing column');
  } else {
    const named = header.findIndex((h) => TIMESTAMP_NAMES.has(h.toLowerCase()));
    if (named >= 0) timestampIndex = named;
    else if (rows.some((r) => r[0]!.trim() !== '' && !isNumberText(r[0]!))) timestampIndex = 0;
  }
  const labelIndex = header.findIndex((h, i) => i !== timestampIndex && LABEL_NAMES.has(h.toLowerCase()));
  const valueColumns = header.map((_, i) => i).filter((i) => i !== timestampIndex && i !== labelIndex);
  if (valueColumns.length === 0) throw csvError(source, 'no numeric value columns', 'the CSV needs at least one column besides timestamp and label');
  const columns = valueColumns.length;
  const values = new Float64Array(rows.length * columns);
  let imputed = 0;
  rows.forEach((fields, r) => {
    valueColumns.forEach((c, j) => {
      const cell = fields[c]!.trim();
      const value = cell === '' ? NaN : Number(cell);
      if (Number.isFinite(value)) {
        values[r * columns + j] = value;
        return;
      }
      const what = cell === '' ? 'an empty cell' : `'${cell}'`;
      if (impute === 'ffill' && r > 0) {
        values[r * columns + j] = values[(r - 1) * columns + j]!;
        imputed++;
        return;
      }
      const hint = impute === 'ffill' ? 'the first data row has no previous value to carry forward; fix or drop it' : 'fix the value, or pass --impute ffill to carry the previous value forward';
      throw csvError(source, `row ${r + 2}, column '${header[c]}': ${what} is not a finite number`, hint, { row: r + 2, column: header[c] });
    });
  });
  let labels: Uint8Array | undefined;
  if (labelIndex >= 0) {
    labels = new Uint8Array(rows.length);
    rows.forEach((fields, r) => {
      const cell = fields[labelIndex]!.trim();
      if (cell !== '0' && cell !== '1') throw csvError(source, `row ${r + 2}, label column '${header[labelIndex]}': expected 0 or 1, found '${cell}'`, 'labels must be 0 (normal) or 1 (anomaly)', { row: r + 2 });
      labels![r] = cell === '1' ? 1 : 0;
    });
  }
  return {
    series: { values, rows: rows.length, columns, names: valueColumns.map((c) => header[c]!) },
    timestamps: timestampIndex === undefined ? undefined : rows.map((r) => r[timestampIndex!]!.trim()),
    labels,
    imputed,
  };
}

function isNumberText(text: string): boolean {
  const t = text.trim().toLowerCase();
  return t === 'nan' || t === 'inf' || t === '-inf' || t === 'infinity' || t === '-infinity' || Number.isFinite(Number(t));
}
