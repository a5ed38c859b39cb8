/**
 * One error base for modelevo. Every error carries a stable `code` (scripts may match on it), a message that
 * states expected vs actual, a `hint` saying what to do next, and structured `details`.
 */

export type ErrorCode =
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_UNSUPPORTED'
  | 'DTYPE_UNSUPPORTED'
  | 'SHAPE_MISMATCH'
  | 'TENSOR_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'MODELS_UNRELATED'
  | 'UNKNOWN_NAME'
  | 'ADAPTER_INVALID'
  | 'ADAPTER_MISMATCH'
  | 'VALUE_INVALID'
  | 'IO_FAILED'
  | 'STRATEGY_FAILED'
  | 'KERNEL_UNAVAILABLE'
  | 'MEMORY_EXHAUSTED'
  | 'INTERNAL';

export interface ErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ModelevoError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }
}

/**
 * safetensors validation failures keep the reference implementation's error names as `reason`
 * (HeaderTooSmall, InvalidOffset, ...) so users can look them up.
 */
export type SafetensorsReason =
  | 'HeaderTooSmall'
  | 'HeaderTooLarge'
  | 'InvalidHeaderLength'
  | 'InvalidHeader'
  | 'InvalidHeaderStart'
  | 'InvalidHeaderDeserialization'
  | 'InvalidOffset'
  | 'TensorInvalidInfo'
  | 'MisalignedSlice'
  | 'ValidationOverflow'
  | 'MetadataIncompleteBuffer';

export class CheckpointError extends ModelevoError {
  readonly file: string | undefined;
  readonly tensor: string | undefined;
  readonly reason: SafetensorsReason | undefined;

  constructor(
    message: string,
    options: ErrorOptions & { file?: string; tensor?: string; reason?: SafetensorsReason; code?: ErrorCode } = {},
  ) {
    const where = [options.file, options.tensor && `tensor '${options.tensor}'`].filter(Boolean).join(', ');
    const prefix = options.reason ? `${options.reason}: ` : '';
    super(options.code ?? 'CHECKPOINT_INVALID', `${prefix}${message}${where ? ` (${where})` : ''}`, options);
    this.file = options.file;
    this.tensor = options.tensor;
    this.reason = options.reason;
  }
}

export class ShapeMismatchError extends ModelevoError {
  constructor(tensor: string, shapes: Record<string, readonly number[]>, options: ErrorOptions = {}) {
    const listed = Object.entries(shapes)
      .map(([model, shape]) => `${model}: [${shape.join(', ')}]`)
      .join('; ');
    super('SHAPE_MISMATCH', `tensor '${tensor}' has different shapes across models: ${listed}`, {
      hint: options.hint ?? 'all models must share an architecture; check that they are fine-tunes of one base',
      details: { tensor, shapes, ...options.details },
      cause: options.cause,
    });
  }
}

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

export class ConfigError extends ModelevoError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options: ErrorOptions & { source?: string } = {}) {
    const source = options.source ? ` in ${options.source}` : '';
    // one line whatever the number of issues, so scripts and logs can take the first line as the message
    const listed = issues.map((i) => `at ${formatPath(i.path)}: ${i.message}`).join('; ');
    const text = `invalid configuration${source}${issues.length > 1 ? ` (${issues.length} problems)` : ''} ${listed}`;
    super('CONFIG_INVALID', text, {
      hint: options.hint ?? 'fix the keys listed above; see `modelevo <command> --help`',
      details: { issues, ...options.details },
      cause: options.cause,
    });
    this.issues = issues;
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '<root>';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export class UnknownNameError extends ModelevoError {
  constructor(kind: string, name: string, valid: readonly string[]) {
    const closest = closestName(name, valid);
    super('UNKNOWN_NAME', `unknown ${kind} '${name}'`, {
      hint: `${closest ? `did you mean '${closest}'? ` : ''}valid ${kind}s: ${valid.join(', ')}`,
      details: { kind, name, valid, closest },
    });
  }
}

export function closestName(name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Internal invariant: the message is built only on failure. Never use for user input. */
export function invariant(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new ModelevoError('INTERNAL', `internal invariant failed: ${message()}`);
}
