/**
 * Options generated from the schemas (issue #18 item 3): over every command of the program, each option's
 * default, after the schema's own coercion, equals the schema field's default; every schema key has a flag
 * (or says why not) and every flag has a key. Commands that still parse their flags by hand are listed below,
 * so a new command has to choose.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { z } from 'zod';
import { buildProgram } from './main.js';
import { addSchemaOptions, flag, hiddenFlag, kebabCase, negatedFlag, noFlag, optionDeclarations, optionsSchemaOf } from './schema-options.js';

/** Commands whose flags are not generated from a schema (none left: a new command must not add one without a reason). */
const HAND_PARSED = new Set<string>([]);
/** Parent commands that only group sub-commands. */
const GROUPS = new Set(['runs', 'anomaly', 'continual', 'st', 'queue']);

function allCommands(command: Command, prefix = ''): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const path = `${prefix}${sub.name()}`;
    return [[path, sub] as [string, Command], ...allCommands(sub, `${path} `)];
  });
}

const commands = allCommands(buildProgram());

test('every command is generated from a schema, hand-parsed (listed) or a group', () => {
  const generated = commands.filter(([, c]) => optionsSchemaOf(c) !== undefined).map(([p]) => p);
  assert.deepEqual(generated.sort(), ['anomaly evolve', 'anomaly score', 'compose-lora', 'continual run', 'demo', 'eval', 'evolve', 'extract-lora', 'inspect', 'kinship', 'merge', 'queue status', 'runs list', 'runs show', 'st coms2t', 'st synevo', 'st train', 'ui', 'worker']);
  for (const [path, command] of commands) {
    if (optionsSchemaOf(command)) continue;
    assert.ok(HAND_PARSED.has(path) || GROUPS.has(path), `${path}: neither generated from a schema nor listed`);
  }
});

for (const [path, command] of commands) {
  const schema = optionsSchemaOf(command);
  if (!schema) continue;
  test(`modelevo ${path}: each option's default is its schema default; flags and keys match one to one`, () => {
    const fields = schema.shape as Record<string, z.ZodType>;
    const byLong = new Map(command.options.map((o) => [o.long!, o]));
    const declarations = optionDeclarations(schema);
    const longOf = (flags: string): string => flags.split(' ')[0]!;
    assert.deepEqual([...byLong.keys()].sort(), declarations.map((d) => longOf(d.flags)).sort());
    for (const { key, flags } of declarations) {
      assert.ok(longOf(flags) === `--${kebabCase(key)}` || longOf(flags) === `--no-${kebabCase(key)}`, flags);
      const option = byLong.get(longOf(flags))!;
      const field = fields[key]!;
      if (option.negate) {
        // commander turns a lone --no-x into x = true unless given; the schema must say the same
        assert.equal(field.parse(undefined), true, key);
        continue;
      }
      const fromSchema = field.safeParse(undefined);
      if (!fromSchema.success) {
        assert.equal(option.mandatory, true, `${key}: a field without a default is a required option`);
        continue;
      }
      assert.equal(option.mandatory, false, key);
      // what the program receives when the flag is absent, read through the same schema
      const fromFlag = option.defaultValue === undefined ? fromSchema : field.safeParse(option.defaultValue);
      assert.ok(fromFlag.success, `${key}: the default text '${String(option.defaultValue)}' must pass the schema`);
      assert.deepEqual(fromFlag.data, fromSchema.data, key);
    }
  });
}

test('one declaration: name, type, default and help come from the field', () => {
  const schema = z.object({
    stepsPerGroup: flag(z.coerce.number().int().default(30), 'steps per visit', '<n>'),
    references: flag(z.boolean().default(false), 'also train the references'),
    data: flag(z.string(), 'data folder', '<dir>'),
    metric: flag(z.array(z.string()).default(['pcc']), 'metric names (repeatable)', '<names>'),
    internal: noFlag(z.number().default(1), 'set by library callers only'),
  });
  const command = addSchemaOptions(new Command('x').exitOverride(), schema);
  assert.deepEqual(command.options.map((o) => [o.flags, o.description, o.defaultValue, o.mandatory]), [
    ['--steps-per-group <n>', 'steps per visit', '30', false],
    ['--references', 'also train the references', undefined, false],
    ['--data <dir>', 'data folder', undefined, true],
    ['--metric <names>', 'metric names (repeatable)', ['pcc'], false],
  ]);
  assert.match(command.helpInformation(), /--steps-per-group <n>\s+steps per visit \(default: "30"\)/);
  command.parse(['--data', 'd', '--metric', 'cs', '--metric', 'ed'], { from: 'user' });
  // the first occurrence replaces the repeatable default instead of extending it
  assert.deepEqual(command.opts(), { stepsPerGroup: '30', data: 'd', metric: ['cs', 'ed'] });
  assert.deepEqual(schema.parse(command.opts()), { stepsPerGroup: 30, references: false, data: 'd', metric: ['cs', 'ed'], internal: 1 });
});

test('negated and hidden flags: --no-x switches a default-true boolean off; a hidden flag parses but is not in --help', () => {
  const schema = z.object({
    copyTokenizer: negatedFlag(z.boolean().default(true), 'do not copy tokenizer files'),
    allowOverwrite: hiddenFlag(z.boolean().default(false), 'old spelling'),
  });
  const parse = (args: string[]): unknown => schema.parse(addSchemaOptions(new Command('x').exitOverride(), schema).parse(args, { from: 'user' }).opts());
  assert.deepEqual(parse([]), { copyTokenizer: true, allowOverwrite: false });
  assert.deepEqual(parse(['--no-copy-tokenizer', '--allow-overwrite']), { copyTokenizer: false, allowOverwrite: true });
  const help = addSchemaOptions(new Command('x'), schema).helpInformation();
  assert.match(help, /--no-copy-tokenizer/);
  assert.doesNotMatch(help, /allow-overwrite/);
  assert.throws(() => optionDeclarations(z.object({ x: negatedFlag(z.boolean().default(false), 'x') })), /defaulting to true/);
});

test('a key with neither flag() nor noFlag() and a boolean defaulting to true are refused', () => {
  assert.throws(() => optionDeclarations(z.object({ forgotten: z.string() })), /forgotten/);
  assert.throws(() => optionDeclarations(z.object({ on: flag(z.boolean().default(true), 'x') })), /must default to false/);
});

test('SynEVO: the CLI takes its defaults from DEFAULT_SYNEVO (30 steps per group and for the curriculum)', () => {
  const synevo = commands.find(([p]) => p === 'st synevo')![1];
  const value = (long: string): unknown => synevo.options.find((o) => o.long === long)!.defaultValue;
  assert.equal(value('--steps-per-group'), '30');
  assert.equal(value('--scoring-steps'), '30');
});
