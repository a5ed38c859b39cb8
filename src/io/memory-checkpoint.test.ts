import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelevoError } from '../core/errors.js';
import { MemoryCheckpoint } from './memory-checkpoint.js';

test('an in-memory checkpoint returns its tensors, infos and float32 values', () => {
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff]); // 1, -2, 65504
  const ckpt = new MemoryCheckpoint(
    [
      ['a', { dtype: 'F16', shape: [3], data: new Uint8Array(f16.buffer) }],
      ['b', { dtype: 'I32', shape: [], data: new Uint8Array(new Int32Array([-7]).buffer) }],
    ],
    { source: 'mem', config: { model_type: 'x' } },
  );
  assert.deepEqual(ckpt.names(), ['a', 'b']);
  assert.deepEqual(ckpt.info('a'), { name: 'a', dtype: 'F16', shape: [3], byteLength: 6 });
  assert.deepEqual([...ckpt.readFloat32('a')], [1, -2, 65504]);
  assert.deepEqual([...ckpt.readFloat32('b')], [-7]);
  assert.equal(ckpt.config?.model_type, 'x');
  const bytes = ckpt.readBytes('a');
  bytes[0] = 0xff;
  assert.equal(ckpt.readBytes('a')[0], 0x00, 'readBytes returns a copy');
  const fromNumbers = MemoryCheckpoint.fromFloat32({ w: { shape: [2, 2], values: [1, 2, 3, 0.5] } });
  assert.deepEqual([...fromNumbers.readFloat32('w')], [1, 2, 3, 0.5]);
  assert.equal(fromNumbers.info('w').byteLength, 16);
});

test('wrong byte lengths, unknown names and reads after close are typed errors', () => {
  assert.throws(
    () => new MemoryCheckpoint([['w', { dtype: 'F32', shape: [2, 3], data: new Uint8Array(20) }]], { source: 'mem' }),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CHECKPOINT_INVALID' && /20 bytes/.test(e.message) && /needs 24 bytes/.test(e.message) && /'w'/.test(e.message),
  );
  const ckpt = MemoryCheckpoint.fromFloat32({ w: { shape: [1], values: [1] } });
  assert.throws(() => ckpt.info('v'), (e: unknown) => e instanceof ModelevoError && e.code === 'TENSOR_NOT_FOUND' && /'v'/.test(e.message));
  ckpt.close();
  assert.throws(() => ckpt.readBytes('w'), (e: unknown) => e instanceof ModelevoError && e.code === 'IO_FAILED');
});
