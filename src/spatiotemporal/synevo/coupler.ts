/**
 * SynEVO adaptive dynamic coupler (synevo.md §2.4, Eq. 14–15): routes each group either into the elastic
 * common container (h = 1: continue θ_M with the group's p, λ) or to a separate model of its own (h = 0),
 * so that an unrelated group never touches the container's weights. The gate decides once per group, on its
 * first arrival; every decision and its D_min is kept in `decisions` for the run log.
 */
import { invariant } from '../../core/errors.js';
import type { GwnSession } from '../gwn-engine-session.js';
import { gateDecision, type GateDecision } from './gate.js';

export interface CouplerOptions {
  readonly kappa: number;
  /** false = the no-gate ablation: every group is admitted */
  readonly gated: boolean;
  /** builds a rejected group's separate model (random init or warm start from the container) */
  readonly createSeparate: (group: string) => Promise<GwnSession>;
}

export class AdaptiveCoupler {
  readonly decisions: (GateDecision & { readonly group: string })[] = [];
  private readonly domains = new Map<string, Float64Array>();
  private readonly admitted = new Map<string, boolean>();
  private readonly separate = new Map<string, GwnSession>();

  constructor(readonly container: GwnSession, private readonly options: CouplerOptions) {}

  /** Gate `group` with its mean representation (first arrival only); later calls return the first decision. */
  admit(group: string, representation?: Float64Array): boolean {
    const known = this.admitted.get(group);
    if (known !== undefined) return known;
    const decision: GateDecision = this.options.gated && representation ? gateDecision(representation, this.domains, this.options.kappa) : { admitted: true, minDistance: Number.NaN, nearest: '' };
    this.decisions.push({ group, ...decision });
    this.admitted.set(group, decision.admitted);
    if (decision.admitted && representation) this.domains.set(group, representation);
    return decision.admitted;
  }

  /** Gate a candidate without adding it to the container (held-out few-shot slice). */
  probe(group: string, representation?: Float64Array): GateDecision {
    const decision: GateDecision = this.options.gated && representation ? gateDecision(representation, this.domains, this.options.kappa) : { admitted: true, minDistance: Number.NaN, nearest: '' };
    this.decisions.push({ group, ...decision });
    return decision;
  }

  /** The session `group` trains: the container if admitted, else its own separate model. */
  async sessionFor(group: string): Promise<GwnSession> {
    const admitted = this.admitted.get(group);
    invariant(admitted !== undefined, () => `coupler: group '${group}' has not been gated (call admit first)`);
    if (admitted) return this.container;
    let session = this.separate.get(group);
    if (!session) {
      session = await this.options.createSeparate(group);
      this.separate.set(group, session);
    }
    return session;
  }

  /** Disposes the separate models (the container belongs to the caller). */
  async disposeSeparate(): Promise<void> {
    const sessions = [...this.separate.values()];
    this.separate.clear();
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}
