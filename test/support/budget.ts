/**
 * Test budgets: `npm test` runs every property at a small budget (few tensors, few evaluations) so the whole
 * suite fits in minutes on two cores; `npm run test:full` sets MODELEVO_TEST_FULL=1 and the same tests run at
 * their full budget (every tensor, the full reference evaluation). CI runs both.
 */
export const FULL_TESTS = process.env['MODELEVO_TEST_FULL'] === '1';

/** `quick` under `npm test`, `full` under `npm run test:full`. */
export function budget<T>(quick: T, full: T): T {
  return FULL_TESTS ? full : quick;
}
