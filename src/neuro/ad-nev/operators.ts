/**
 * Variation operators of AD-NEv's levels 1 and 2 (ad-nev.md §1.1, §1.2; the paper does not publish its
 * operators, so these are modelevo's documented defaults). Level 1 — subspaces: mutation moves, adds or
 * removes one feature index (probability 1/3 each) keeping every set non-empty; crossover exchanges whole
 * sets. Level 2 — autoencoder genome: mutation perturbs one gene (integer ± step, lr on a log scale);
 * crossover is uniform over genes, layer-wise up to the shorter depth. Invalid genomes are repaired.
 */
import type { Rng } from '../../core/rng.js';
import { SEARCH_SPACE, planAutoencoder, type ConvAutoencoderGenome, type ConvLayerGene } from './conv-autoencoder.js';

export type Subspaces = readonly (readonly number[])[];

const sortedUnique = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

/** k random non-empty subsets of [0, features) that together cover every feature once (a random partition). */
export function randomSubspaces(rng: Rng, features: number, k: number): number[][] {
  const count = Math.max(1, Math.min(k, features));
  const sets: number[][] = Array.from({ length: count }, () => []);
  const order = Array.from({ length: features }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  order.forEach((f, i) => sets[i < count ? i : rng.int(count)]!.push(f));
  return sets.map(sortedUnique);
}

export function mutateSubspaces(rng: Rng, parent: Subspaces, features: number): number[][] {
  const sets = parent.map((s) => [...s]);
  const choice = rng.int(3);
  const target = rng.int(sets.length);
  if (choice === 0 && sets.length > 1) {
    // move one index from a set with ≥ 2 members to another set
    const donors = sets.map((s, i) => (s.length > 1 ? i : -1)).filter((i) => i >= 0);
    if (donors.length > 0) {
      const from = donors[rng.int(donors.length)]!;
      let to = rng.int(sets.length - 1);
      if (to >= from) to++;
      const [moved] = sets[from]!.splice(rng.int(sets[from]!.length), 1);
      sets[to]!.push(moved!);
    }
  } else if (choice === 1 || (choice === 0 && sets.length === 1)) {
    const missing = Array.from({ length: features }, (_, i) => i).filter((f) => !sets[target]!.includes(f));
    if (missing.length > 0) sets[target]!.push(missing[rng.int(missing.length)]!);
  } else if (sets[target]!.length > 1) {
    sets[target]!.splice(rng.int(sets[target]!.length), 1);
  }
  return sets.map(sortedUnique);
}

export function crossoverSubspaces(rng: Rng, a: Subspaces, b: Subspaces): number[][] {
  const length = Math.min(a.length, b.length);
  return a.map((set, i) => [...(i < length && rng.next() < 0.5 ? b[i]! : set)]);
}

/** true when every set is non-empty and every index lies in [0, features) */
export function validSubspaces(sets: Subspaces, features: number): boolean {
  return sets.length > 0 && sets.every((s) => s.length > 0 && s.every((f) => Number.isInteger(f) && f >= 0 && f < features));
}

const clampInt = (x: number, [lo, hi]: readonly [number, number]): number => Math.max(lo, Math.min(hi, Math.round(x)));
const randInt = (rng: Rng, [lo, hi]: readonly [number, number]): number => lo + rng.int(hi - lo + 1);
const logUniform = (rng: Rng, [lo, hi]: readonly [number, number]): number => Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));

export interface ArchitectureLimits {
  /** upper bound on channels (the search space allows 1,024; budgeted runs use less) */
  readonly maxChannels: number;
  readonly maxLayers: number;
}

export const DEFAULT_LIMITS: ArchitectureLimits = { maxChannels: SEARCH_SPACE.channels[1], maxLayers: SEARCH_SPACE.convLayers[1] };

function randomLayer(rng: Rng, limits: ArchitectureLimits): ConvLayerGene {
  const channels = Math.round(logUniform(rng, [SEARCH_SPACE.channels[0], Math.max(SEARCH_SPACE.channels[0], limits.maxChannels)]));
  return { channels, kernel: randInt(rng, SEARCH_SPACE.kernel), stride: randInt(rng, SEARCH_SPACE.stride) };
}

export function randomArchitecture(rng: Rng, limits: ArchitectureLimits): ConvAutoencoderGenome {
  const depth = randInt(rng, [1, limits.maxLayers]);
  const fcLayers = randInt(rng, SEARCH_SPACE.fcLayers);
  return {
    window: randInt(rng, SEARCH_SPACE.window),
    convLayers: Array.from({ length: depth }, () => randomLayer(rng, limits)),
    fcRatios: Array.from({ length: fcLayers }, () => SEARCH_SPACE.fcRatio[0] + rng.next() * (SEARCH_SPACE.fcRatio[1] - SEARCH_SPACE.fcRatio[0])),
    optimizer: rng.next() < 0.5 ? 'adam' : 'sgd',
    learningRate: logUniform(rng, SEARCH_SPACE.learningRate),
    loss: rng.next() < 0.5 ? 'mse' : 'l1',
    skip: rng.next() < 0.5,
  };
}

