/**
 * The demo's kinship table and what it means. PCC compares the *directions* of task vectors (deltas from
 * the base). For a fine-tune the delta is small (a few percent of the base); the stranger is not a
 * fine-tune, so its "delta" is a whole other network minus the base and is dominated by −W_base. Its PCC
 * with an expert then measures how far that expert moved along −W_base (shrinking or growing the base's
 * large weights), not shared ancestry — which is why it can correlate with an expert at all.
 */

export interface KinshipView {
  readonly labels: string[];
  readonly pcc: number[][];
  /** ‖W − W_base‖ / ‖W_base‖ per model */
  readonly relativeNorm: number[];
}

export function kinshipLines(view: KinshipView): string[] {
  const width = Math.max(18, ...view.labels.map((l) => l.length + 2));
  const lines = [`${'PCC'.padEnd(width)}${view.labels.map((l) => l.padStart(width)).join('')}${'‖Δ‖/‖W_base‖'.padStart(16)}`];
  view.labels.forEach((label, i) => {
    lines.push(`${label.padEnd(width)}${view.pcc[i]!.map((v) => v.toFixed(3).padStart(width)).join('')}${view.relativeNorm[i]!.toFixed(3).padStart(16)}`);
  });
  const experts = view.labels.map((l, i) => ({ l, i })).filter(({ l }) => l !== 'stranger');
  const stranger = view.labels.indexOf('stranger');
  const largestExpert = Math.max(...experts.map(({ i }) => view.relativeNorm[i]!));
  const pairs = experts.flatMap((a, x) => experts.slice(x + 1).map((b) => view.pcc[a.i]![b.i]!));
  lines.push(
    `How to read it: the experts' deltas are small (‖Δ‖ ≤ ${largestExpert.toFixed(3)} of ‖W_base‖), so their PCCs compare fine-tuning directions;`,
    `between experts they are ${Math.min(...pairs).toFixed(3)}–${Math.max(...pairs).toFixed(3)}: ${Math.max(...pairs.map(Math.abs)) < 0.2 ? 'nearly orthogonal task vectors (different texts), which is why adding them (task arithmetic) helps without much interference' : 'the fine-tunes moved in related directions'}.`,
  );
  if (stranger >= 0) {
    const strongest = experts.reduce((a, b) => (Math.abs(view.pcc[stranger]![b.i]!) > Math.abs(view.pcc[stranger]![a.i]!) ? b : a));
    lines.push(
      `The stranger is not a fine-tune (‖Δ‖ = ${view.relativeNorm[stranger]!.toFixed(3)} of ‖W_base‖): its "delta" is another network minus the base, dominated by −W_base,`,
      `so its PCC with an expert (up to ${view.pcc[stranger]![strongest.i]!.toFixed(3)}, with ${strongest.l}) only says how far that expert moved along ±W_base — not kinship, and no reason to merge it.`,
    );
  }
  return lines;
}
