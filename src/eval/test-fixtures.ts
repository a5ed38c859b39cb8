/** Test helpers for the evaluator: fixture paths and the stored reference logits/ids (test/fixtures/tiny-llama). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../io/safetensors/reader.js';

export const TINY_LLAMA = join('test', 'fixtures', 'tiny-llama');
export const DOMAINS = ['literature', 'code', 'math'] as const;
export type Domain = (typeof DOMAINS)[number];

export function validationText(domain: Domain): string {
  return readFileSync(join('test', 'fixtures', 'text', `${domain}.val.txt`), 'utf8');
}

export interface ReferenceLogits {
  readonly inputIds: number[];
  /** `[64, vocab]` float32 from transformers */
  readonly logits: Float32Array;
}

/** Reads `<domain>.input_ids` (I64, decoded from raw bytes) and `<domain>.logits` of reference-logits-base. */
export function referenceLogits(domain: Domain): ReferenceLogits {
  const file = SafetensorsFile.open(join(TINY_LLAMA, 'reference-logits-base.safetensors'));
  try {
    const bytes = file.readBytes(`${domain}.input_ids`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const inputIds = Array.from({ length: bytes.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    return { inputIds, logits: file.readFloat32(`${domain}.logits`) };
  } finally {
    file.close();
  }
}

export function referenceLosses(): Record<string, Record<Domain, number>> {
  const parsed = JSON.parse(readFileSync(join(TINY_LLAMA, 'reference-losses.json'), 'utf8')) as {
    losses: Record<string, Record<Domain, number>>;
  };
  return parsed.losses;
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
