/** Learning-rate schedules as pure functions of the 1-based step. Cosine: Loshchilov & Hutter, SGDR (arXiv:1608.03983), one cycle, no restarts. */

export type ScheduleSpec =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly every: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly totalSteps: number; readonly minLr?: number };

export function learningRate(schedule: ScheduleSpec, baseLr: number, step: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      // torch StepLR: lr·γ^⌊(step − 1)/every⌋ for 1-based steps
      return baseLr * schedule.gamma ** Math.floor((step - 1) / schedule.every);
    case 'cosine': {
      const min = schedule.minLr ?? 0;
      const progress = Math.min(1, (step - 1) / Math.max(1, schedule.totalSteps - 1));
      return min + 0.5 * (baseLr - min) * (1 + Math.cos(Math.PI * progress));
    }
  }
}
