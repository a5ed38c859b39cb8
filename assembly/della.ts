// dellaRows: DELLA MagPrune over whole rows (merge-methods.md §3.6 "della_magprune"; src/merge/sparsify.ts is the
// reference, bit for bit): each row's entries ranked by ascending |x| (a stable LSD radix sort), keep odds linear
// in the rank, the counter-based draw of each element's global index (src/core/counter-rng.ts). Without the
// inverse_density rescale a kept entry stays x, and della-l1.ts decides rows without ranking them.

import { counterDraw } from './sparsify';
import { dellaL1Applies, dellaL1ScratchBytes, dellaRowL1, draw4, keepOdds } from './della-l1';

const ABS: u32 = 0x7fffffff;

// the three digits of a 31-bit |x| pattern of dellaRows' radix sort: 11, 10 and 10 bits
const DIGIT0_BINS: i32 = 2048;
const DIGIT_BINS: i32 = 1024;
const HISTOGRAM_BYTES: usize = <usize>(DIGIT0_BINS + 2 * DIGIT_BINS) << 2;

/** Scratch bytes dellaRows needs for rows of `rowLength` elements. */
export function dellaScratchBytes(rowLength: i32): i32 {
  return max(28 * rowLength + <i32>HISTOGRAM_BYTES, dellaL1ScratchBytes(rowLength));
}

// a digit's bins turned into first positions (exclusive prefix sum); returns the largest bin's count (n: every
// key shares the digit, the pass would not move anything, and the bins are left as counts)
// @ts-ignore: decorator
@inline
function firstPositions(bins: usize, count: i32, n: u32): u32 {
  let total: u32 = 0;
  let largest: u32 = 0;
  for (let d = 0; d < count; d++) {
    const c = bins + (<usize>d << 2);
    const entries = load<u32>(c);
    if (entries == n) return n;
    largest = max(largest, entries);
    store<u32>(c, total);
    total += entries;
  }
  return largest;
}

// one radix pass when most keys share one digit: the position counter held in a register while the digit repeats
// @ts-ignore: decorator
@inline
function scatterRuns(pairs: usize, pairsOut: usize, n: i32, bins: usize, shift: u64, mask: u64): void {
  let held = <u32>((load<u64>(pairs) >> shift) & mask);
  let at = load<u32>(bins + (<usize>held << 2));
  for (let j = 0; j < n; j++) {
    const pair = load<u64>(pairs + (<usize>j << 3));
    const digit = <u32>((pair >> shift) & mask);
    if (digit != held) {
      store<u32>(bins + (<usize>held << 2), at);
      held = digit;
      at = load<u32>(bins + (<usize>digit << 2));
    }
    store<u64>(pairsOut + (<usize>at << 3), pair);
    at++;
  }
  store<u32>(bins + (<usize>held << 2), at);
}

/**
 * The ascending rank of every entry of a row by |x| bits, equal bits by index (a stable LSD radix sort of
 * (bits, index) pairs packed in 64 bits: 11-, 10- and 10-bit digits, all three counted in one pass, a digit
 * every key shares skipped). Returns the address of the u32 ranks (inside scratch), rank[j] for entry j.
 */
function ascendingRanks(row: usize, n: i32, scratch: usize): usize {
  let pairs = scratch;
  let pairsOut = pairs + (<usize>n << 3);
  const ranks = pairsOut + (<usize>n << 3);
  // (the keep odds of dellaRows follow the bins)
  const bins0 = ranks + (<usize>n << 2);
  const bins1 = bins0 + (<usize>DIGIT0_BINS << 2);
  const bins2 = bins1 + (<usize>DIGIT_BINS << 2);
  memory.fill(bins0, 0, HISTOGRAM_BYTES);
  // the low digit of |δ| formed from 16-bit inputs is nearly always 0: its count is held in a register while the
  // digit repeats (one counter incremented through memory element after element waits on its own last store)
  let held: u32 = load<u32>(row) & 0x7ff;
  let heldCount: u32 = 0;
  for (let j = 0; j < n; j++) {
    const key = load<u32>(row + (<usize>j << 2)) & ABS;
    store<u64>(pairs + (<usize>j << 3), (<u64>key << 32) | <u64>j);
    const d0 = key & 0x7ff;
    if (d0 == held) heldCount++;
    else {
      const c = bins0 + (<usize>held << 2);
      store<u32>(c, load<u32>(c) + heldCount);
      held = d0;
      heldCount = 1;
    }
    const c1 = bins1 + (<usize>((key >> 11) & 0x3ff) << 2);
    store<u32>(c1, load<u32>(c1) + 1);
    const c2 = bins2 + (<usize>(key >> 21) << 2);
    store<u32>(c2, load<u32>(c2) + 1);
  }
  const c0 = bins0 + (<usize>held << 2);
  store<u32>(c0, load<u32>(c0) + heldCount);
  for (let pass = 0; pass < 3; pass++) {
    const bins = pass == 0 ? bins0 : pass == 1 ? bins1 : bins2;
    const largest = firstPositions(bins, pass == 0 ? DIGIT0_BINS : DIGIT_BINS, <u32>n);
    if (largest == <u32>n) continue;
    const shift: u64 = pass == 0 ? 32 : pass == 1 ? 43 : 53;
    const mask: u64 = pass == 0 ? 0x7ff : 0x3ff;
    if (largest > <u32>n >> 1) scatterRuns(pairs, pairsOut, n, bins, shift, mask);
    else {
      for (let j = 0; j < n; j++) {
        const pair = load<u64>(pairs + (<usize>j << 3));
        const c = bins + (<usize>((pair >> shift) & mask) << 2);
        const at = load<u32>(c);
        store<u32>(c, at + 1);
        store<u64>(pairsOut + (<usize>at << 3), pair);
      }
    }
    const t = pairs;
    pairs = pairsOut;
    pairsOut = t;
  }
  for (let r = 0; r < n; r++) store<u32>(ranks + (<usize>(<u32>load<u64>(pairs + (<usize>r << 3))) << 2), <u32>r);
  return ranks;
}

