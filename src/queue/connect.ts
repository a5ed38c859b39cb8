/**
 * Reaching Redis before any BullMQ object is built (#20). A BullMQ Queue, QueueEvents or Worker created
 * against an unreachable Redis retries forever, and its close()/disconnect() wait for a client that never
 * becomes ready — the process then never exits. So the coordinator, the worker and `queue status` first
 * probe the server with one plain ioredis client, bounded by a timeout, and always disconnect it; only a
 * server that answered gets BullMQ connections. (Outages later on are waited out: see evaluator.ts.)
 */
import { Redis } from 'ioredis';
import { parseQueueUrl, readyWithin, CONNECT_TIMEOUT_MS } from './redis-url.js';

/** Resolves once the server at `url` answers PING (retrying meanwhile); IO_FAILED after `timeoutMs`. */
export async function reachRedis(url: string, timeoutMs: number = CONNECT_TIMEOUT_MS): Promise<void> {
  // disconnectTimeout: a refused socket is destroyed after 100 ms instead of ioredis's 2 s default
  const probe = new Redis({ ...parseQueueUrl(url), lazyConnect: true, disconnectTimeout: 100 });
  probe.on('error', () => undefined); // refused connections are retried until the timeout
  try {
    await readyWithin(
      probe.connect().then(
        () => probe.ping(),
        () => probe.ping(), // the first attempt failed; PING waits in the offline queue for a reconnect
      ),
      url,
      timeoutMs,
    );
  } finally {
    probe.disconnect(); // also stops ioredis's reconnect timer, so nothing is left to keep the process alive
  }
}
