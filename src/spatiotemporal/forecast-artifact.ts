/**
 * The test-split forecasts of a stored `st train` run, kept so the dashboard can draw forecast against truth
 * for a chosen sensor: `artifacts/forecast/` holds index.json and, per stored horizon H, `truth-hH.f32` and
 * `forecast-hH.f32` — raw little-endian Float32, laid out sensor by sensor (all test samples of sensor 0,
 * then sensor 1, …) so one sensor is one contiguous read. Only a few horizons are kept: every horizon of
 * every sample would be 12× the size. Each file is written temp + rename, index.json last, so a reader that
 * finds the index finds its arrays.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic-file.js';
import { ModelevoError } from '../core/errors.js';

export const FORECAST_FOLDER = 'forecast';
/** the horizons kept (steps ahead): the short and the longest reported one */
export const FORECAST_HORIZONS = [3, 12] as const;

export interface ForecastIndex {
  readonly method: string;
  readonly samples: number;
  readonly sensorIds: readonly string[];
  readonly horizons: readonly number[];
}

export interface ForecastArtifactInput {
  readonly method: string;
  /** [sample][horizon][sensor], as the forecasters and forecastTargets lay it out */
  readonly predicted: ArrayLike<number>;
  readonly truth: ArrayLike<number>;
  readonly layout: { readonly samples: number; readonly horizons: number; readonly nodes: number };
  readonly sensorIds: readonly string[];
}

/** [sample][horizon][sensor] at one horizon → [sensor][sample] Float32 */
function bySensor(source: ArrayLike<number>, layout: ForecastArtifactInput['layout'], horizon: number): Float32Array {
  const { samples, horizons, nodes } = layout;
  const out = new Float32Array(samples * nodes);
  for (let s = 0; s < samples; s++) {
    const base = (s * horizons + horizon - 1) * nodes;
    for (let n = 0; n < nodes; n++) out[n * samples + s] = source[base + n]!;
  }
  return out;
}

export function writeForecastArtifact(dir: string, input: ForecastArtifactInput): void {
  const { layout } = input;
  const expected = layout.samples * layout.horizons * layout.nodes;
  if (input.predicted.length !== expected || input.truth.length !== expected || input.sensorIds.length !== layout.nodes) {
    throw new ModelevoError('SHAPE_MISMATCH', `forecast artifact: expected ${expected} values for ${layout.samples} samples × ${layout.horizons} horizons × ${layout.nodes} sensors, got ${input.predicted.length} predicted and ${input.truth.length} true values for ${input.sensorIds.length} sensor ids`, {
      hint: 'this is a bug in the caller: pass the forecast and targets of the same test split',
    });
  }
  mkdirSync(dir, { recursive: true });
  const horizons = FORECAST_HORIZONS.filter((h) => h <= layout.horizons);
  for (const h of horizons) {
    for (const [name, source] of [['truth', input.truth], ['forecast', input.predicted]] as const) {
      const values = bySensor(source, layout, h);
      writeFileAtomic(join(dir, `${name}-h${h}.f32`), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    }
  }
  writeJsonAtomic(join(dir, 'index.json'), { method: input.method, samples: layout.samples, sensorIds: [...input.sensorIds], horizons } satisfies ForecastIndex);
}

export function readForecastIndex(dir: string): ForecastIndex | undefined {
  const path = join(dir, 'index.json');
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ForecastIndex;
}

function readSensor(path: string, sensor: number, samples: number): Float32Array {
  const out = new Float32Array(samples);
  const bytes = new Uint8Array(out.buffer);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, sensor * samples * 4 + done);
      if (n === 0) throw new ModelevoError('CHECKPOINT_INVALID', `${path} ends early: sensor ${sensor} needs bytes up to ${(sensor + 1) * samples * 4}`, { hint: 'the forecast artifact is damaged; train the run again' });
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Truth and forecast of one sensor at one stored horizon, over the test samples. */
export function readForecastSensor(dir: string, sensor: number, horizon: number): { index: ForecastIndex; truth: Float32Array; forecast: Float32Array } {
  const index = readForecastIndex(dir);
  if (!index) throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no forecasts stored in ${dir}`, { hint: 'runs of `st train --run-dir` store them' });
  if (!Number.isInteger(sensor) || sensor < 0 || sensor >= index.sensorIds.length || !index.horizons.includes(horizon)) {
    throw new ModelevoError('VALUE_INVALID', `forecast: sensor ${sensor} of ${index.sensorIds.length} at horizon ${horizon} is not stored (horizons ${index.horizons.join(', ')})`, {
      hint: 'pick a sensor index and one of the stored horizons',
      details: { expected: { sensors: index.sensorIds.length, horizons: index.horizons }, actual: { sensor, horizon } },
    });
  }
  return { index, truth: readSensor(join(dir, `truth-h${horizon}.f32`), sensor, index.samples), forecast: readSensor(join(dir, `forecast-h${horizon}.f32`), sensor, index.samples) };
}
