// dellaRowL1: DELLA MagPrune's keep decisions for one row without ranking it, for the l1 rescale (and no rescale),
// where a kept entry stays x: only u < p(rank) matters, not the rank (issue #16; bench:della-rank times the same
// form natively). The decisions, so the bits, are those of dellaRows' ranked path. With t(u) = (u/2^32 − low)·
// (n − 1)/(high − low), the rank u needs to be kept is r > t(u), and p(r) is monotone in r, also as rounded:
// - a draw below ceil(p(0)·2^32) keeps and one at or above ceil(p(n − 1)·2^32) drops, whatever the rank;
// - an entry's rank lies in its bucket's range [C_b, C_b + m_b) (bucket 0: |x| = 0; then the top 15 bits of the
//   31-bit |x| pattern or fewer, from the row's smallest nonzero to its largest): t(u) < C_b keeps, t(u) ≥
//   C_b + m_b − 1 drops, as thresholds on u per bucket (with margins that hold the rounding);
// - the few others count their exact rank over the row (|x| bits, equal bits by index) and compare u with p(r)
//   as dellaRows does.

import { lowbias32x4 } from './sparsify';

const ABS: u32 = 0x7fffffff;
const SIGN: u32 = 0x80000000;
// buckets: |x| patterns ≫ shift, shift from SHIFT (15 bits of the 31) up while a row would have more buckets than
// half its entries (their thresholds cost more than the rarer exact ranks save)
const SHIFT: u32 = 16;
const TABLE_BYTES: i32 = ((1 << 15) + 1) << 3;
// the thresholds hold t to a 2^-10 rank margin; the rounding of t and of p(r) stays below 2^-15 ranks while
// (n − 1)/(high − low) ≤ 2^36; other rows take the ranked path
const MARGIN: f64 = 1.0 / 1024.0;
const STEEPEST: f64 = 68719476736.0;

/** Scratch bytes dellaRowL1 needs for rows of `rowLength` elements. */
export function dellaL1ScratchBytes(rowLength: i32): i32 {
  return 12 * rowLength + TABLE_BYTES;
}

/** Whether dellaRowL1 decides rows of `n` entries and this keep window. */
export function dellaL1Applies(low: f64, high: f64, n: i32): bool {
  return <f64>(n - 1) <= (high - low) * STEEPEST;
}

/** The keep odds of rank r in a row of n, in the float64 order of sparsify.ts rowKeepProbabilities. */
// @ts-ignore: decorator
@inline
export function keepOdds(low: f64, high: f64, r: u32, n: i32): f64 {
  return low + ((high - low) * <f64>r) / <f64>(n - 1);
}

/** The counter-based draws (core/counter-rng.ts) of four global indices. */
// @ts-ignore: decorator
@inline
export function draw4(index: v128, k0v: v128, k1v: v128): v128 {
  return lowbias32x4(i32x4.add(lowbias32x4(v128.xor(index, k0v)), k1v));
}

/**
 * One row of n ≥ 2 entries at p0 (in place): an entry stays x when the draw of rowIndex + j keeps it, else +0.
 * Returns false, with the row unchanged, when the row's top keep odds round up to 2^32 (then the caller ranks it).
 * `scratch`: dellaL1ScratchBytes(n) bytes of the calling thread's own.
 */