/**
 * DELLA MagPrune over `rows` whole rows of `rowLength` (in place): within a row, the entry of ascending-|x|
 * rank r keeps with p = low + ((high − low)·r)/(rowLength − 1) ((low + high)/2 for one-element rows) when the
 * draw of its global index (indexStart + flat offset) over 2^32 is below p; a kept entry becomes x/p with
 * `inverse`, else stays x; dropped entries become +0.
 */
export function dellaRows(x: usize, rows: i32, rowLength: i32, indexStart: u32, k0: u32, k1: u32, low: f64, high: f64, inverse: i32, scratch: usize): void {
  // every row's keep odds by rank, computed once: p(r) depends on the rank and the row length only
  const odds = scratch + (<usize>rowLength << 4) + (<usize>rowLength << 2) + HISTOGRAM_BYTES;
  for (let r = 0; r < rowLength; r++) store<f64>(odds + (<usize>r << 3), keepOdds(low, high, <u32>r, rowLength));
  const k0v = i32x4.splat(k0);
  const k1v = i32x4.splat(k1);
  // a kept entry stays x: its decision needs no rank (della-l1.ts)
  const rankFree = inverse == 0 && dellaL1Applies(low, high, rowLength);
  for (let row = 0; row < rows; row++) {
    const start = <u32>row * <u32>rowLength;
    const p0 = x + (<usize>start << 2);
    if (rowLength == 1) {
      dellaKeep(p0, 0, (low + high) / 2, indexStart + start, k0, k1, inverse);
      continue;
    }
    if (rankFree && dellaRowL1(p0, rowLength, indexStart + start, k0, k1, low, high, scratch)) continue;
    const ranks = ascendingRanks(p0, rowLength, scratch);
    // in index order, four entries at a time: the draws, their odds by rank, the keep test, all as dellaKeep
    let j = 0;
    let index = i32x4.add(i32x4.splat(indexStart + start), i32x4(0, 1, 2, 3));
    for (; j + 4 <= rowLength; j += 4) {
      const draw = draw4(index, k0v, k1v);
      const rank = ranks + (<usize>j << 2);
      const pLow = f64x2.replace_lane(f64x2.splat(load<f64>(odds + (<usize>load<u32>(rank) << 3))), 1, load<f64>(odds + (<usize>load<u32>(rank, 4) << 3)));
      const pHigh = f64x2.replace_lane(f64x2.splat(load<f64>(odds + (<usize>load<u32>(rank, 8) << 3))), 1, load<f64>(odds + (<usize>load<u32>(rank, 12) << 3)));
      const at = p0 + (<usize>j << 2);
      const value = v128.load(at);
      const low2 = keepPair(draw, pLow, value, inverse);
      const high2 = keepPair(v128.shuffle<u32>(draw, draw, 2, 3, 0, 1), pHigh, v128.shuffle<u32>(value, value, 2, 3, 0, 1), inverse);
      v128.store(at, v128.shuffle<u32>(low2, high2, 0, 1, 4, 5));
      index = i32x4.add(index, i32x4.splat(4));
    }
    for (; j < rowLength; j++) dellaKeep(p0, j, load<f64>(odds + (<usize>load<u32>(ranks + (<usize>j << 2)) << 3)), indexStart + start, k0, k1, inverse);
  }
}

// dellaKeep for the two low lanes of the draws and values with keep odds p: the kept values (float32, low two lanes)
// @ts-ignore: decorator
@inline
function keepPair(draw: v128, p: v128, value: v128, inverse: i32): v128 {
  // u32 → float64 is exact, and so is the scaling by 2^-32: the same u as draw / 2^32
  const u = f64x2.mul(f64x2.convert_low_i32x4_u(draw), f64x2.splat(1.0 / 4294967296.0));
  const keep = f64x2.lt(u, p);
  const kept = inverse != 0 ? f32x4.demote_f64x2_zero(f64x2.div(f64x2.promote_low_f32x4(value), p)) : value;
  // the float64 keep lanes narrowed to the two float32 lanes they stand for
  return v128.and(kept, v128.shuffle<u32>(keep, keep, 0, 2, 0, 2));
}

// @ts-ignore: decorator
@inline
function dellaKeep(row: usize, j: u32, p: f64, rowIndex: u32, k0: u32, k1: u32, inverse: i32): void {
  const at = row + (<usize>j << 2);
  const value = load<f32>(at);
  const u = <f64>counterDraw(rowIndex + j, k0, k1) / 4294967296.0;
  store<f32>(at, u < p ? (inverse != 0 ? <f32>(<f64>value / p) : value) : 0);
}