export function mutateArchitecture(rng: Rng, parent: ConvAutoencoderGenome, limits: ArchitectureLimits): ConvAutoencoderGenome {
  const layers = parent.convLayers.map((l) => ({ ...l }));
  const g = { ...parent, convLayers: layers, fcRatios: [...parent.fcRatios] };
  const sign = rng.next() < 0.5 ? -1 : 1;
  const layer = layers[rng.int(layers.length)]!;
  switch (rng.int(10)) {
    case 0:
      g.window = clampInt(g.window + sign, SEARCH_SPACE.window);
      break;
    case 1:
      if (sign > 0 && layers.length < limits.maxLayers) layers.push(randomLayer(rng, limits));
      else if (sign < 0 && layers.length > 1) layers.pop();
      break;
    case 2:
      layer.channels = clampInt(layer.channels * (sign > 0 ? 1.25 : 0.8), [SEARCH_SPACE.channels[0], limits.maxChannels]);
      break;
    case 3:
      layer.kernel = clampInt(layer.kernel + sign, SEARCH_SPACE.kernel);
      break;
    case 4:
      layer.stride = layer.stride === 1 ? 2 : 1;
      break;
    case 5:
      if (sign > 0 && g.fcRatios.length < SEARCH_SPACE.fcLayers[1]) g.fcRatios.push(0.5);
      else if (g.fcRatios.length > 0) g.fcRatios.pop();
      break;
    case 6:
      g.learningRate = Math.min(SEARCH_SPACE.learningRate[1], Math.max(SEARCH_SPACE.learningRate[0], g.learningRate * Math.exp(sign * 0.7)));
      break;
    case 7:
      g.optimizer = g.optimizer === 'adam' ? 'sgd' : 'adam';
      break;
    case 8:
      g.loss = g.loss === 'mse' ? 'l1' : 'mse';
      break;
    default:
      g.skip = !g.skip;
  }
  return g;
}

export function crossoverArchitecture(rng: Rng, a: ConvAutoencoderGenome, b: ConvAutoencoderGenome): ConvAutoencoderGenome {
  const pick = <T>(x: T, y: T): T => (rng.next() < 0.5 ? x : y);
  const depthParent = pick(a, b);
  const convLayers = depthParent.convLayers.map((layer, i) => {
    const other = (depthParent === a ? b : a).convLayers[i];
    return other ? { channels: pick(layer.channels, other.channels), kernel: pick(layer.kernel, other.kernel), stride: pick(layer.stride, other.stride) } : { ...layer };
  });
  return {
    window: pick(a.window, b.window),
    convLayers,
    fcRatios: [...pick(a.fcRatios, b.fcRatios)],
    optimizer: pick(a.optimizer, b.optimizer),
    learningRate: pick(a.learningRate, b.learningRate),
    loss: pick(a.loss, b.loss),
    skip: pick(a.skip, b.skip),
  };
}

/** Repairs a genome for `features` inputs: drops trailing layers until the plan is valid (≥ 1 layer kept with stride 1). */
export function repairArchitecture(genome: ConvAutoencoderGenome, features: number): ConvAutoencoderGenome {
  let g = genome;
  while (g.convLayers.length > 1 && 'invalid' in planAutoencoder(g, features)) g = { ...g, convLayers: g.convLayers.slice(0, -1) };
  if ('invalid' in planAutoencoder(g, features)) g = { ...g, convLayers: [{ ...g.convLayers[0]!, stride: 1, kernel: Math.min(g.convLayers[0]!.kernel, 3) }], fcRatios: [] };
  if ('invalid' in planAutoencoder(g, features)) g = { ...g, fcRatios: [] };
  return g;
}

/**
 * Caps the autoencoder's code (the last FC layer, or the flattened encoder output) at ⌊ratio · W · F⌋ units
 * by appending one FC layer when it is larger. Why: the spec's conv encoders widen the input (the hand-configured
 * baseline's code is 6.7× a 5 × 25 window), so training can approach the identity map, which reconstructs anomalies too;
 * a code smaller than the input forces the model to learn what is normal. Returns the genome unchanged when
 * the code is already small enough or the plan is invalid.
 */
export function enforceBottleneck(genome: ConvAutoencoderGenome, features: number, ratio: number): ConvAutoencoderGenome {
  const plan = planAutoencoder(genome, features);
  if ('invalid' in plan) return genome;
  const code = plan.fcUnits[plan.fcUnits.length - 1]!;
  const target = Math.max(1, Math.floor(ratio * genome.window * features));
  if (code <= target) return genome;
  // ⌊r·code⌋ = target exactly for r slightly above target/code (floating-point safe)
  return { ...genome, fcRatios: [...genome.fcRatios, (target + 0.5) / code] };
}

/** units of the autoencoder's code for `features` inputs (undefined for an invalid genome) */
export function codeUnits(genome: ConvAutoencoderGenome, features: number): number | undefined {
  const plan = planAutoencoder(genome, features);
  return 'invalid' in plan ? undefined : plan.fcUnits[plan.fcUnits.length - 1]!;
}