export function dellaRowL1(p0: usize, n: i32, rowIndex: u32, k0: u32, k1: u32, low: f64, high: f64, scratch: usize): bool {
  const keys = scratch;
  const draws = keys + (<usize>n << 2);
  const unsure = draws + (<usize>n << 2);
  const table = unsure + (<usize>n << 2);
  const k0v = i32x4.splat(k0);
  const k1v = i32x4.splat(k1);
  // keys, draws, the smallest nonzero key (as key − 1, unsigned: 0 wraps to the largest) and the largest key
  let lowM1v = i32x4.splat(-1);
  let highv = i32x4.splat(0);
  let index = i32x4.add(i32x4.splat(rowIndex), i32x4(0, 1, 2, 3));
  const whole = n & ~3;
  for (let j = 0; j < whole; j += 4) {
    const key = v128.and(v128.load(p0 + (<usize>j << 2)), i32x4.splat(ABS));
    v128.store(keys + (<usize>j << 2), key);
    v128.store(draws + (<usize>j << 2), draw4(index, k0v, k1v));
    lowM1v = i32x4.min_u(lowM1v, i32x4.sub(key, i32x4.splat(1)));
    highv = i32x4.max_u(highv, key);
    index = i32x4.add(index, i32x4.splat(4));
  }
  let lowM1 = min(min(i32x4.extract_lane(lowM1v, 0) as u32, i32x4.extract_lane(lowM1v, 1) as u32), min(i32x4.extract_lane(lowM1v, 2) as u32, i32x4.extract_lane(lowM1v, 3) as u32));
  let hi = max(max(i32x4.extract_lane(highv, 0) as u32, i32x4.extract_lane(highv, 1) as u32), max(i32x4.extract_lane(highv, 2) as u32, i32x4.extract_lane(highv, 3) as u32));
  for (let j = whole; j < n; j++) {
    const key = load<u32>(p0 + (<usize>j << 2)) & ABS;
    store<u32>(keys + (<usize>j << 2), key);
    store<u32>(draws + (<usize>j << 2), i32x4.extract_lane(draw4(i32x4.splat(rowIndex + <u32>j), k0v, k1v), 0));
    lowM1 = min(lowM1, key - 1);
    hi = max(hi, key);
  }
  // the sure decisions whatever the bucket; a row whose top odds round to 2^32 takes the ranked path
  const keepAll = Math.ceil(keepOdds(low, high, 0, n) * 4294967296.0);
  const dropAll = Math.ceil(keepOdds(low, high, <u32>(n - 1), n) * 4294967296.0);
  if (dropAll > 4294967295.0) return false;
  // bucket of key k: 0 for k = 0, else (k ≫ shift) − first + 1; its slot holds its count, then its thresholds
  let shift = SHIFT;
  while (shift < 31 && (hi >> shift) - ((lowM1 + 1) >> shift) + 2 > <u32>(n >> 1)) shift++;
  const first = (lowM1 + 1) >> shift;
  const buckets: u32 = hi == 0 ? 1 : (hi >> shift) - first + 2;
  memory.fill(table, 0, <usize>buckets << 3);
  for (let j = 0; j < n; j++) {
    const k = load<u32>(keys + (<usize>j << 2));
    const c = table + (<usize>(k != 0 ? (k >> shift) - first + 1 : <u32>0) << 3);
    store<u32>(c, load<u32>(c) + 1);
  }
  // bucket b keeps u < floor(2^32·(low + (C_b − MARGIN)/perRank)) and drops u > ceil(2^32·(low + (C_b + m_b − 1 + MARGIN)/perRank)) − 1
  // (in units of 2^-32: low·2^32 + rank·perRankInverse·2^32, scaled before the loop; only occupied buckets are read)
  const lowScaled = low * 4294967296.0;
  const stepScaled = ((high - low) / <f64>(n - 1)) * 4294967296.0;
  let below: u32 = 0;
  for (let b: u32 = 0; b < buckets; b++) {
    const c = table + (<usize>b << 3);
    const count = load<u32>(c);
    if (count == 0) continue;
    // with the sure decisions of every bucket folded in, and sign bits flipped for signed compares
    const keepBelow = max(clampU32(Math.floor(lowScaled + (<f64>below - MARGIN) * stepScaled)), <u32>keepAll);
    const dropAbove = min(clampU32(Math.ceil(lowScaled + (<f64>(below + count - 1) + MARGIN) * stepScaled) - 1.0), <u32>dropAll - 1);
    store<u64>(c, <u64>(keepBelow ^ SIGN) | (<u64>(dropAbove ^ SIGN) << 32));
    below += count;
  }
  const firstV = i32x4.splat(first - 1);
  let a = 0;
  for (let j = 0; j < whole; j += 4) {
    const key = v128.load(keys + (<usize>j << 2));
    const u = v128.xor(v128.load(draws + (<usize>j << 2)), i32x4.splat(SIGN));
    const bucket = v128.andnot(i32x4.sub(i32x4.shr_u(key, shift), firstV), i32x4.eq(key, i32x4.splat(0)));
    // the four buckets' (keepBelow, dropAbove) pairs, then keepBelow and dropAbove lanes
    const pair01 = i64x2.replace_lane(i64x2.splat(load<u64>(table + (<usize>i32x4.extract_lane(bucket, 0) << 3))), 1, load<u64>(table + (<usize>i32x4.extract_lane(bucket, 1) << 3)));
    const pair23 = i64x2.replace_lane(i64x2.splat(load<u64>(table + (<usize>i32x4.extract_lane(bucket, 2) << 3))), 1, load<u64>(table + (<usize>i32x4.extract_lane(bucket, 3) << 3)));
    const keep = i32x4.lt_s(u, v128.shuffle<u32>(pair01, pair23, 0, 2, 4, 6));
    const drop = i32x4.gt_s(u, v128.shuffle<u32>(pair01, pair23, 1, 3, 5, 7));
    const at = p0 + (<usize>j << 2);
    v128.store(at, v128.andnot(v128.load(at), drop));
    const open = v128.not(v128.or(keep, drop));
    if (v128.any_true(open)) {
      let m = i32x4.bitmask(open);
      while (m != 0) {
        store<u32>(unsure + (<usize>a << 2), j + ctz(m));
        a++;
        m &= m - 1;
      }
    }
  }
  for (let j = whole; j < n; j++) {
    const k = load<u32>(keys + (<usize>j << 2));
    const u = load<u32>(draws + (<usize>j << 2));
    const pair = load<u64>(table + (<usize>(k != 0 ? (k >> shift) - first + 1 : <u32>0) << 3));
    if (u > ((<u32>(pair >> 32)) ^ SIGN)) store<u32>(p0 + (<usize>j << 2), 0);
    else if (u >= (<u32>pair ^ SIGN)) {
      store<u32>(unsure + (<usize>a << 2), j);
      a++;
    }
  }
  for (let q = 0; q < a; q++) {
    const j = load<u32>(unsure + (<usize>q << 2));
    const r = exactRank(keys, n, j);
    if (!(<f64>load<u32>(draws + (<usize>j << 2)) / 4294967296.0 < keepOdds(low, high, r, n))) store<u32>(p0 + (<usize>j << 2), 0);
  }
  return true;
}

// a float64 integer clamped into [0, 2^32 − 1]
// @ts-ignore: decorator
@inline
function clampU32(x: f64): u32 {
  return <u32>min(max(x, 0.0), 4294967295.0);
}

// the ascending rank of entry j by key, equal keys by index: #{i: key_i < key_j} + #{i < j: key_i = key_j}
function exactRank(keys: usize, n: i32, j: u32): u32 {
  const k = load<u32>(keys + (<usize>j << 2));
  const kv = i32x4.splat(k);
  const jv = i32x4.splat(j);
  let count = i32x4.splat(0);
  let index = i32x4(0, 1, 2, 3);
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    const key = v128.load(keys + (<usize>i << 2));
    const before = v128.or(i32x4.lt_u(key, kv), v128.and(i32x4.eq(key, kv), i32x4.lt_u(index, jv)));
    count = i32x4.sub(count, before);
    index = i32x4.add(index, i32x4.splat(4));
  }
  let r = <u32>(i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3));
  for (let i = whole; i < n; i++) {
    const key = load<u32>(keys + (<usize>i << 2));
    if (key < k || (key == k && <u32>i < j)) r++;
  }
  return r;
}
