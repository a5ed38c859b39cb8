/**
 * `modelevo demo`: a guided tour on the bundled tiny-llama fixtures — inspect the base, show a PEFT LoRA
 * adapter, write the LoRA-merged `base+lora-code` view as a sharded model folder (merge-methods.md §4.1, §5)
 * and verify that it reads back byte for byte (`modelevo demo --lora`). Plain `modelevo demo` runs the
 * evolution demo (src/demo/evolution-demo.ts).
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CheckpointError, ModelevoError } from '../../core/errors.js';
import { LoraMergedCheckpoint } from '../../io/lora-view.js';
import { openCheckpoint } from '../../io/open.js';
import { writeModelFolder } from '../../io/shard-writer.js';
import { formatBytes, parseByteSize } from '../../io/size.js';
import { formatTable, inspectReference } from './inspect.js';
import { runEvolutionDemo } from '../../demo/evolution-demo.js';
import { parseFamily } from '../../demo/family.js';
import { writeMergingResults } from '../../demo/results-markdown.js';
import { parseIntegerFlag } from '../options.js';
import { z } from 'zod';
import { addSchemaOptions, flag, parseCommandOptions } from '../schema-options.js';

export interface DemoOptions {
  readonly fixtures: string;
  readonly out: string;
  readonly outShardSize: string;
  readonly overwrite: boolean;
  readonly write?: (text: string) => void;
}

export interface DemoResult {
  readonly outDir: string;
  readonly shards: number;
  readonly tensors: number;
  readonly touched: number;
  readonly mismatches: number;
}

/** The bundled fixtures, found by walking up from this file to the package root. */
export function defaultFixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'tiny-llama');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return resolve('test', 'fixtures', 'tiny-llama');
}

export function runDemo(options: DemoOptions): DemoResult {
  const say = options.write ?? ((text: string) => process.stdout.write(text));
  const line = (text = ''): void => say(`${text}\n`);
  const base = join(options.fixtures, 'base');
  const lora = join(options.fixtures, 'lora-code');
  if (!existsSync(base) || !existsSync(lora)) {
    throw new CheckpointError('the demo fixtures (tiny-llama/base and tiny-llama/lora-code) were not found', {
      code: 'CHECKPOINT_NOT_FOUND',
      file: options.fixtures,
      hint: 'run the demo from a modelevo checkout, or pass --fixtures <path to test/fixtures/tiny-llama>',
    });
  }
  const maxShardBytes = parseByteSize(options.outShardSize, '--out-shard-size');
  const show = (p: string): string => relative(process.cwd(), p) || '.';

  line('modelevo demo: merge a LoRA adapter into a tiny Llama and save it as a sharded model folder');
  line();
  line(`1. The base model (${show(base)})`);
  const baseSummary = inspectReference(base);
  line(indent(formatTable([
    ['architecture', `${baseSummary.architecture?.architectures.join(', ') ?? 'unknown'}, ${baseSummary.architecture?.num_hidden_layers ?? '?'} layers, hidden ${baseSummary.architecture?.hidden_size ?? '?'}`],
    ['parameters', baseSummary.parameters.toLocaleString('en-US')],
    ['tensors', `${baseSummary.tensors} (${Object.entries(baseSummary.dtypes).map(([d, n]) => `${d} × ${n}`).join(', ')})`],
    ['data', formatBytes(baseSummary.bytes)],
  ], [], '')));
  line();
  line(`2. A LoRA adapter trained on Python code (${show(lora)})`);
  const adapter = inspectReference(lora).adapter!;
  line(indent(formatTable([
    ['rank', `r = ${adapter.r}, lora_alpha = ${adapter.alpha} → scale s = ${adapter.scale}`],
    ['targets', Array.isArray(adapter.target_modules) ? adapter.target_modules.join(', ') : String(adapter.target_modules)],
    ['touches', `${adapter.touched.length} of ${baseSummary.tensors} base tensors; the rest pass through unchanged`],
  ], [], '')));
  line();

  const reference = `${base}+${lora}`;
  line(`3. Merging base+lora-code: W' = W + ${adapter.scale}·B·A, computed lazily per tensor`);
  const merged = openCheckpoint(reference);
  let written;
  try {
    written = writeModelFolder(options.out, merged, { maxShardBytes, copyFrom: base, overwrite: options.overwrite });
  } finally {
    merged.close();
  }
  line(`   wrote ${show(written.path)} in ${written.shards.length} ${written.shards.length === 1 ? 'shard' : 'shards'} of at most ${formatBytes(maxShardBytes)} (total ${formatBytes(written.totalSize)}):`);
  line(formatTable([['file', 'tensors', 'size'], ...written.shards.map((s) => [s.file, String(s.tensors), formatBytes(s.bytes)])], [1, 2], '     '));
  const copied = written.files.filter((f) => !f.endsWith('.safetensors') && f !== 'model.safetensors.index.json');
  line(`   ${written.shards.length > 1 ? 'plus model.safetensors.index.json' : 'no index (one shard)'}; copied from the base: ${copied.join(', ')}`);
  line();

  line('4. Reading the folder back and checking it against the merged view and the base');
  const check = verifyMergedFolder(written.path, reference, base);
  line(`   ${check.tensors - check.mismatches}/${check.tensors} tensors identical to the in-memory merged view`);
  line(`   ${check.untouchedIdentical}/${check.tensors - check.touched} untouched tensors identical to the base`);
  line(`   ${check.touched} LoRA-updated tensors changed by ${(100 * check.relativeChange).toFixed(1)}% on average (‖ΔW‖/‖W‖)`);
  line();
  line(check.mismatches === 0 ? 'Done: the merged model is ready.' : `FAILED: ${check.mismatches} tensors differ.`);
  line(`Try: modelevo inspect ${show(written.path)}   or   modelevo inspect ${show(lora)}`);
  return { outDir: written.path, shards: written.shards.length, tensors: check.tensors, touched: check.touched, mismatches: check.mismatches };
}

