/**
 * Exit statuses of the `modelevo` command, one table for every error (README "Exit codes"):
 * 0 ok · 2 usage or configuration error · 3 input data error · 4 I/O error · 70 internal bug (EX_SOFTWARE).
 * An error's status comes from its code in EXIT_STATUS_BY_CODE; a code not in the table (new codes are added
 * by other areas) falls back to its class (ConfigError → 2, CheckpointError/ShapeMismatchError → 3), then to
 * its cause (a Node system error such as ENOENT/ENOSPC/EACCES → 4), then to 3: a ModelevoError is by
 * construction about the user's input, never a bug; only INTERNAL and non-modelevo exceptions mean 70.
 */
import { CheckpointError, ConfigError, ModelevoError, ShapeMismatchError, UnknownNameError, type ErrorCode } from './errors.js';

export const EXIT_STATUS = { ok: 0, usage: 2, inputData: 3, io: 4, internal: 70 } as const;
export type ExitStatus = (typeof EXIT_STATUS)[keyof typeof EXIT_STATUS];

export const EXIT_STATUS_BY_CODE: Partial<Record<ErrorCode, ExitStatus>> = {
  CONFIG_INVALID: EXIT_STATUS.usage,
  CONFIG_NOT_FOUND: EXIT_STATUS.usage,
  UNKNOWN_NAME: EXIT_STATUS.usage,
  VALUE_INVALID: EXIT_STATUS.usage,
  CHECKPOINT_INVALID: EXIT_STATUS.inputData,
  CHECKPOINT_NOT_FOUND: EXIT_STATUS.inputData,
  CHECKPOINT_UNSUPPORTED: EXIT_STATUS.inputData,
  DTYPE_UNSUPPORTED: EXIT_STATUS.inputData,
  SHAPE_MISMATCH: EXIT_STATUS.inputData,
  TENSOR_NOT_FOUND: EXIT_STATUS.inputData,
  ADAPTER_INVALID: EXIT_STATUS.inputData,
  ADAPTER_MISMATCH: EXIT_STATUS.inputData,
  MODELS_UNRELATED: EXIT_STATUS.inputData,
  STRATEGY_FAILED: EXIT_STATUS.inputData,
  IO_FAILED: EXIT_STATUS.io,
  MEMORY_EXHAUSTED: EXIT_STATUS.io,
  KERNEL_UNAVAILABLE: EXIT_STATUS.io,
  INTERNAL: EXIT_STATUS.internal,
};

/** Node's system errors (fs, child processes) carry a string `code` like ENOENT and a `syscall`. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code!);
}

export function exitStatusFor(error: unknown): ExitStatus {
  if (error instanceof ModelevoError) {
    const byCode = EXIT_STATUS_BY_CODE[error.code];
    if (byCode !== undefined) return byCode;
    if (error instanceof ConfigError || error instanceof UnknownNameError) return EXIT_STATUS.usage;
    if (error instanceof CheckpointError || error instanceof ShapeMismatchError) return EXIT_STATUS.inputData;
    if (isSystemError(error.cause)) return EXIT_STATUS.io;
    return EXIT_STATUS.inputData;
  }
  // an fs error that escaped a command (disk full, permission denied) is an environment problem, not a bug
  if (isSystemError(error)) return EXIT_STATUS.io;
  return EXIT_STATUS.internal;
}
