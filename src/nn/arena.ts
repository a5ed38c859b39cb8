/**
 * The arena planner. A model asks for every buffer once, while it is built; `layout()` then assigns float
 * offsets region by region so that all parameters form one contiguous run, their gradients another run in
 * the same order, then optimiser state, activations, activation gradients and scratch. The step loop only
 * reads the resulting offsets: nothing is allocated after planning.
 */
import { invariant, ModelevoError } from '../core/errors.js';

/** `state`: persistent non-trainable buffers (batch norm's running statistics) */
export type Region = 'param' | 'grad' | 'optimizer' | 'state' | 'io' | 'activation' | 'activationGrad' | 'scratch';
const REGION_ORDER: readonly Region[] = ['param', 'grad', 'optimizer', 'state', 'io', 'activation', 'activationGrad', 'scratch'];

/** SIMD loads prefer 16-byte aligned buffers: every buffer starts on a multiple of 4 floats */
const ALIGN = 4;

/** A named tensor in the arena; `offset` is assigned by layout() and absolute in the kernels' `data`. */
export interface View {
  readonly name: string;
  readonly region: Region;
  readonly shape: readonly number[];
  readonly size: number;
  offset: number;
}

export type ParamInit = { kind: 'zeros' } | { kind: 'ones' } | { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number };

export interface ParamView extends View {
  readonly region: 'param';
  readonly init: ParamInit;
  /** the gradient of this parameter, at the same position inside the gradient run */
  readonly grad: View;
}

export interface ArenaLayout {
  /** floats the arena needs beyond `base` */
  readonly floats: number;
  /** [start, end) of each region, absolute */
  readonly regions: { readonly [r in Region]: { readonly start: number; readonly end: number } };
  readonly params: readonly ParamView[];
  /** persistent non-trainable buffers (saved with the parameters) */
  readonly state: readonly View[];
}

export class ArenaPlanner {
  private readonly views: View[] = [];
  private readonly paramViews: ParamView[] = [];
  private laidOut: ArenaLayout | undefined;

  param(name: string, shape: readonly number[], init: ParamInit): ParamView {
    this.assertOpen(name);
    if (this.paramViews.some((p) => p.name === name)) {
      throw new ModelevoError('CONFIG_INVALID', `parameter '${name}' declared twice, expected unique names`, {
        hint: 'give every layer a distinct name',
        details: { name },
      });
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const grad = this.buffer('grad', `${name}.grad`, shape);
    const view: ParamView = { name, region: 'param', shape, size, offset: -1, init, grad };
    this.views.push(view);
    this.paramViews.push(view);
    return view;
  }

  buffer(region: Region, name: string, shape: readonly number[]): View {
    this.assertOpen(name);
    const view: View = { name, region, shape, size: shape.reduce((a, b) => a * b, 1), offset: -1 };
    this.views.push(view);
    return view;
  }

  /**
   * Assigns every offset, starting at `base`; the planner is closed afterwards. With `paramsAt`, the parameter
   * views point at an identical parameter run that starts there (another arena's, in the same memory: a
   * data-parallel replica reading the parameters it shares); their room here stays reserved and unused, so
   * every other region keeps the offset it has in an arena holding its own parameters.
   */
  layout(base: number, options: { readonly paramsAt?: number } = {}): ArenaLayout {
    if (this.laidOut) return this.laidOut;
    let at = base;
    const regions = {} as Record<Region, { start: number; end: number }>;
    for (const region of REGION_ORDER) {
      const start = at;
      // parameters and their gradients are packed without gaps, so one pass covers the whole run
      const packed = region === 'param' || region === 'grad';
      for (const view of this.views) {
        if (view.region !== region) continue;
        if (!packed) at = Math.ceil(at / ALIGN) * ALIGN;
        view.offset = at;
        at += view.size;
      }
      at = Math.ceil(at / ALIGN) * ALIGN;
      regions[region] = { start, end: start + this.views.filter((v) => v.region === region).reduce((s, v) => s + (packed ? v.size : 0), 0) };
      if (!packed) regions[region].end = at;
    }
    if (options.paramsAt !== undefined) {
      const shift = options.paramsAt - regions.param.start;
      for (const view of this.paramViews) view.offset += shift;
      regions.param = { start: regions.param.start + shift, end: regions.param.end + shift };
    }
    this.laidOut = { floats: at - base, regions, params: this.paramViews, state: this.views.filter((v) => v.region === 'state') };
    return this.laidOut;
  }

  /** total parameter floats declared so far */
  paramCount(): number {
    return this.paramViews.reduce((s, p) => s + p.size, 0);
  }

  /** floats the layout will need, before it is made (an upper bound including alignment) */
  floatsNeeded(): number {
    return this.views.reduce((s, v) => s + v.size + ALIGN, 0) + REGION_ORDER.length * ALIGN;
  }

  private assertOpen(name: string): void {
    invariant(!this.laidOut, () => `buffer '${name}' requested after the arena was laid out`);
  }
}
