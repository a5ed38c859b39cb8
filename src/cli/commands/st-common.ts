/**
 * What the `st` verbs (train, synevo, coms2t) share: the Graph WaveNet width options (each verb with its own
 * defaults), the seed, training threads, backend and JSON-output options, and the lines they print alike.
 */
import { z } from 'zod';
import { flag } from '../schema-options.js';
import type { GraphWaveNetConfig } from '../../spatiotemporal/gwn-config.js';
import type { GwnWorkers } from '../../spatiotemporal/gwn-engine-session.js';

export const positiveInt = z.coerce.number().int().positive();

export const seedField = z.coerce.number().int().min(0).default(0);

/** Default widths of a verb: the paper's for `train` and `coms2t`, a small one for `synevo`. */
export interface GwnWidthDefaults {
  readonly residual: number;
  readonly skip: number;
  readonly end: number;
}

export function gwnWidthFields(defaults: GwnWidthDefaults) {
  return {
    residualChannels: flag(positiveInt.default(defaults.residual), 'residual and dilation channels', '<n>'),
    skipChannels: flag(positiveInt.default(defaults.skip), 'skip channels', '<n>'),
    endChannels: flag(positiveInt.default(defaults.end), 'output-head hidden channels', '<n>'),
  };
}

/** The backbone widths from the flags; one flag sets both residual and dilation channels. */
export function gwnWidthOf(o: { residualChannels: number; skipChannels: number; endChannels: number }): Pick<GraphWaveNetConfig, 'residualChannels' | 'dilationChannels' | 'skipChannels' | 'endChannels'> {
  return { residualChannels: o.residualChannels, dilationChannels: o.residualChannels, skipChannels: o.skipChannels, endChannels: o.endChannels };
}

/** Graph WaveNet training threads: 2 = data-parallel over two workers (gwn-engine-session.ts) */
export const workersFields = {
  workers: flag(z.enum(['auto', '1', '2']).default('auto'), 'training threads: 1, 2 (data-parallel) or auto (2 on ≥ 2 cores when a batch holds ≥ 512 node-windows)', '<n>'),
};

export function workersOf(o: { workers: 'auto' | '1' | '2' }): GwnWorkers {
  return o.workers === 'auto' ? 'auto' : o.workers === '1' ? 1 : 2;
}

export const jsonFields = {
  json: flag(z.boolean().default(false), 'print JSON instead of a table'),
};

/** One training epoch as a progress line (optionally prefixed with the stage it belongs to). */
export function epochLine(record: { epoch: number; trainLoss: number; valMae: number; seconds: number }, stage?: string): string {
  return `${stage ? `${stage} ` : ''}epoch ${record.epoch}: train masked MAE ${record.trainLoss.toFixed(3)}, val MAE ${record.valMae.toFixed(3)} (${record.seconds.toFixed(1)} s)`;
}

/** MAE | RMSE | MAPE % table cells of one set of masked metrics. */
export function metricCells(m: { mae: number; rmse: number; mape: number }): string {
  return `${m.mae.toFixed(3)} | ${m.rmse.toFixed(3)} | ${(100 * m.mape).toFixed(2)}`;
}

/** The closing line of a table printout when the run was stored. */
export function storedRunNote(runDir: string, artifacts: string): string {
  return `\nrun stored in ${runDir} (${artifacts}; \`modelevo runs show ${runDir}\`)\n`;
}
