/**
 * The kinship metrics by registry name (kinship.md §1). A literal map: the union of valid names is derived
 * from its keys, and adding a metric means one file in `metrics/` plus one line here.
 */
import { UnknownNameError } from '../core/errors.js';
import { eraseStats, type AnyKinshipMetric } from './metric.js';
import { absoluteCosine, cosine } from './metrics/cosine.js';
import { euclidean } from './metrics/euclidean.js';
import { pearson } from './metrics/pcc.js';

export const KINSHIP_METRICS = {
  pcc: eraseStats(pearson),
  cs: eraseStats(cosine),
  cs_abs: eraseStats(absoluteCosine),
  ed: eraseStats(euclidean),
} as const satisfies Record<string, AnyKinshipMetric>;

export type KinshipMetricName = keyof typeof KINSHIP_METRICS;

export const KINSHIP_METRIC_NAMES = Object.keys(KINSHIP_METRICS) as KinshipMetricName[];

/** what `--metric all` selects: the paper's three metrics (`cs_abs` only when named) */
export const DEFAULT_ALL_METRICS: readonly KinshipMetricName[] = ['pcc', 'cs', 'ed'];

export function isKinshipMetricName(name: string): name is KinshipMetricName {
  return Object.prototype.hasOwnProperty.call(KINSHIP_METRICS, name);
}

/** throws UnknownNameError listing the valid names and the closest match */
export function getKinshipMetric(name: string): AnyKinshipMetric {
  if (!isKinshipMetricName(name)) throw new UnknownNameError('kinship metric', name, KINSHIP_METRIC_NAMES);
  return KINSHIP_METRICS[name];
}
