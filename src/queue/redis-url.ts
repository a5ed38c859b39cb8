/**
 * `--queue redis://[user:password@]host:port[/db]` (#20). The URL may carry a password, which must never reach
 * a log line, an error message or a run manifest: everything that shows the URL shows `redactQueueUrl(url)`.
 */
import { ModelevoError } from '../core/errors.js';

export interface RedisConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: Record<string, never>;
  /** BullMQ's blocking commands need ioredis to retry forever instead of failing a command after N tries */
  readonly maxRetriesPerRequest: null;
}

/** The URL with any password replaced by `***` (the user name stays: it is not a secret). Never throws. */
export function redactQueueUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    // not a URL at all: hide everything up to the last '@', where a password would sit
    return url.replace(/^.*@/, '***@');
  }
}

function invalidUrl(url: string, why: string): ModelevoError {
  return new ModelevoError('VALUE_INVALID', `--queue: expected redis://[user:password@]host:port[/db], got '${redactQueueUrl(url)}' (${why})`, {
    hint: 'e.g. --queue redis://127.0.0.1:6379/0 (rediss:// for TLS)',
    details: { url: redactQueueUrl(url) },
  });
}

export function parseQueueUrl(url: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(url, 'not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalidUrl(url, `scheme '${parsed.protocol}'`);
  if (!parsed.hostname) throw invalidUrl(url, 'no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw invalidUrl(url, `database '${dbText}' is not an integer ≥ 0`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** How long a coordinator or worker waits for Redis at start before it gives up (later outages are waited out). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Waits for `ready` (connections that retry forever) at most `timeoutMs`; then an IO_FAILED error that names
 * the redacted URL. Redis down at start is a configuration problem; Redis down later is an outage to wait out.
 */
export async function readyWithin(ready: Promise<unknown>, url: string, timeoutMs: number = CONNECT_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ModelevoError('IO_FAILED', `no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    throw new ModelevoError('IO_FAILED', `cannot reach the queue at ${redactQueueUrl(url)}: ${(error as Error).message}`, {
      hint: 'start redis-server there, or check host, port and password',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
