// Fuzzing the safetensors validation (formats.md §1.2): valid hand-made files broken by one mutation each.
// Every outcome must be a clean parse that satisfies the layout invariants or a typed CheckpointError with a
// `reason` and the file name; anything else (TypeError, RangeError, hang) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { SafetensorsFile } from './reader.js';
import { MUTATION_KINDS, MUST_FAIL, build, caseArb, checkOutcome, parseInMemory } from '../../../test/support/safetensors-fuzz.js';

test('10,000 mutated headers through the pure parser: typed errors or valid layouts, never a crash', { timeout: 60_000 }, () => {
  const counts = new Map<string, number>();
  fc.assert(
    fc.property(caseArb, (c) => {
      const { bytes, expected, accept } = build(c);
      const parsed = checkOutcome(() => parseInMemory(bytes, 'fuzz.safetensors'), bytes.length, 'fuzz.safetensors', expected, accept);
      const key = `${c.mutation.kind}:${parsed ? 'accepted' : 'rejected'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }),
    { numRuns: 10_000, seed: 424242 },
  );
  // the mutations that must always fail did, and the generator reached every kind
  for (const kind of MUST_FAIL) assert.equal(counts.get(`${kind}:accepted`), undefined);
  for (const kind of MUTATION_KINDS.filter((k) => k !== 'nan')) {
    assert.ok((counts.get(`${kind}:rejected`) ?? 0) > 30, `${kind} rejected ${counts.get(`${kind}:rejected`)} times`);
  }
  // NaN data and shallow unknown fields are accepted, as the format says
  assert.ok((counts.get('nan:accepted') ?? 0) > 100 && (counts.get('deep:accepted') ?? 0) > 30, JSON.stringify([...counts]));
});

test('2,000 mutated files on disk through SafetensorsFile.open and full reads', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-st-fuzz-'));
  const path = join(dir, 'case.safetensors');
  let accepted = 0;
  try {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { bytes, expected, accept } = build(c);
        writeFileSync(path, bytes);
        let file: SafetensorsFile | undefined;
        checkOutcome(
          () => {
            file = SafetensorsFile.open(path);
            return { metadata: file.metadata, entries: new Map(file.names().map((n) => [n, file!.entry(n)])), dataLength: file.fileSize - file.dataStart };
          },
          bytes.length,
          path,
          expected,
          accept,
        );
        if (file === undefined) return;
        try {
          accepted++;
          let total = 0;
          for (const name of file.names()) {
            const entry = file.entry(name);
            const data = file.readBytes(name);
            total += data.length;
            assert.deepEqual(data, bytes.subarray(file.dataStart + entry.begin, file.dataStart + entry.end));
            const values = file.readFloat32(name);
            assert.equal(values.length, entry.shape.reduce((a, b) => a * b, 1));
          }
          // reads never exceed what the file holds
          assert.ok(total <= bytes.length - file.dataStart);
        } finally {
          file.close();
        }
      }),
      { numRuns: 2_000, seed: 1717 },
    );
    assert.ok(accepted > 20, `only ${accepted} files were valid after mutation`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
