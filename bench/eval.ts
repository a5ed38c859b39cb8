/**
 * bench:eval — forward throughput of the built-in Llama evaluator (src/eval) on the tiny-llama `base` fixture:
 * one batch of 8 windows × 256 tokens of the code validation text, scored as next-token losses, beside a
 * PyTorch forward pass of the same model (bench/eval_torch.py, plain torch modules) in the same run.
 * tokens/s = tokens in the batch / wall seconds of one full batch (best and median of --repeats).
 *
 * Usage: npm run bench:eval [-- --repeats 7 --skip-torch]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaModel } from '../src/eval/llama-model.js';
import { evaluationWindows, summariseLosses } from '../src/eval/lm-eval.js';
import { LmTokenizer } from '../src/eval/tokenizer.js';
import { openCheckpoint } from '../src/io/open.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const REPEATS = flag('repeats', 5);
const BATCH = 8;
const WINDOW = 256;
const MODEL = join('test', 'fixtures', 'tiny-llama', 'base');

interface Row {
  label: string;
  best: number;
  median: number;
  loss: number;
}

function stats(rates: number[]): { best: number; median: number } {
  const sorted = [...rates].sort((a, b) => a - b);
  return { best: sorted.at(-1)!, median: sorted[Math.floor(sorted.length / 2)]! };
}

async function ours(windows: Int32Array[], threads: number): Promise<Row> {
  const checkpoint = openCheckpoint(MODEL);
  const model = await LlamaModel.fromCheckpoint(checkpoint, { threads });
  checkpoint.close();
  try {
    await model.windowLosses(windows); // warm-up (wasm compile, caches)
    const rates: number[] = [];
    let loss = NaN;
    for (let r = 0; r < REPEATS; r++) {
      const started = performance.now();
      const losses = await model.windowLosses(windows);
      rates.push((BATCH * WINDOW) / ((performance.now() - started) / 1000));
      loss = summariseLosses(losses).loss;
    }
    return { label: `modelevo (tfjs-wasm, ${threads <= 1 ? 'main thread' : `${threads} workers`})`, ...stats(rates), loss };
  } finally {
    await model.close();
  }
}

function torchBaseline(windows: Int32Array[], threads: number): Row | string {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-bench-eval-'));
  try {
    const idsPath = join(dir, 'ids.json');
    writeFileSync(idsPath, JSON.stringify(windows.map((w) => Array.from(w))));
    const script = new URL('./eval_torch.py', import.meta.url).pathname;
    const result = spawnSync('/usr/bin/python3', [script, '--model', MODEL, '--ids', idsPath, '--threads', String(threads), '--repeats', String(REPEATS)], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(threads) },
      encoding: 'utf8',
    });
    if (result.status !== 0) return `PyTorch baseline failed: ${result.stderr.trim().split('\n').at(-1) ?? result.error?.message}`;
    const parsed = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      tokens_per_second: number;
      median_tokens_per_second: number;
      loss: number;
      threads: number;
      torch: string;
    };
    return {
      label: `PyTorch ${parsed.torch} (${parsed.threads} threads, OpenBLAS 1 thread)`,
      best: parsed.tokens_per_second,
      median: parsed.median_tokens_per_second,
      loss: parsed.loss,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const tokenizer = LmTokenizer.fromFolder(MODEL);
  const ids = tokenizer.encode(readFileSync(join('test', 'fixtures', 'text', 'code.val.txt'), 'utf8'));
  const windows = evaluationWindows(ids, { window: WINDOW, windows: BATCH }, { label: 'code', maxPositions: WINDOW });
  console.log(`bench:eval — tiny-llama base, batch ${BATCH}×${WINDOW} tokens of code.val, ${REPEATS} repeats`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  const rows: Row[] = [await ours(windows, 1), await ours(windows, 2)];
  // the baseline is 2 torch threads (engines.md §7); 1 thread is shown because 2 threads degrade badly when
  // other processes compete for the two cores (compare the load average printed below)
  const torch = args.includes('--skip-torch') ? 'PyTorch skipped (--skip-torch)' : torchBaseline(windows, 2);
  if (typeof torch !== 'string') rows.push(torch);
  if (typeof torch !== 'string') {
    const single = torchBaseline(windows, 1);
    if (typeof single !== 'string') rows.push(single);
  }
  const reference = typeof torch === 'string' ? undefined : torch;
  const header = ['engine', 'best tok/s', 'median tok/s', 'vs PyTorch 2T (median)', 'batch loss'];
  const cells = rows.map((r) => [
    r.label,
    r.best.toFixed(0),
    r.median.toFixed(0),
    reference ? `${(r.median / reference.median).toFixed(2)}×` : '–',
    r.loss.toFixed(6),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  for (const line of [header, ...cells]) console.log(line.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  if (typeof torch === 'string') console.log(torch);
  console.log(`load average after the run (1/5/15 min): ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
