import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../../core/errors.js';
import { writeTinyFashionMnist as writeTinyDataset } from '../../../test/support/tiny-fashion-mnist.js';
import { runContinualCommand } from './continual.js';
import { RunStore } from '../../runs/store.js';
import { readContinualRun } from '../../ui/store-reader.js';

test('continual run --json: accuracy matrices per seed and mean ± std recomputed from them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'continual-cli-'));
  try {
    writeTinyDataset(dir);
    let output = '';
    await runContinualCommand(
      { method: 'gpm', benchmark: 'split-fmnist', seeds: 2, trainPerTask: 40, testPerTask: 20, dataDir: dir, backend: 'cpu', json: true },
      (text) => (output += text),
    );
    const parsed = JSON.parse(output) as {
      method: string;
      acc: { mean: number; std: number };
      bwt: { mean: number; std: number };
      runs: { seed: number; accuracy: number[][]; basisSizes: number[] }[];
    };
    assert.equal(parsed.method, 'gpm');
    assert.deepEqual(parsed.runs.map((r) => r.seed), [0, 1]);
    const accs: number[] = [];
    const bwts: number[] = [];
    for (const run of parsed.runs) {
      assert.equal(run.accuracy.length, 5);
      for (const row of run.accuracy) for (const v of row) assert.ok(v >= 0 && v <= 1);
      const last = run.accuracy[4]!;
      accs.push(last.reduce((a, b) => a + b, 0) / 5);
      bwts.push([0, 1, 2, 3].reduce((a, j) => a + last[j]! - run.accuracy[j]![j]!, 0) / 4);
      assert.equal(run.basisSizes[2], 0, 'the task-incremental head is not projected');
    }
    const mean = (v: number[]): number => (v[0]! + v[1]!) / 2;
    const std = (v: number[]): number => Math.abs(v[0]! - v[1]!) / Math.SQRT2;
    assert.ok(Math.abs(parsed.acc.mean - mean(accs)) < 1e-12);
    assert.ok(Math.abs(parsed.acc.std - std(accs)) < 1e-12);
    assert.ok(Math.abs(parsed.bwt.mean - mean(bwts)) < 1e-12);
    // the bands make every two-class task easy
    assert.ok(parsed.acc.mean > 0.8, `ACC ${parsed.acc.mean}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('continual run rejects an unknown method with a ConfigError naming the key', async () => {
  await assert.rejects(
    runContinualCommand({ method: 'ewc' as 'gpm', benchmark: 'pfmnist', json: true }, () => {}),
    (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID' && /at method/.test(e.message),
  );
});

test('continual run --run-dir stores rows, bases and results; --resume keeps finished seeds without training them again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'continual-run-'));
  try {
    const data = join(dir, 'data');
    const runDir = join(dir, 'run');
    mkdirSync(data);
    writeTinyDataset(data);
    const options = { method: 'gpm', benchmark: 'split-fmnist', seeds: 2, trainPerTask: 40, testPerTask: 20, dataDir: data, backend: 'cpu', json: true, runDir } as const;
    let first = '';
    await runContinualCommand(options, (text) => (first += text));
    const printed = JSON.parse(first) as { runs: { seed: number; accuracy: number[][]; basisSizes: number[]; summary: unknown }[] };

    const { header, seeds } = readContinualRun(runDir);
    assert.equal(header.status, 'finished');
    assert.deepEqual(seeds.map((s) => s.seed), [0, 1]);
    for (const [i, view] of seeds.entries()) {
      assert.deepEqual(view.accuracy, printed.runs[i]!.accuracy, 'stored rows are the printed matrix');
      assert.deepEqual(view.basisSizesPerTask.at(-1), printed.runs[i]!.basisSizes, 'bases after the last task');
      assert.deepEqual(view.summary, printed.runs[i]!.summary);
      // GPM only adds bases: per layer, sizes never shrink from task to task
      for (let t = 1; t < view.basisSizesPerTask.length; t++) for (const [l, n] of view.basisSizesPerTask[t]!.entries()) assert.ok(n >= view.basisSizesPerTask[t - 1]![l]!);
    }
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'artifacts', 'results.json'), 'utf8')), printed);

    // a finished run is not overwritten
    await assert.rejects(runContinualCommand(options, () => {}), (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID' && /finished/.test(e.message));
    // as if killed after both seeds, before the results were written: resume with the data gone must not train
    const store = RunStore.open(runDir);
    store.setStatus('running');
    store.close();
    rmSync(data, { recursive: true });
    let resumed = '';
    await runContinualCommand({ ...options, resume: true }, (text) => (resumed += text));
    assert.deepEqual(JSON.parse(resumed), printed);
    // another configuration is refused on resume
    const again = RunStore.open(runDir);
    again.setStatus('running');
    again.close();
    await assert.rejects(runContinualCommand({ ...options, lr: 0.05, resume: true }, () => {}), (e: unknown) => e instanceof ModelevoError && /differ.*lr/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
