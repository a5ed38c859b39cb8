/** The test harness's redis-server (test/support/redis-server.ts): own port, own folder, persistence, cleanup. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startRedisServer, withRedisServer } from '../support/redis-server.js';

test('a server answers on its own port; with AOF a value survives restart(); stop() removes its folder', async () => {
  const server = await startRedisServer({ persistence: 'aof' });
  const client = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
  // connection refused while the server restarts is expected; ioredis retries
  client.on('error', () => undefined);
  try {
    await client.connect();
    assert.equal(await client.ping(), 'PONG');
    await client.set('kept', '42');
    await server.restart();
    // ioredis reconnects by itself after the restart
    assert.equal(await client.get('kept'), '42');
  } finally {
    client.disconnect();
    await server.stop();
  }
  assert.equal(existsSync(server.dir), false);
});

test('without persistence, restart() starts empty; two servers never share a port', async () => {
  await withRedisServer(async (first) => {
    await withRedisServer(async (second) => {
      assert.notEqual(first.port, second.port);
      const client = new Redis(first.url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      try {
        await client.set('gone', '1');
        await first.restart();
        assert.equal(await client.get('gone'), null);
      } finally {
        client.disconnect();
      }
    });
  });
});

test('a password server refuses a client without it', async () => {
  await withRedisServer(
    async (server) => {
      assert.match(server.url, /^redis:\/\/:s3cret@127\.0\.0\.1:\d+$/);
      const bare = new Redis(server.url.replace(':s3cret@', ''), { maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
      const authed = new Redis(server.url, { maxRetriesPerRequest: null });
      try {
        await assert.rejects(bare.get('x'), /NOAUTH/);
        assert.equal(await authed.ping(), 'PONG');
      } finally {
        bare.disconnect();
        authed.disconnect();
      }
    },
    { password: 's3cret' },
  );
});
