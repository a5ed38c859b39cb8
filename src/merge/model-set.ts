/**
 * The input models of one merge, keyed by where they live: a reference (path, Hub id, `base+adapter`, or a
 * checkpoint given in memory) is resolved once to a key, each key is opened once and closed with the merge.
 * When the config's tokenizer block asks for an embedding plan, every model is seen through it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint } from '../io/checkpoint.js';
import { parseModelReference, resolveModelPath } from '../io/open.js';
import { TokenEmbeddingView, type TokenEmbeddingPlan } from './token-embeddings.js';
import type { PlanModels } from './plan.js';

export class ModelSet implements PlanModels {
  private readonly refs = new Map<string, string>();
  private readonly opened = new Map<string, Checkpoint>();
  private readonly owned: Checkpoint[] = [];

  constructor(
    private readonly cwd: string,
    private readonly given: ReadonlyMap<string, Checkpoint>,
    private readonly open: (ref: string, cwd: string) => Checkpoint,
  ) {}

  keyOf(ref: string): string {
    let key: string;
    if (this.given.has(ref)) key = `memory:${ref}`;
    else {
      const { base, adapter } = parseModelReference(ref, { cwd: this.cwd });
      // local paths relative to cwd; Hub ids resolve to their snapshot folder in the local HF cache
      const full = (p: string): string => resolveModelPath(p, this.cwd);
      key = adapter === undefined ? full(base) : `${full(base)}+${full(adapter)}`;
    }
    if (!this.refs.has(key)) this.refs.set(key, ref);
    return key;
  }

  private embeddingPlan: TokenEmbeddingPlan | undefined;
  private readonly views = new Map<string, Checkpoint>();

  /** from now on every model is seen through the tokenizer block's embedding plan (token-embeddings.ts) */
  useEmbeddingPlan(plan: TokenEmbeddingPlan): void {
    this.embeddingPlan = plan;
    this.views.clear();
  }

  get(key: string): Checkpoint {
    const plan = this.embeddingPlan;
    if (plan === undefined) return this.raw(key);
    let view = this.views.get(key);
    if (view === undefined) {
      view = new TokenEmbeddingView(this.raw(key), plan, (other) => this.raw(other));
      this.views.set(key, view);
    }
    return view;
  }

  /** the model as stored, without the embedding plan */
  raw(key: string): Checkpoint {
    let checkpoint = this.opened.get(key);
    if (checkpoint === undefined) {
      const ref = this.refs.get(key) ?? key;
      checkpoint = this.given.get(ref);
      if (checkpoint === undefined) {
        checkpoint = this.open(ref, this.cwd);
        this.owned.push(checkpoint);
      }
      this.opened.set(key, checkpoint);
    }
    return checkpoint;
  }

  /** the folder a key's files live in (the base part of `base+adapter`), if it is on disk */
  folderOf(key: string): string | undefined {
    if (key.startsWith('memory:')) return undefined;
    const folder = key.split('+')[0]!;
    return existsSync(join(folder, 'config.json')) || existsSync(join(folder, 'tokenizer.json')) ? folder : undefined;
  }

  closeAll(): void {
    for (const checkpoint of this.owned) checkpoint.close();
    this.owned.length = 0;
    this.opened.clear();
    this.views.clear();
  }
}
