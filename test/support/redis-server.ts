/**
 * A real redis-server for integration tests (#20): its own free loopback port and its own temp data folder,
 * so tests never share state with each other or with a Redis the machine may run. `withRedisServer` always
 * stops the server and removes the folder, whether the body passed or threw.
 *
 * Persistence: 'none' (no RDB, no AOF; fastest) or 'aof' (append-only file fsynced on every write), which the
 * Redis-restart test needs so the queue's jobs survive `restart()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RedisPersistence = 'none' | 'aof';

export interface RedisServerOptions {
  readonly persistence?: RedisPersistence;
  /** requirepass; the URL then carries it (tests of the redaction helper) */
  readonly password?: string;
  /** how long to wait for "Ready to accept connections" (ms) */
  readonly readyTimeoutMs?: number;
}

export interface RedisServerHandle {
  readonly port: number;
  readonly dir: string;
  /** redis://[:password@]127.0.0.1:port */
  readonly url: string;
  /** stops the server (SIGTERM, then SIGKILL after 5 s) and starts it again on the same port and folder */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A port the OS just handed out on 127.0.0.1 (free at this instant; redis-server binds it right after). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', '', '--logfile', ''];
  if (options.persistence === 'aof') args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  if (options.password !== undefined) args.push('--requirepass', options.password);
  return args;
}

/** Resolves when the server logs that it accepts connections; rejects if it exits or the timeout passes. */
function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`redis-server not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolveReady();
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-redis-'));
  const port = await freeLoopbackPort();
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const started = spawn('redis-server', serverArgs(port, dir, options), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    // drain stderr so a chatty server never blocks on a full pipe
    started.stderr?.resume();
    try {
      await waitReady(started, options.readyTimeoutMs ?? 10_000);
    } catch (error) {
      await stopChild(started);
      throw error;
    }
    // keep draining stdout after the ready line
    started.stdout?.resume();
  };
  try {
    await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    dir,
    url: `redis://${auth}127.0.0.1:${port}`,
    async restart() {
      if (child) await stopChild(child);
      await launch();
    },
    async stop() {
      if (child) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` against a fresh server; the server is stopped and its folder removed afterwards. */
export async function withRedisServer<T>(body: (server: RedisServerHandle) => Promise<T>, options: RedisServerOptions = {}): Promise<T> {
  const server = await startRedisServer(options);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}
