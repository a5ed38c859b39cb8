/**
 * Byte sizes as users type them (`--out-shard-size 500M`) and as humans read them. Suffixes are decimal, as in
 * mergekit's `parse_kmb` (merge-methods.md §5): k/K = 10³, M = 10⁶, B/G = 10⁹. `B` means billion, not bytes.
 */
import { ModelevoError } from '../core/errors.js';

const SUFFIX_MULTIPLIERS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  B: 1e9,
  G: 1e9,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kKMBG]?)$/;

/** Parses `'5B' | '500M' | '2k' | '1000' | '1.5G'` into a positive whole number of bytes. */
export function parseByteSize(text: string, what = 'size'): number {
  const trimmed = text.trim();
  const match = SIZE_PATTERN.exec(trimmed);
  const fail = (why: string): never => {
    throw new ModelevoError('VALUE_INVALID', `invalid ${what} '${text}': ${why}`, {
      hint: "write a whole number of bytes with an optional decimal suffix k/K (10³), M (10⁶), B or G (10⁹), e.g. '500M' or '5B'",
      details: { value: text },
    });
  };
  if (!match) return fail('expected digits followed by an optional suffix k, K, M, B or G');
  const multiplier = SUFFIX_MULTIPLIERS[match[2] ?? ''];
  if (multiplier === undefined) return fail(`unknown suffix '${match[2]}'`);
  const bytes = Math.round(Number(match[1]) * multiplier);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return fail(`expected a positive size, got ${bytes} bytes`);
  return bytes;
}

/** `1234567` → `'1.23 MB'` (decimal units, matching the parser). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const { digits, unit } = scaleByThousands(bytes, ['kB', 'MB', 'GB', 'TB', 'PB']);
  return `${digits} ${unit}`;
}

/** `1000576` → `'1.00M'`; parameter counts are read in powers of ten too. */
export function formatCount(count: number): string {
  if (count < 1000) return String(count);
  const { digits, unit } = scaleByThousands(count, ['K', 'M', 'B', 'T']);
  return `${digits}${unit}`;
}

/** Divides by 1000 per unit until below 1000 (or out of units); three significant digits. */
function scaleByThousands(amount: number, units: readonly string[]): { digits: string; unit: string } {
  let value = amount;
  let unit = '';
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return { digits: value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2), unit };
}
