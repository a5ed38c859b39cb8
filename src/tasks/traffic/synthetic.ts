/**
 * A synthetic multi-source traffic generator for cross-source experiments where real multi-source data is not
 * at hand (issue #7; synevo.md §3 "cross-source experiments need additional sources (synthetic …), labelled as
 * such"). Everything is seeded and documented here:
 *
 * Graph: N nodes uniform in the unit square; w_ij = exp(−d_ij² / σ²) for d_ij ≤ r (σ = r/2), 0 otherwise, and
 * w_ii = 1 (a random geometric graph with a Gaussian kernel, as METR-LA's distance adjacency). P = row-normalised W.
 *
 * Latent process per source (diffusion on the graph driven by a daily profile):
 *   s_{t+1} = ρ·[(1 − α)·s_t + α·P·s_t] + (1 − ρ)·g_t + σ_p·ε_t,      ρ = 0.8, σ_p = 0.02, ε ~ N(0, 1),
 *   g_t(n) = 1 − a_n·[bump(τ_t − 0.33) + bump(τ_t − 0.73)],  bump(x) = exp(−x² / (2·0.04²)) (τ = time of day,
 *   distance taken around the clock), a_n ~ U(0.2, 0.5) per node: two "rush hours" when speeds dip.
 * The node amplitudes a_n and ε are shared by all sources (one city); α, the diffusion rate, is per source.
 * Observation per source: x_t(n) = max(gain·s_{t+shift}(n) + offset + noise·η_t(n), 0.1), η ~ N(0, 1) from the
 * source's own stream; `shift` (steps) moves the series in time; the floor keeps every reading positive (a 0
 * would read as missing). `defaultSourceTransforms(k)` gives source i: gain 40·(1 + 0.25 i), offset 5 i,
 * shift 4 i steps, noise 0.5 + 0.5 i, α = min(0.2 + 0.2 i, 0.9).
 */
import { createRng } from '../../core/rng.js';
import type { TrafficNetwork } from './csv-loader.js';

export interface SourceTransform {
  readonly gain: number;
  readonly offset: number;
  /** time shift in steps (≥ 0) */
  readonly shift: number;
  /** observation noise std */
  readonly noise: number;
  /** diffusion rate α ∈ [0, 1] */
  readonly diffusion: number;
}

export interface SyntheticOptions {
  readonly nodes: number;
  readonly days: number;
  readonly stepsPerDay: number;
  /** neighbourhood radius r in the unit square */
  readonly radius: number;
  readonly seed: number | string;
  readonly sources: readonly SourceTransform[];
}

export interface SyntheticCity {
  readonly adjacency: Float64Array;
  readonly positions: Float64Array;
  readonly sources: readonly TrafficNetwork[];
  readonly stepsPerDay: number;
  readonly transforms: readonly SourceTransform[];
}

export function defaultSourceTransforms(count: number): SourceTransform[] {
  return Array.from({ length: count }, (_, i) => ({ gain: 40 * (1 + 0.25 * i), offset: 5 * i, shift: 4 * i, noise: 0.5 + 0.5 * i, diffusion: Math.min(0.2 + 0.2 * i, 0.9) }));
}

export const DEFAULT_SYNTHETIC: Omit<SyntheticOptions, 'sources'> = { nodes: 30, days: 7, stepsPerDay: 96, radius: 0.3, seed: 0 };

const RHO = 0.8;
const PROCESS_NOISE = 0.02;
const RUSH_WIDTH = 0.04;

function bump(x: number): number {
  const wrapped = x - Math.round(x); // distance around the clock
  return Math.exp(-(wrapped * wrapped) / (2 * RUSH_WIDTH * RUSH_WIDTH));
}

export function randomGeometricGraph(nodes: number, radius: number, seed: number | string): { adjacency: Float64Array; positions: Float64Array } {
  const rng = createRng('synthetic-graph', seed);
  const positions = Float64Array.from({ length: nodes * 2 }, () => rng.next());
  const sigma = radius / 2;
  const adjacency = new Float64Array(nodes * nodes);
  for (let i = 0; i < nodes; i++) {
    for (let j = 0; j < nodes; j++) {
      const d2 = (positions[2 * i]! - positions[2 * j]!) ** 2 + (positions[2 * i + 1]! - positions[2 * j + 1]!) ** 2;
      adjacency[i * nodes + j] = i === j ? 1 : d2 <= radius * radius ? Math.exp(-d2 / (sigma * sigma)) : 0;
    }
  }
  return { adjacency, positions };
}

