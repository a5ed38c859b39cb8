/**
 * An anomaly channel's test series as the dashboard reads it: `<run>/<channel>/series/` holds index.json
 * (steps, feature names, levels with their alarm methods) and raw little-endian arrays — one Float32 file
 * per feature and per level's ensemble score, one Uint8 file for the labels and per level and threshold
 * method for the alarms. `anomaly evolve` writes it after scoring the test part (each file temp + rename);
 * the server reads it and sends min/max-per-bucket downsampled series, so a 500,000-step channel costs the
 * browser ~2 points per pixel column.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic-file.js';
import { ModelevoError } from '../core/errors.js';
import { minMaxDownsample, type Downsampled } from './downsample.js';

export const SERIES_FOLDER = 'series';

export interface ChannelLevelSeries {
  readonly level: string;
  readonly score: Float32Array | Float64Array;
  /** alarms (0/1 per step) by threshold method, as decided with the run's vote rule */
  readonly alarms: Record<string, Uint8Array>;
  /** a threshold on the ensemble score, by method, when one exists */
  readonly thresholds?: Record<string, number>;
}

export interface ChannelSeriesInput {
  readonly features: readonly (Float32Array | Float64Array)[];
  readonly featureNames: readonly string[];
  readonly labels?: Uint8Array;
  readonly levels: readonly ChannelLevelSeries[];
}

interface SeriesIndex {
  readonly steps: number;
  readonly featureNames: readonly string[];
  readonly hasLabels: boolean;
  readonly levels: readonly { level: string; methods: readonly string[]; thresholds: Record<string, number> }[];
}

const bytesOf = (array: Float32Array | Uint8Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

/** Writes the series of one channel into `<channelDir>/series/`. */
export function writeChannelSeries(channelDir: string, input: ChannelSeriesInput): void {
  const dir = join(channelDir, SERIES_FOLDER);
  mkdirSync(dir, { recursive: true });
  const steps = input.features[0]?.length ?? input.levels[0]?.score.length ?? 0;
  input.features.forEach((feature, i) => writeFileAtomic(join(dir, `feature-${i}.f32`), bytesOf(Float32Array.from(feature))));
  if (input.labels) writeFileAtomic(join(dir, 'labels.u8'), bytesOf(input.labels));
  for (const level of input.levels) {
    writeFileAtomic(join(dir, `score-${level.level}.f32`), bytesOf(Float32Array.from(level.score)));
    for (const [method, alarms] of Object.entries(level.alarms)) writeFileAtomic(join(dir, `alarms-${level.level}-${method}.u8`), bytesOf(alarms));
  }
  // the index last: a reader that finds it finds every file it names
  const index: SeriesIndex = {
    steps,
    featureNames: input.featureNames,
    hasLabels: input.labels !== undefined,
    levels: input.levels.map((l) => ({ level: l.level, methods: Object.keys(l.alarms), thresholds: l.thresholds ?? {} })),
  };
  writeJsonAtomic(join(dir, 'index.json'), index);
}

export function hasChannelSeries(channelDir: string): boolean {
  return existsSync(join(channelDir, SERIES_FOLDER, 'index.json'));
}

function readF32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Maximal runs of 1 as [start, end) step ranges. */
export function onRanges(flags: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let t = 0; t <= flags.length; t++) {
    const on = t < flags.length && flags[t] === 1;
    if (on && start < 0) start = t;
    if (!on && start >= 0) {
      out.push([start, t]);
      start = -1;
    }
  }
  return out;
}

export interface ChannelSeriesView {
  readonly steps: number;
  readonly featureNames: readonly string[];
  readonly selected: readonly number[];
  readonly buckets: number;
  readonly method: 'min/max per bucket';
  readonly features: readonly Downsampled[];
  readonly levels: readonly { level: string; score: Downsampled; thresholds: Record<string, number>; alarms: Record<string, [number, number][]> }[];
  readonly labelRanges: readonly [number, number][];
}

/** The channel's series downsampled to `buckets` (min and max of each), with the chosen features only. */
export function readChannelSeries(channelDir: string, buckets: number, selected?: readonly number[]): ChannelSeriesView {
  const dir = join(channelDir, SERIES_FOLDER);
  if (!hasChannelSeries(channelDir)) throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no test series stored for ${channelDir}`, { hint: 'runs of `anomaly evolve` with a test part store it; rerun with --resume to add it' });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as SeriesIndex;
  const chosen = (selected ?? index.featureNames.map((_, i) => i).slice(0, 3)).filter((i) => Number.isInteger(i) && i >= 0 && i < index.featureNames.length);
  return {
    steps: index.steps,
    featureNames: index.featureNames,
    selected: chosen,
    buckets,
    method: 'min/max per bucket',
    features: chosen.map((i) => minMaxDownsample(readF32(join(dir, `feature-${i}.f32`)), buckets)),
    levels: index.levels.map((l) => ({
      level: l.level,
      score: minMaxDownsample(readF32(join(dir, `score-${l.level}.f32`)), buckets),
      thresholds: l.thresholds,
      alarms: Object.fromEntries(l.methods.map((m) => [m, onRanges(new Uint8Array(readFileSync(join(dir, `alarms-${l.level}-${m}.u8`))))])),
    })),
    labelRanges: index.hasLabels ? onRanges(new Uint8Array(readFileSync(join(dir, 'labels.u8')))) : [],
  };
}
