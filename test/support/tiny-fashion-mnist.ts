/**
 * A tiny Fashion-MNIST look-alike in the real idx format, for tests of `continual run`: class c lights up a
 * 6-row band of the 28×28 image, plus seeded noise, so every split-fmnist two-class task is easy to learn.
 * Shared by the continual command's tests and the dashboard's continual fixture run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../../src/core/rng.js';
import { encodeIdx } from '../../src/tasks/fashion-mnist/idx.js';

/**
 * Writes train (200 images) and t10k (100 images) idx files into `dir`. A fainter band under more noise
 * (`band`, `noise`: grey levels) makes the tasks hard enough to show forgetting.
 */
export function writeTinyFashionMnist(dir: string, { band = 200, noise = 40 }: { band?: number; noise?: number } = {}): void {
  for (const [prefix, n] of [['train', 200], ['t10k', 100]] as const) {
    const rng = createRng('tiny-fmnist', prefix);
    const images = new Uint8Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 10;
      for (let p = 0; p < 784; p++) {
        const lit = Math.floor(p / 28) % 10 === labels[i]! ? band : 0;
        images[i * 784 + p] = Math.min(255, lit + Math.floor(noise * rng.next()));
      }
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx('uint8', [n, 28, 28], images));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx('uint8', [n], labels));
  }
}
