import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelevoError } from '../core/errors.js';
import { parseQueueUrl, redactQueueUrl } from './redis-url.js';

test('parseQueueUrl: host, port, db, user and password (percent-decoded); defaults 6379 and db 0', () => {
  assert.deepEqual(parseQueueUrl('redis://127.0.0.1:6380/3'), { host: '127.0.0.1', port: 6380, db: 3, maxRetriesPerRequest: null });
  assert.deepEqual(parseQueueUrl('redis://queue.lan'), { host: 'queue.lan', port: 6379, db: 0, maxRetriesPerRequest: null });
  assert.deepEqual(parseQueueUrl('rediss://ops:p%40ss@h:7000/1'), { host: 'h', port: 7000, db: 1, username: 'ops', password: 'p@ss', tls: {}, maxRetriesPerRequest: null });
  assert.deepEqual(parseQueueUrl('redis://:only@[::1]:6379'), { host: '::1', port: 6379, db: 0, password: 'only', maxRetriesPerRequest: null });
});

test('parseQueueUrl refuses other schemes and bad databases without echoing the password', () => {
  for (const url of ['http://:hunter2@h:1', 'redis://:hunter2@h:1/x', 'redis://:hunter2@h:1/-1', 'not a url :hunter2@']) {
    assert.throws(() => parseQueueUrl(url), (error: unknown) => {
      assert.ok(error instanceof ModelevoError);
      assert.equal(error.code, 'VALUE_INVALID');
      assert.ok(!error.message.includes('hunter2'), error.message);
      assert.ok(!JSON.stringify(error.details).includes('hunter2'));
      return true;
    });
  }
});

test('redactQueueUrl hides the password and keeps everything else', () => {
  assert.equal(redactQueueUrl('redis://:s3cret@10.0.0.5:6379/2'), 'redis://:***@10.0.0.5:6379/2');
  assert.equal(redactQueueUrl('redis://ops:s3cret@h:6379'), 'redis://ops:***@h:6379');
  assert.equal(redactQueueUrl('redis://h:6379/0'), 'redis://h:6379/0');
});

test('property: no password (of any characters) survives redaction', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 4, maxLength: 24 }).filter((s) => !'redis://user:***@example.org:6379/0'.includes(s)), (password) => {
      const url = `redis://user:${encodeURIComponent(password)}@example.org:6379/0`;
      const shown = redactQueueUrl(url);
      assert.ok(!shown.includes(password) && !shown.includes(encodeURIComponent(password)), shown);
      assert.equal(parseQueueUrl(url).password, password);
    }),
  );
});
