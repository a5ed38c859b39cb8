/**
 * Assertions on thrown ModelevoErrors for tests: the class, the stable `code`, and patterns matched against
 * the message and hint together (so a test can pin text that lives in either).
 */
import assert from 'node:assert/strict';
import { ConfigError, ModelevoError } from '../../src/core/errors.js';

/** Runs `fn`, asserts it threw a ModelevoError with `code` whose "message\nhint: hint" matches every pattern. */
export function expectModelevoError(fn: () => unknown, code: string, ...patterns: RegExp[]): ModelevoError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ModelevoError, `expected a ModelevoError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(`${caught.message}\nhint: ${caught.hint ?? ''}`, p);
  return caught;
}

/** As `expectModelevoError`, and the error also carries a hint of some substance (more than 10 characters). */
export function expectModelevoErrorWithHint(fn: () => unknown, code: string, ...patterns: RegExp[]): ModelevoError {
  const caught = expectModelevoError(fn, code, ...patterns);
  assert.ok((caught.hint ?? '').length > 10, 'error carries a hint');
  return caught;
}

/**
 * Runs `fn`, asserts it threw a CONFIG_INVALID ConfigError, and returns its issues with each path written by
 * `formatIssuePath` (default: keys joined with dots), so tests can compare issues as plain strings.
 */
export function configIssuesOf(
  fn: () => unknown,
  formatIssuePath: (path: readonly (string | number)[]) => string = (path) => path.join('.'),
): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
  }
  assert.fail('expected a ConfigError');
}
