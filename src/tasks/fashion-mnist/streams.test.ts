import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from './idx.js';
import { loadFashionMnist, permutedStream, splitStream, type FashionMnist } from './streams.js';
import { ModelevoError } from '../../core/errors.js';

/** pixel p of image i = (i * 7 + p) % 256, label i % 10 */
function synthetic(n: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) images[i * 784 + p] = (i * 7 + p) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels };
}

function writeDataset(dir: string, gz: boolean): void {
  const wrap = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
  const suffix = gz ? '.gz' : '';
  for (const [prefix, n] of [['train', 60], ['t10k', 30]] as const) {
    const { images, labels } = synthetic(n);
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${suffix}`), wrap(encodeIdx('uint8', [n, 28, 28], images)));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${suffix}`), wrap(encodeIdx('uint8', [n], labels)));
  }
}

function withData(gz: boolean, body: (data: FashionMnist) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fmnist-'));
  try {
    writeDataset(dir, gz);
    body(loadFashionMnist(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('loads gzipped and plain idx files into [0,1] floats and labels', () => {
  for (const gz of [true, false]) {
    withData(gz, (data) => {
      assert.equal(data.train.n, 60);
      assert.equal(data.test.n, 30);
      assert.equal(data.train.x.length, 60 * 784);
      assert.equal(data.train.x[5 * 784 + 3], Math.fround(((5 * 7 + 3) % 256) / 255));
      assert.equal(data.test.y[17], 7);
    });
  }
});

test('a missing folder is a ConfigError with the install hint', () => {
  assert.throws(
    () => loadFashionMnist('/nonexistent/fmnist'),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID' && /apt-get install dataset-fashion-mnist/.test(e.hint ?? ''),
  );
});

/** Pixel p of row i becomes 1000·i + p, so a permuted value names its source row and pixel. */
function coded(data: FashionMnist): FashionMnist {
  const code = (n: number): Float32Array => Float32Array.from({ length: n * 784 }, (_, k) => 1000 * Math.floor(k / 784) + (k % 784));
  return { train: { ...data.train, x: code(data.train.n) }, test: { ...data.test, x: code(data.test.n) } };
}

function checkSinglePermutation(...sets: { x: Float32Array; y: Int32Array; n: number }[]): number[] {
  let permutation: number[] | undefined;
  for (const set of sets) {
    for (let r = 0; r < set.n; r++) {
      const row = [...set.x.subarray(r * 784, (r + 1) * 784)];
      const sourceRow = Math.floor(row[0]! / 1000);
      assert.ok(row.every((v) => Math.floor(v / 1000) === sourceRow), 'a row must come from one source image');
      assert.equal(set.y[r], sourceRow % 10);
      const pixels = row.map((v) => v % 1000);
      if (permutation === undefined) permutation = pixels;
      else assert.deepEqual(pixels, permutation);
    }
  }
  assert.deepEqual([...permutation!].sort((a, b) => a - b), Array.from({ length: 784 }, (_, k) => k));
  return permutation!;
}

test('permuted stream: task 0 is the identity, later tasks permute pixels consistently in train and test', () => {
  withData(true, (data) => {
    const stream = permutedStream(data, { seed: 3, trainPerTask: 20, testPerTask: 10, tasks: 4 });
    assert.equal(stream.tasks.length, 4);
    assert.equal(stream.sharedHead, true);
    const identity = stream.tasks[0]!;
    assert.equal(identity.train.n, 20);
    assert.equal(identity.test.n, 10);
    // identity: each row equals some original row (recover the index from pixel 0 = 7i mod 256, i < 60 so 7i < 420)
    const rowOf = (x: Float32Array, r: number): number => {
      for (let i = 0; i < 60; i++) if (x[r * 784] === Math.fround(((i * 7) % 256) / 255) && x[r * 784 + 1] === Math.fround(((i * 7 + 1) % 256) / 255)) return i;
      return -1;
    };
    for (let r = 0; r < identity.train.n; r++) {
      const i = rowOf(identity.train.x, r);
      assert.ok(i >= 0);
      assert.equal(identity.train.y[r], i % 10);
      for (let p = 0; p < 784; p += 97) assert.equal(identity.train.x[r * 784 + p], data.train.x[i * 784 + p]);
    }
    // a permuted task: one fixed bijection of pixels shared by every train and test row
    const codedStream = permutedStream(coded(data), { seed: 3, trainPerTask: 20, testPerTask: 10, tasks: 4 });
    const permutation = checkSinglePermutation(codedStream.tasks[2]!.train, codedStream.tasks[2]!.test);
    const identityOrder = checkSinglePermutation(codedStream.tasks[0]!.train, codedStream.tasks[0]!.test);
    assert.deepEqual(identityOrder, Array.from({ length: 784 }, (_, k) => k));
    const permuted = stream.tasks[2]!;
    assert.ok(permutation.some((source, k) => source !== k), 'task 2 must move pixels');
    const permutation3 = checkSinglePermutation(codedStream.tasks[3]!.train, codedStream.tasks[3]!.test);
    assert.notDeepEqual(permutation3, permutation);
    let moved = 0;
    // same seed reproduces the stream; a different seed changes the permutation
    const again = permutedStream(data, { seed: 3, trainPerTask: 20, testPerTask: 10, tasks: 4 });
    assert.deepEqual(again.tasks[2]!.train.x, permuted.train.x);
    const other = permutedStream(data, { seed: 4, trainPerTask: 20, testPerTask: 10, tasks: 4 });
    for (let k = 0; k < 784; k++) if (other.tasks[2]!.test.x[k] !== permuted.test.x[k]) moved++;
    assert.ok(moved > 0);
  });
});

test('split stream: 5 tasks of two classes each with the task-incremental class list', () => {
  withData(false, (data) => {
    const stream = splitStream(data, { seed: 1, trainPerTask: Infinity, testPerTask: Infinity });
    assert.equal(stream.sharedHead, false);
    assert.deepEqual(
      stream.tasks.map((t) => t.classes),
      [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]],
    );
    for (const task of stream.tasks) {
      assert.equal(task.train.n, 12); // 60 synthetic images, 6 per class
      assert.equal(task.test.n, 6);
      for (const y of task.train.y) assert.ok(task.classes!.includes(y));
      for (const y of task.test.y) assert.ok(task.classes!.includes(y));
    }
    const limited = splitStream(data, { seed: 1, trainPerTask: 5, testPerTask: 2 });
    assert.equal(limited.tasks[4]!.train.n, 5);
    assert.equal(limited.tasks[4]!.test.n, 2);
  });
});
