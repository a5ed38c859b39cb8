/**
 * bench:della-rank — a lower bound for DELLA on this machine (issue #16). DELLA ranks every row of every task
 * vector by |δ| (merge-methods.md §3.7; equal patterns by index) before it can draw its masks, so the rank of
 * every fine-tune element is work any implementation does. This writes the |δ| float32 bit patterns of two real
 * tensors of the bench family (ft-1 − base: a down_proj, rows of 5632, and a q_proj, rows of 2048), compiles
 * bench/della-rank-bound.cpp with g++ -O3 -march=native (native code, not modelevo's wasm: the fastest form we
 * could write, so a bound for ours), ranks every row with each form on one thread, and prints the cost beside
 * what the issue's 2 GB/s target allows: the family's 3 fine-tunes' elements × ns per element, spread over both
 * cores, against input bytes / 2 GB/s. The default l1 rescale needs only the keep decisions u < p(rank); their
 * rows are timed too (density 0.2, ε 0.15 as bench:merge), by the exact rank and rank-free (bucket bounds of the
 * |δ| patterns, an exact count only where a bucket's rank range straddles the draw's threshold), checked equal.
 *
 *   npm run bench:della-rank -- [--family <dir written by bench:merge --family>] [--layers 2]
 *
 * Without --family a small family is written to a temporary folder (the rows are the same shapes either way).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../src/io/open.js';
import { deltaPatterns } from '../src/merge/fused-cut-bands.js';
import { argValue } from './support/child-run.js';
import { folderBytes, writeFamily } from './support/bf16-family.js';

const TENSORS = ['model.layers.1.mlp.down_proj.weight', 'model.layers.1.self_attn.q_proj.weight'];
const TARGET_GBS = 2;
const CORES = 2;

/** |δ| = |ft − base| float32 bit patterns of one tensor (as the kernels form δ) and its row length */
function rowPatterns(baseDir: string, modelDir: string, name: string): { patterns: Uint32Array; row: number } {
  const base = openCheckpoint(baseDir);
  const model = openCheckpoint(modelDir);
  try {
    const shape = base.info(name).shape;
    return { patterns: deltaPatterns(base.readFloat32(name), model.readFloat32(name)), row: shape[shape.length - 1]! };
  } finally {
    base.close();
    model.close();
  }
}

const work = mkdtempSync(join(tmpdir(), 'modelevo-della-rank-'));
try {
  const kept = argValue('--family');
  const family = kept ?? join(work, 'family');
  const folders = kept !== undefined && existsSync(join(kept, 'ft-3', 'config.json')) ? ['base', 'ft-1', 'ft-2', 'ft-3'].map((n) => join(family, n)) : writeFamily(family, Number(argValue('--layers') ?? 2));
  const args: string[] = [];
  for (const name of TENSORS) {
    const { patterns, row } = rowPatterns(folders[0]!, folders[1]!, name);
    const file = join(work, `${name}.bin`);
    writeFileSync(file, patterns);
    args.push(file, String(row));
  }
  const binary = join(work, 'della-rank-bound');
  execFileSync('g++', ['-O3', '-march=native', '-o', binary, new URL('./della-rank-bound.cpp', import.meta.url).pathname]);
  const results = execFileSync(binary, args, { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; row: number; rows: number; form: string; ns: number; kept?: number; exactPerRow?: number });
  // the 22-layer family of bench:merge: 4 models of bf16; DELLA ranks the 3 fine-tunes' elements
  const modelBytes = kept !== undefined ? folderBytes(folders[0]!) : 2.2e9;
  const fineTuneElements = (3 * modelBytes) / 2;
  const allowed = (4 * modelBytes) / 1e9 / TARGET_GBS;
  console.log(`family: ${kept ?? '(22-layer sizes assumed)'}; 3 fine-tunes = ${(fineTuneElements / 1e9).toFixed(2)} G elements; ${TARGET_GBS} GB/s allows ${allowed.toFixed(2)} s for ${((4 * modelBytes) / 1e9).toFixed(2)} GB`);
  console.log('| tensor rows | form (native, one thread) | ns per element | alone on both cores, s | its share of the 2 GB/s budget | kept | exact counts per row |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const seconds = (fineTuneElements * r.ns) / 1e9 / CORES;
    const kept = r.kept === undefined ? '–' : `${(100 * r.kept).toFixed(2)}%`;
    const exact = r.exactPerRow === undefined || r.exactPerRow === 0 ? '–' : r.exactPerRow.toFixed(1);
    console.log(`| ${r.rows} × ${r.row} | ${r.form} | ${r.ns.toFixed(2)} | ${seconds.toFixed(1)} | ${((100 * seconds) / allowed).toFixed(0)}% | ${kept} | ${exact} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