interface FolderCheck {
  tensors: number;
  touched: number;
  mismatches: number;
  untouchedIdentical: number;
  relativeChange: number;
}

function verifyMergedFolder(outDir: string, reference: string, base: string): FolderCheck {
  const written = openCheckpoint(outDir);
  const view = openCheckpoint(reference);
  const original = openCheckpoint(base);
  try {
    const touched = new Set(view instanceof LoraMergedCheckpoint ? view.touched() : []);
    let mismatches = Math.abs(written.names().length - view.names().length);
    let untouchedIdentical = 0;
    let changeSum = 0;
    for (const name of view.names()) {
      const bytes = written.has(name) ? written.readBytes(name) : new Uint8Array();
      if (!sameBytes(bytes, view.readBytes(name))) mismatches++;
      if (!touched.has(name)) {
        if (sameBytes(bytes, original.readBytes(name))) untouchedIdentical++;
        continue;
      }
      const after = written.readFloat32(name);
      const before = original.readFloat32(name);
      let delta = 0;
      let norm = 0;
      for (let i = 0; i < before.length; i++) {
        delta += (after[i]! - before[i]!) ** 2;
        norm += before[i]! ** 2;
      }
      changeSum += Math.sqrt(delta / norm);
    }
    return { tensors: view.names().length, touched: touched.size, mismatches, untouchedIdentical, relativeChange: changeSum / Math.max(1, touched.size) };
  } finally {
    written.close();
    view.close();
    original.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

/**
 * One declaration per flag. The counts stay text here: parseIntegerFlag checks them with a message naming the
 * flag, and parseFamily the family, as before the options were generated.
 */
export const DemoCommandOptionsSchema = z.object({
  out: flag(z.string().default('out/demo'), 'output folder (replaced if it holds a previous demo run, unless --resume)', '<dir>'),
  fixtures: flag(z.string().optional(), 'fixture folder holding tiny-llama/, tiny-llama-v2/ and text/ (default: the bundled test/fixtures)', '<dir>'),
  family: flag(z.string().default('v2'), 'v2: experts merging can improve on; v1: over-fitted experts (the "merging cannot help" control)', '<v1|v2>'),
  devWindows: flag(z.string().default('8'), 'development windows per text for selection (from window 32)', '<n>'),
  budget: flag(z.string().default('60'), 'development evaluations per search run', '<n>'),
  seeds: flag(z.string().default('1'), 'seeds per search row (the table prints seed 0; --results summarises all)', '<n>'),
  generations: flag(z.string().default('20'), 'Evolver generation cap (the budget stops it first)', '<n>'),
  threads: flag(z.string().default('2'), 'evaluator worker threads', '<n>'),
  results: flag(z.string().optional(), 'also write the multi-seed results document (markdown, with one SVG plot per strategy beside it)', '<file>'),
  resume: flag(z.boolean().default(false), 'keep --out and continue: finished runs and cached scores are reused (after a kill)'),
  lora: flag(z.boolean().default(false), 'instead: the checkpoint I/O tour (inspect, LoRA merge, sharded save, read-back check)'),
  outShardSize: flag(z.string().default('1M'), 'with --lora: maximum bytes per shard (decimal suffixes k, M, B)', '<size>'),
  overwrite: flag(z.boolean().default(false), 'with --lora: replace --out even if it is not the default demo folder'),
});

export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description('the main job on a bundled tiny-llama family: kinship, static baselines, every search strategy, test-split table and verdict');
  addSchemaOptions(command, DemoCommandOptionsSchema)
    .addHelpText(
      'after',
      `
Examples:
  modelevo demo                                   # v2 family, one seed, about 3 minutes on two idle cores
  modelevo demo --family v1                       # the control family, where no merge can beat the base
  modelevo demo --seeds 5 --resume --out out/results-merging --results docs/results/merging.md
  modelevo demo --lora                            # checkpoint I/O tour`,
    )
    .action(async (raw: unknown) => {
      const options = parseCommandOptions(DemoCommandOptionsSchema, raw, 'modelevo demo options');
      const fixtures = options.fixtures ?? dirname(defaultFixturesDir());
      if (!options.lora) {
        const started = { at: new Date(), load: loadavg() };
        const result = await runEvolutionDemo({
          fixtures,
          out: resolve(options.out),
          family: parseFamily(options.family),
          devWindows: parseIntegerFlag(options.devWindows, '--dev-windows', 1),
          budget: parseIntegerFlag(options.budget, '--budget', 1),
          seeds: parseIntegerFlag(options.seeds, '--seeds', 1),
          evolverGenerations: parseIntegerFlag(options.generations, '--generations', 1),
          threads: parseIntegerFlag(options.threads, '--threads', 1),
          resume: options.resume,
        });
        if (options.results) {
          writeMergingResults(result, resolve(options.results), { started: started.at, loadBefore: started.load, loadAfter: loadavg(), command: `modelevo demo ${process.argv.slice(3).join(' ')}` });
          process.stdout.write(`results written to ${options.results}\n`);
        }
        return;
      }
      const result = runDemo({
        fixtures: join(fixtures, 'tiny-llama'),
        out: resolve(options.out),
        outShardSize: options.outShardSize,
        overwrite: options.overwrite || options.out === 'out/demo',
      });
      if (result.mismatches > 0) {
        throw new ModelevoError('INTERNAL', `demo read-back check failed: ${result.mismatches} of ${result.tensors} tensors differ`, {
          hint: 'this is a bug in modelevo; rerun with --debug and report it',
        });
      }
    });
}
