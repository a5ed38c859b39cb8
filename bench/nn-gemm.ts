/**
 * bench:gemm — GFLOP/s of the engine's packed SIMD GEMM (build/nn.wasm, one thread) on the shapes our models
 * use, beside tfjs-wasm's matMul (XNNPACK, same transposes, 1 thread) measured in the same run, and beside
 * this machine's single-core peak for 128-bit SIMD without FMA.
 *
 * Peak: Zen 4/5 cores issue two 128-bit float multiplies (FMA pipes) and two float adds per cycle, so a mul + add
 * stream does 2 × 4 multiplies + 2 × 4 adds = 16 flop/cycle; peak = 16 × clock, the clock taken from
 * /proc/cpuinfo ("cpu MHz", the nominal TSC clock in this VM; boost clocks would raise it).
 *
 * Usage: npm run bench:gemm [-- --seconds 0.3 --only mlp]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { tf, useBackend } from '../test/support/tfjs/tf.js';
import { createWasmKernels } from '../src/nn/kernels/wasm/index.js';
import { createRng } from '../src/core/rng.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const SECONDS = Number(flag('seconds', '0.3'));
const ONLY = flag('only', '');

interface Shape {
  group: string;
  name: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const shape = (group: string, name: string, m: number, n: number, k: number, transA = false, transB = false): Shape => ({ group, name, m, n, k, transA, transB });

/** Linear weights are [out, in] (PyTorch layout): forward x·Wᵀ, dW = dZᵀ·x, dX = dZ·W. */
function mlpShapes(batch: number): Shape[] {
  const g = `mlp b${batch}`;
  return [
    shape(g, 'fwd 784→100', batch, 100, 784, false, true),
    shape(g, 'fwd 100→100', batch, 100, 100, false, true),
    shape(g, 'fwd 100→10', batch, 10, 100, false, true),
    shape(g, 'dW 784→100', 100, 784, batch, true, false),
    shape(g, 'dW 100→100', 100, 100, batch, true, false),
    shape(g, 'dW 100→10', 10, 100, batch, true, false),
    shape(g, 'dX 100→100', batch, 100, 100),
    shape(g, 'dX 100→10', batch, 100, 10),
  ];
}

/** AD-NEv baseline autoencoder (25 features × window 10, channels 32/64, kernel 3, strides 1/2), batch 128, im2col rows = batch·length */
const convShapes: Shape[] = [
  shape('ad-nev b128', 'conv1 fwd', 128 * 25, 32, 10 * 3, false, true),
  shape('ad-nev b128', 'conv1 dW', 32, 10 * 3, 128 * 25, true, false),
  shape('ad-nev b128', 'conv2 fwd', 128 * 13, 64, 32 * 3, false, true),
  shape('ad-nev b128', 'conv2 dW', 64, 32 * 3, 128 * 13, true, false),
  shape('ad-nev b128', 'conv2 dCols', 128 * 13, 32 * 3, 64),
  shape('ad-nev b128', 'deconv1 fwd', 128 * 13, 32 * 3, 64),
  shape('ad-nev b128', 'deconv2 fwd', 128 * 25, 10 * 3, 32),
];

/** Graph WaveNet, 207 nodes, residual 8 / skip 32 / end 64, batch 16, 13 time steps */
const gwnShapes: Shape[] = [
  shape('gwn 207', 'diffusion A·X', 207, 16 * 8 * 13, 207),
  shape('gwn 207', 'diffusion dX = Aᵀ·dY', 207, 16 * 8 * 13, 207, true, false),
  shape('gwn 207', 'adaptive E1·E2ᵀ', 207, 207, 10, false, true),
  shape('gwn 207', 'mix 56→8', 16 * 207 * 13, 8, 56, false, true),
  shape('gwn 207', 'skip 8→32', 16 * 207, 32, 8, false, true),
  shape('gwn 207', 'end 32→64', 16 * 207, 64, 32, false, true),
];

const shapes = [...mlpShapes(10), ...mlpShapes(64), ...convShapes, ...gwnShapes].filter((s) => s.group.includes(ONLY));

function timeLoop(fn: () => void, finish: () => void = () => {}): number {
  for (let i = 0; i < 3; i++) fn();
  finish();
  let best = Infinity;
  for (let repeat = 0; repeat < 3; repeat++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < (SECONDS * 1000) / 3) {
      for (let i = 0; i < 5; i++) fn();
      calls += 5;
      finish();
      elapsed = performance.now() - start;
    }
    best = Math.min(best, elapsed / 1000 / calls);
  }
  return best;
}

function cpuMHz(): number {
  const match = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match ? Number(match[1]) : NaN;
}

await useBackend('wasm');
const peak = (16 * cpuMHz()) / 1000;
const maxFloats = Math.max(...shapes.map((s) => s.m * s.k + s.k * s.n + s.m * s.n));
const kernels = createWasmKernels(maxFloats + 64);
const rng = createRng('bench-gemm');
for (let i = kernels.base; i < kernels.base + maxFloats; i++) kernels.data[i] = rng.next() * 2 - 1;

console.log(`bench:gemm — ${cpus()[0]?.model}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`single-core 128-bit peak (mul+add, no FMA): 16 flop/cycle × ${cpuMHz().toFixed(0)} MHz = ${peak.toFixed(1)} GFLOP/s`);
console.log('shape                          m      n      k  tA tB   nn GFLOP/s  %peak   tfjs GFLOP/s   nn/tfjs');
for (const s of shapes) {
  const flops = 2 * s.m * s.n * s.k;
  const a = kernels.base;
  const b = a + s.m * s.k;
  const c = b + s.k * s.n;
  const args = { transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a, lda: s.transA ? s.m : s.k, b, ldb: s.transB ? s.k : s.n, beta: 0, c, ldc: s.n };
  const ours = timeLoop(() => kernels.gemm(args));
  const ta = tf.randomUniform(s.transA ? [s.k, s.m] : [s.m, s.k]) as tf.Tensor2D;
  const tb = tf.randomUniform(s.transB ? [s.n, s.k] : [s.k, s.n]) as tf.Tensor2D;
  let last: tf.Tensor | undefined;
  const theirs = timeLoop(
    () => {
      last?.dispose();
      last = tf.matMul(ta, tb, s.transA, s.transB);
    },
    () => void last?.dataSync(),
  );
  last?.dispose();
  ta.dispose();
  tb.dispose();
  const gOurs = flops / ours / 1e9;
  const gTheirs = flops / theirs / 1e9;
  console.log(
    `${`${s.group} ${s.name}`.padEnd(28)} ${String(s.m).padStart(6)} ${String(s.n).padStart(6)} ${String(s.k).padStart(6)}  ${s.transA ? 'T' : '-'}  ${s.transB ? 'T' : '-'}  ${gOurs.toFixed(2).padStart(10)} ${((100 * gOurs) / peak).toFixed(0).padStart(5)}%  ${gTheirs.toFixed(2).padStart(12)}  ${(gOurs / gTheirs).toFixed(2).padStart(8)}×`,
  );
}
