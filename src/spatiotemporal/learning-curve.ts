/**
 * Learning curves of Graph WaveNet runs (issue #14): the per-epoch train and validation masked MAE as a markdown
 * table for the results pages, one column per seed, and a plain reading of convergence (where the best
 * validation epoch lies and why training stopped). A best epoch at the last epoch means the curve was still
 * falling: the model is not converged at that budget.
 */
import type { EpochRecord, StopReason } from './gwn-trainer.js';

export interface LearningCurve {
  /** e.g. 'seed 0' */
  readonly label: string;
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly stopReason?: StopReason;
}

const f3 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));

/**
 * One row per epoch; per curve the cells "train / val" (train = inference-mode MAE on training windows when
 * measured, else the mean training loss, marked †), the best epoch in bold.
 */
export function learningCurveTable(curves: readonly LearningCurve[]): string {
  const epochs = [...new Set(curves.flatMap((c) => c.history.map((r) => r.epoch)))].sort((a, b) => a - b);
  const anyLoss = curves.some((c) => c.history.some((r) => r.trainMae === undefined));
  const head = `| epoch | ${curves.map((c) => `${c.label}: train / val MAE`).join(' | ')} |`;
  const rule = `|---|${curves.map(() => '---').join('|')}|`;
  const rows = epochs.map((epoch) => {
    const cells = curves.map((c) => {
      const r = c.history.find((h) => h.epoch === epoch);
      if (!r) return '';
      const train = r.trainMae === undefined ? `${f3(r.trainLoss)}†` : f3(r.trainMae);
      const cell = `${train} / ${f3(r.valMae)}`;
      return epoch === c.bestEpoch ? `**${cell}**` : cell;
    });
    return `| ${epoch} | ${cells.join(' | ')} |`;
  });
  const notes = ['Bold: the best validation epoch (the weights kept).', ...(anyLoss ? ['† mean training loss of the epoch (dropout on), not an inference-mode score.'] : [])];
  return [head, rule, ...rows, '', notes.join(' ')].join('\n');
}

/** "best epoch 7 of 12, stopped by patience" / "... best at the last epoch: still improving". */
export function convergenceNote(curve: LearningCurve): string {
  const ran = curve.history.length;
  const lastEpoch = curve.history.at(-1)?.epoch ?? 0;
  const why = curve.stopReason === 'patience' ? 'stopped by patience' : curve.stopReason === 'time' ? 'stopped by the time cap' : 'ran the epoch maximum';
  const still = curve.bestEpoch === lastEpoch && curve.stopReason !== 'patience' ? ' — best at the last epoch: still improving, not converged' : '';
  return `${curve.label}: best epoch ${curve.bestEpoch} of ${ran}, ${why}${still}`;
}
