/**
 * bench:tv-budget's native bound for dare_ties (issue #16): compiles bench/dare-ties-bound.cpp twice — with
 * `-msse4.1` (128-bit vectors only, the width wasm SIMD has) and with `-march=native` (also 256 and 512 bits on
 * this machine) — runs both on the same raw blocks the wasm kernels were timed on, and returns per binary and
 * width the ns per output element of LOAD and FINAL with the norms and output bytes they computed, for the caller
 * to check against our kernels' (same bits expected).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NativeDareRun {
  /** the compiler's target flag */
  isa: string;
  /** float lanes per vector: 4, 8 or 16 */
  width: number;
  load: number;
  final: number;
  /** blocks × 3 models × {Σ|δ|, Σ|kept δ|} */
  norms: Float64Array;
  /** the encoded bfloat16 output of every block */
  out: Uint16Array;
}

/**
 * raws: for each of base, ft-1, ft-2, ft-3 its `count` blocks of n bfloat16 elements side by side; starts: each
 * block's global index of element 0; factors: the three models' l1 factors for FINAL (weights and λ are 1)
 */
export function runNativeDare(work: string, raws: Uint8Array[], n: number, count: number, starts: number[], factors: number[]): NativeDareRun[] {
  const dir = mkdtempSync(join(work, 'dare-native-'));
  try {
    const blocks = join(dir, 'blocks.bin');
    writeFileSync(blocks, Buffer.concat(raws));
    writeFileSync(join(dir, 'starts.bin'), new Uint32Array(starts));
    writeFileSync(join(dir, 'factors.bin'), new Float64Array(factors));
    const source = new URL('../dare-ties-bound.cpp', import.meta.url).pathname;
    const runs: NativeDareRun[] = [];
    for (const isa of ['-msse4.1', '-march=native']) {
      const binary = join(dir, `bound${isa.replace(/[^a-z0-9]/g, '')}`);
      execFileSync('g++', ['-O3', isa, '-Wno-psabi', '-o', binary, source]);
      const lines = execFileSync(binary, [blocks, String(n), String(count), join(dir, 'starts.bin'), join(dir, 'factors.bin'), dir], { encoding: 'utf8' });
      for (const line of lines.trim().split('\n')) {
        const r = JSON.parse(line) as { width: number; load: number; final: number; bad: number };
        const norms = readFileSync(join(dir, `norms-${r.width}.bin`));
        const out = readFileSync(join(dir, `out-${r.width}.bin`));
        runs.push({
          isa,
          width: r.width,
          load: r.load,
          final: r.final,
          norms: new Float64Array(norms.buffer.slice(norms.byteOffset, norms.byteOffset + norms.byteLength)),
          out: new Uint16Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength)),
        });
      }
    }
    return runs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
