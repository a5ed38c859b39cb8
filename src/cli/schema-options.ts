/**
 * Command-line options generated from a command's zod schema (style.md §1.5 "one schema, many surfaces"; issue
 * #18 item 3). Each option is declared once, as a schema field wrapped in `flag(schema, help, value)`: the field
 * gives the name (camelCase key → `--kebab-case`), the type (a boolean takes no value, an array repeats), the
 * default and whether it is required; `flag` adds the help text and the value's placeholder. A key that has no
 * flag on purpose says so with `noFlag(schema, reason)`. `addSchemaOptions(command, schema)` declares them all
 * on a commander command and remembers the schema, so a test can compare every option with its field.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { ConfigError, invariant } from '../core/errors.js';

export interface FlagSpec {
  readonly help: string;
  /** placeholder of the value in --help, e.g. '<dir>' (booleans take none) */
  readonly value?: string;
  /** a boolean defaulting to true, switched off by `--no-<key>` */
  readonly negated?: boolean;
  /** accepted but left out of --help (an old spelling kept for scripts) */
  readonly hidden?: boolean;
}

interface NoFlag {
  readonly noFlag: string;
}

const DECLARATIONS = z.registry<FlagSpec | NoFlag>();

/**
 * The field `schema` with its command-line help. A copy is registered, so one shared field (a seed, a width) can
 * carry a different help text in each command.
 */
export function flag<T extends z.ZodType>(schema: T, help: string, value?: string): T {
  const field = schema.clone() as T;
  DECLARATIONS.add(field, value === undefined ? { help } : { help, value });
  return field;
}

/** A boolean that is on unless `--no-<key>` is given (the field must default to true). */
export function negatedFlag<T extends z.ZodType>(schema: T, help: string): T {
  const field = schema.clone() as T;
  DECLARATIONS.add(field, { help, negated: true });
  return field;
}

/** A flag accepted but not shown in --help (an old spelling kept so that existing scripts keep working). */
export function hiddenFlag<T extends z.ZodType>(schema: T, help: string, value?: string): T {
  const field = schema.clone() as T;
  DECLARATIONS.add(field, value === undefined ? { help, hidden: true } : { help, value, hidden: true });
  return field;
}

/** A key without a command-line flag, with the reason (e.g. "set from the positional argument"). */
export function noFlag<T extends z.ZodType>(schema: T, reason: string): T {
  const field = schema.clone() as T;
  DECLARATIONS.add(field, { noFlag: reason });
  return field;
}

/** One generated commander option, as `addSchemaOptions` declares it. */
export interface OptionDeclaration {
  readonly key: string;
  /** e.g. '--steps-per-group <n>' */
  readonly flags: string;
  readonly help: string;
  /** the schema's default (undefined when the field has none or is a boolean defaulting to false) */
  readonly defaultValue: unknown;
  readonly required: boolean;
  readonly repeatable: boolean;
  readonly hidden: boolean;
}

type Def = { type: string; innerType?: z.ZodType; defaultValue?: unknown };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { def: Def }).def;

/** The field without its optional/default wrappers, with what the wrappers said. */
function describeField(field: z.ZodType): { inner: z.ZodType; optional: boolean; defaultValue: unknown } {
  let inner = field;
  let optional = false;
  let defaultValue: unknown;
  for (let def = defOf(inner); (def.type === 'optional' || def.type === 'default') && def.innerType; def = defOf(inner)) {
    if (def.type === 'default') defaultValue = def.defaultValue;
    optional = true;
    inner = def.innerType;
  }
  return { inner, optional, defaultValue };
}

export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The options of a schema's flagged keys, in key order; a key with neither `flag` nor `noFlag` is a bug. */
export function optionDeclarations(schema: z.ZodObject): OptionDeclaration[] {
  const out: OptionDeclaration[] = [];
  for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
    const spec = DECLARATIONS.get(field);
    invariant(spec !== undefined, () => `options schema key '${key}' has neither flag() nor noFlag()`);
    if ('noFlag' in spec) continue;
    const { inner, optional, defaultValue } = describeField(field);
    const type = defOf(inner).type;
    const boolean = type === 'boolean';
    if (spec.negated) {
      invariant(boolean && defaultValue === true, () => `negated option '${key}' must be a boolean defaulting to true (--no-${kebabCase(key)} switches it off)`);
    } else {
      invariant(!boolean || defaultValue === undefined || defaultValue === false, () => `boolean option '${key}' must default to false (a flag can only switch it on)`);
    }
    const repeatable = type === 'array';
    out.push({
      key,
      flags: spec.negated ? `--no-${kebabCase(key)}` : boolean ? `--${kebabCase(key)}` : `--${kebabCase(key)} ${spec.value ?? '<value>'}`,
      help: spec.help,
      defaultValue: boolean ? undefined : defaultValue,
      required: !optional,
      repeatable,
      hidden: spec.hidden === true,
    });
  }
  return out;
}

const SCHEMAS = new WeakMap<Command, z.ZodObject>();

/**
 * Declares every flagged key of `schema` on `command`. Scalar defaults go to commander as text, as a user would
 * type them (zod coerces both alike); a repeatable option's default is replaced, not extended, by the first
 * occurrence.
 */
export function addSchemaOptions(command: Command, schema: z.ZodObject): Command {
  SCHEMAS.set(command, schema);
  for (const d of optionDeclarations(schema)) {
    const option = new Option(d.flags, d.help).makeOptionMandatory(d.required).hideHelp(d.hidden);
    if (d.repeatable) {
      const initial = d.defaultValue as unknown[] | undefined;
      option.argParser((value: string, previous: unknown[] | undefined) => [...(previous === undefined || previous === initial ? [] : previous), value]);
      if (initial !== undefined) option.default(initial, initial.join(','));
    } else if (d.defaultValue !== undefined) option.default(String(d.defaultValue));
    command.addOption(option);
  }
  return command;
}

/** The schema a command's options were generated from (undefined for commands that parse flags by hand). */
export function optionsSchemaOf(command: Command): z.ZodObject | undefined {
  return SCHEMAS.get(command);
}

/**
 * The options commander parsed, read through the schema they were generated from: defaults filled in, values
 * coerced; a value the schema refuses is a ConfigError naming the key (exit code and JSON error as for a bad
 * config file).
 */
export function parseCommandOptions<S extends z.ZodObject>(schema: S, raw: unknown, source: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => ({ path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: issue.message })),
    { source },
  );
}
