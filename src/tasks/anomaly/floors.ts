/**
 * Trivial detectors that every reported F1 sits beside (issue #13 item 3): flagging every step, and random
 * alarms at a model's own alarm rate. A detector is only informative where it beats the random detector with
 * the same number of alarms; flagging everything shows what a metric gives for no information at all.
 */
import type { Rng } from '../../core/rng.js';

/** fraction of steps with an alarm */
export function alarmRate(predictions: ArrayLike<number>): number {
  if (predictions.length === 0) return 0;
  let alarms = 0;
  for (let i = 0; i < predictions.length; i++) alarms += predictions[i]! > 0 ? 1 : 0;
  return alarms / predictions.length;
}

export function flagEveryStep(length: number): Uint8Array {
  return new Uint8Array(length).fill(1);
}

/** exactly `alarms` alarms at uniformly random distinct steps (a partial Fisher–Yates shuffle) */
export function randomAlarms(length: number, alarms: number, rng: Rng): Uint8Array {
  const count = Math.max(0, Math.min(length, Math.round(alarms)));
  const order = Uint32Array.from({ length }, (_, i) => i);
  const out = new Uint8Array(length);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(length - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
    out[order[i]!] = 1;
  }
  return out;
}

/** random alarms with the same count as `predictions` (same alarm rate, positions independent of the data) */
export function randomAlarmsLike(predictions: ArrayLike<number>, rng: Rng): Uint8Array {
  let alarms = 0;
  for (let i = 0; i < predictions.length; i++) alarms += predictions[i]! > 0 ? 1 : 0;
  return randomAlarms(predictions.length, alarms, rng);
}
