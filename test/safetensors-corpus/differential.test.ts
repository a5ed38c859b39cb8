// Differential test: for every header of the checked-in corpus (generate.ts, verdicts written from the format
// specification's rules), the reader accepts exactly what the specification accepts, except where modelevo is
// documented to be stricter (it then rejects). Rejections must be typed CheckpointErrors with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/core/errors.js';
import { parseSafetensorsHeader, readHeaderLength } from '../../src/io/safetensors/header.js';
import type { CorpusCase } from './generate.js';

const corpus = JSON.parse(readFileSync(join(import.meta.dirname, 'corpus.json'), 'utf8')) as CorpusCase[];

function fileOf(c: CorpusCase): Uint8Array {
  const header = new TextEncoder().encode(c.header);
  const bytes = new Uint8Array(8 + header.length + c.dataBytes);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  return bytes;
}

function verdictOf(bytes: Uint8Array): { verdict: 'accept' | 'reject'; error?: unknown } {
  try {
    const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, 'corpus.safetensors');
    parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, 'corpus.safetensors');
    return { verdict: 'accept' };
  } catch (error) {
    return { verdict: 'reject', error };
  }
}

test('corpus holds at least 500 headers covering every rule, both verdicts', () => {
  assert.ok(corpus.length >= 500, `${corpus.length} cases`);
  assert.ok(corpus.filter((c) => c.verdict === 'accept').length >= 100);
  assert.ok(corpus.filter((c) => c.verdict === 'reject').length >= 300);
});

test('the reader agrees with the specification on every corpus header', () => {
  const disagreements: string[] = [];
  for (const c of corpus) {
    const ours = verdictOf(fileOf(c));
    if (ours.error !== undefined && !(ours.error instanceof CheckpointError && ours.error.reason !== undefined)) {
      disagreements.push(`${c.id}: untyped failure ${String(ours.error)}`);
      continue;
    }
    const expected = c.stricter ? 'reject' : c.verdict;
    if (ours.verdict !== expected) {
      disagreements.push(`${c.id} (${c.rule}): specification ${c.verdict}, reader ${ours.verdict}${ours.error ? ` (${(ours.error as Error).message})` : ''}`);
    }
  }
  assert.deepEqual(disagreements, []);
});