/** The latent diffusion series s [steps × nodes] for one diffusion rate. */
function latentSeries(options: SyntheticOptions, adjacency: Float64Array, amplitudes: Float64Array, diffusion: number, steps: number): Float64Array {
  const n = options.nodes;
  const rowSums = Array.from({ length: n }, (_, i) => adjacency.subarray(i * n, (i + 1) * n).reduce((a, b) => a + b, 0));
  const noise = createRng('synthetic-process', options.seed);
  const out = new Float64Array(steps * n);
  let state = new Float64Array(n).fill(1);
  const mixed = new Float64Array(n);
  for (let t = 0; t < steps; t++) {
    out.set(state, t * n);
    const tod = (t % options.stepsPerDay) / options.stepsPerDay;
    const rush = bump(tod - 0.33) + bump(tod - 0.73);
    for (let i = 0; i < n; i++) {
      let diffused = 0;
      for (let j = 0; j < n; j++) diffused += adjacency[i * n + j]! * state[j]!;
      diffused /= rowSums[i]!;
      const drive = 1 - amplitudes[i]! * rush;
      mixed[i] = RHO * ((1 - diffusion) * state[i]! + diffusion * diffused) + (1 - RHO) * drive + PROCESS_NOISE * noise.normal();
    }
    state = Float64Array.from(mixed);
  }
  return out;
}

export function generateSyntheticCity(options: SyntheticOptions): SyntheticCity {
  const { nodes, days, stepsPerDay } = options;
  const steps = days * stepsPerDay;
  const { adjacency, positions } = randomGeometricGraph(nodes, options.radius, options.seed);
  const amplitudeRng = createRng('synthetic-amplitude', options.seed);
  const amplitudes = Float64Array.from({ length: nodes }, () => 0.2 + 0.3 * amplitudeRng.next());
  const maxShift = Math.max(0, ...options.sources.map((s) => s.shift));
  const sensorIds = Array.from({ length: nodes }, (_, i) => `n${i}`);
  const latentByRate = new Map<number, Float64Array>();
  const sources = options.sources.map((transform, index): TrafficNetwork => {
    if (!latentByRate.has(transform.diffusion)) latentByRate.set(transform.diffusion, latentSeries(options, adjacency, amplitudes, transform.diffusion, steps + maxShift));
    const latent = latentByRate.get(transform.diffusion)!;
    const observation = createRng('synthetic-observation', options.seed, index);
    const values = new Float64Array(steps * nodes);
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < nodes; i++) {
        const noise = transform.noise > 0 ? transform.noise * observation.normal() : 0;
        values[t * nodes + i] = Math.max(transform.gain * latent[(t + transform.shift) * nodes + i]! + transform.offset + noise, 0.1);
      }
    }
    return { sensorIds, steps, values, adjacency, source: `synthetic:source${index}` };
  });
  return { adjacency, positions, sources, stepsPerDay, transforms: options.sources };
}

/** Sources back to back in time on one network, with each source's [start, end) step block. */
export function concatenateSources(sources: readonly TrafficNetwork[]): { network: TrafficNetwork; blocks: { start: number; end: number }[] } {
  const nodes = sources[0]!.sensorIds.length;
  const total = sources.reduce((a, s) => a + s.steps, 0);
  const values = new Float64Array(total * nodes);
  const blocks: { start: number; end: number }[] = [];
  let at = 0;
  for (const s of sources) {
    values.set(s.values, at * nodes);
    blocks.push({ start: at, end: at + s.steps });
    at += s.steps;
  }
  return { network: { sensorIds: sources[0]!.sensorIds, steps: total, values, adjacency: sources[0]!.adjacency, source: sources.map((s) => s.source).join('+') }, blocks };
}
