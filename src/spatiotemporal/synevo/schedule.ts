/**
 * SynEVO elastic common container schedule (synevo.md §2.2, Lemma 4.1, Eq. 10–11): the dropout (release)
 * probability and the weight decay of a group fall with its gradient distance to the bench,
 *   p_c = p_0·(1 − e^{l(d_c) − d_max}),   λ_c = λ_0·(1 − e^{l(d_c) − d_max}),
 * so the hardest group (l = d_max) trains with p = λ = 0 and the bench (l = 0) with p_0(1 − e^{−d_max}).
 * A group arriving later with l > d_max (a held-out domain) is clamped to 0 rather than going negative.
 * The static ablation uses constant p = 0.1, λ = 0.001 (§4).
 */
export interface ElasticParams {
  /** p_0 ∈ (0, 1] */
  readonly p0: number;
  /** λ_0 ∈ (0, 1) */
  readonly lambda0: number;
}

export interface GroupRegularisation {
  /** DropConnect (or activation-dropout) probability */
  readonly dropout: number;
  readonly weightDecay: number;
}

/** Paper's best on NYC and SIP (synevo.md §4). */
export const DEFAULT_ELASTIC: ElasticParams = { p0: 0.5, lambda0: 0.05 };
export const STATIC_REGULARISATION: GroupRegularisation = { dropout: 0.1, weightDecay: 0.001 };

/** 1 − e^{l − d_max}, clamped to [0, 1). */
export function releaseFactor(distance: number, maxDistance: number): number {
  return Math.max(0, 1 - Math.exp(distance - maxDistance));
}

/** Eq. (10) and (11). */
export function elasticRegularisation(distance: number, maxDistance: number, params: ElasticParams = DEFAULT_ELASTIC): GroupRegularisation {
  const factor = releaseFactor(distance, maxDistance);
  return { dropout: params.p0 * factor, weightDecay: params.lambda0 * factor };
}
