/**
 * `modelevo compose-lora <adapter>... --weights w1,w2,... <out-dir>`: LoraHub composition (Huang et al.,
 * arXiv 2307.13269; merge-methods.md §4.2, src/lora/compose.ts) of PEFT adapters that share r, lora_alpha,
 * target modules and tensor shapes, written as one PEFT adapter folder. `--json` prints
 * `{"output", "adapters", "weights", "tensors"}`.
 */
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { addSchemaOptions, flag, parseCommandOptions } from '../schema-options.js';
import { ConfigError } from '../../core/errors.js';
import { openAdapter } from '../../io/open.js';
import type { LoraAdapter } from '../../io/peft.js';
import { writeComposedLora } from '../../lora/compose.js';

/** One declaration per flag; the weight list is split and checked by parseWeightList (messages per entry). */
export const ComposeLoraOptionsSchema = z.object({
  weights: flag(z.string(), 'comma-separated weights, one per adapter (negative allowed)', '<list>'),
  overwrite: flag(z.boolean().default(false), 'replace a non-empty output folder once the adapter is written'),
  json: flag(z.boolean().default(false), 'print {"output", "adapters", "weights", "tensors"} on stdout'),
});
export type ComposeLoraCommandOptions = z.input<typeof ComposeLoraOptionsSchema>;

/** `0.5,-0.2, 1e-1` → numbers; anything non-numeric is a ConfigError naming the entry. */
export function parseWeightList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  return parts.map((part, i) => {
    const value = Number(part);
    if (part === '' || !Number.isFinite(value)) {
      throw new ConfigError([{ path: ['--weights', i], message: `expected a number; got '${part}'` }], {
        hint: 'give one comma-separated weight per adapter, e.g. --weights 0.5,0.3,-0.2',
      });
    }
    return value;
  });
}

export function runComposeLora(args: readonly string[], raw: ComposeLoraCommandOptions): { output: string; weights: number[] } {
  const options = parseCommandOptions(ComposeLoraOptionsSchema, raw, 'modelevo compose-lora options');
  if (args.length < 2) {
    throw new ConfigError([{ path: ['adapters'], message: `expected at least one adapter and the output folder, got ${args.length} argument(s)` }], {
      hint: 'usage: modelevo compose-lora <adapter>... --weights w1,w2,... <out-dir>',
    });
  }
  const adapterPaths = args.slice(0, -1);
  const outDir = args[args.length - 1]!;
  const weights = parseWeightList(options.weights);
  if (weights.length !== adapterPaths.length) {
    throw new ConfigError([{ path: ['--weights'], message: `expected ${adapterPaths.length} weights (one per adapter), got ${weights.length}` }], {
      hint: 'the last argument is the output folder; every other argument is an adapter with one weight each',
    });
  }
  const adapters: LoraAdapter[] = [];
  try {
    for (const path of adapterPaths) adapters.push(openAdapter(path));
    const output = writeComposedLora(adapters, weights, outDir, { overwrite: options.overwrite });
    const tensors = adapters[0]!.weights.names().length;
    if (options.json) process.stdout.write(`${JSON.stringify({ output, adapters: adapterPaths, weights, tensors })}\n`);
    else process.stdout.write(`composed ${adapterPaths.length} adapters (${tensors} tensors each) with weights [${weights.join(', ')}] into ${output}\n`);
    return { output, weights };
  } finally {
    for (const adapter of adapters) adapter.close();
  }
}

export function registerComposeLoraCommand(program: Command): void {
  const command = program
    .command('compose-lora')
    .description('LoraHub: compose LoRA adapters as A = Σ w_i A_i, B = Σ w_i B_i into one PEFT adapter')
    .argument('<adapter...>', 'PEFT adapter folders followed by the output folder');
  addSchemaOptions(command, ComposeLoraOptionsSchema)
    .addHelpText('after', examplesHelp([
      'modelevo compose-lora test/fixtures/tiny-llama/lora-code test/fixtures/tiny-llama/lora-math out/lora-mix --weights 0.7,0.3',
    ]))
    .action((args: string[], options: ComposeLoraCommandOptions) => {
      runComposeLora(args, options);
    });
}
