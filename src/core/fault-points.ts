/**
 * Test hook for fault tests: named points in the writers where a test can make this process die (kill -9)
 * or see a full disk. `MODELEVO_FAULT` holds comma-separated `<action>:<point>[@<n>]` rules (action `kill`
 * or `enospc`; `@n` fires at the n-th time the point is reached, default the first). Unset, a point costs one
 * environment lookup. Not a user feature: nothing in normal use sets the variable.
 */

const reached = new Map<string, number>();

export function faultPoint(point: string): void {
  const spec = process.env.MODELEVO_FAULT;
  if (spec === undefined || spec === '') return;
  const count = (reached.get(point) ?? 0) + 1;
  reached.set(point, count);
  for (const rule of spec.split(',')) {
    const match = /^(kill|enospc):([\w.-]+)(?:@(\d+))?$/.exec(rule.trim());
    if (!match || match[2] !== point || Number(match[3] ?? 1) !== count) continue;
    if (match[1] === 'kill') process.kill(process.pid, 'SIGKILL');
    throw Object.assign(new Error(`ENOSPC: no space left on device, write (injected at ${point})`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  }
}

/** Forgets how often each point was reached (for in-process tests that set MODELEVO_FAULT repeatedly). */
export function resetFaultPoints(): void {
  reached.clear();
}
