/**
 * The one place the language-model data split is defined. Windows [0, TEST_WINDOWS) of every text are the
 * test split (the fixture protocol: the first 32 windows of 256 tokens, as in reference-losses.json); the
 * development split starts at TEST_WINDOWS. Fitness sources refuse anything that reaches into the test split.
 */
import { ConfigError } from '../../core/errors.js';

export const TEST_WINDOWS = 32;

export function checkDevelopmentWindows(offset: number): void {
  if (!Number.isInteger(offset) || offset < TEST_WINDOWS) {
    throw new ConfigError(
      [{ path: ['fitness', 'builtin', 'offset'], message: `windows [0, ${TEST_WINDOWS}) are the test split; the development offset must be ≥ ${TEST_WINDOWS}, got ${offset}` }],
      { hint: `use offset: ${TEST_WINDOWS} (the default) or more; the test split is only evaluated for reports, after selection` },
    );
  }
}
