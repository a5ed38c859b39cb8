// Blocked, packed float32 GEMM for the training engine (src/nn): C = op(A)·op(B) + beta·C, row-major, with
// leading dimensions. GotoBLAS loop order: B is packed per (KC × NC) block into 8-column panels, A per
// (MC × KC) block into 4-row panels, and a 4×8 register-blocked micro-kernel runs over the panels with eight
// f32x4 accumulators (mul + add: relaxed-simd FMA is not available in Node 20). The blocks keep a packed
// A panel (KC·4 floats) and B panel (KC·8 floats) in L1 and the packed A block in L2.
// All pointers are byte addresses; `scratch` needs gemmScratchFloats() floats, 16-byte aligned.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64; // multiple of MR
const NC: i32 = 512; // multiple of NR
/** packed B block + packed A block + one 4×8 edge tile */
const SCRATCH_FLOATS: i32 = KC * NC + KC * MC + MR * NR;

export function gemmScratchFloats(): i32 {
  return SCRATCH_FLOATS;
}

// how the micro-kernel combines its accumulators with C
const STORE: i32 = 0; // C = acc
const ACCUMULATE: i32 = 1; // C += acc
const SCALE: i32 = 2; // C = beta·C + acc

// @ts-ignore: decorator
@inline
function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

/** Packs B(pc.., jc..) of size kc × nc into ⌈nc/8⌉ panels of kc rows × 8 floats, zero-padding the last one. */
function packB(transB: i32, b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const panel = at(dst, jp * kc);
    if (transB == 0) {
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          const src = at(b, (pc + p) * ldb + jc + jp);
          const out = at(panel, p * NR);
          v128.store(out, v128.load(src));
          v128.store(out, v128.load(src, 16), 16);
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const src = at(b, (pc + p) * ldb + jc + jp);
          const out = at(panel, p * NR);
          v128.store(out, f32x4.splat(0));
          v128.store(out, f32x4.splat(0), 16);
          for (let j = 0; j < cols; j++) store<f32>(at(out, j), load<f32>(at(src, j)));
        }
      }
    } else {
      // B(k, j) = b[j·ldb + k]: each column of the panel is a contiguous run of b; four columns at a time,
      // four k at a time, transposed with shuffles (a linear layer's forward x·Wᵀ packs all of W this way
      // every step: scalar, this pack cost as much as a quarter of the GEMM at batch 32)
      if (cols < NR) memory.fill(panel, 0, <usize>(kc * NR) << 2);
      let j = 0;
      for (; j + 4 <= cols; j += 4) packColumns4(at(b, (jc + jp + j) * ldb + pc), ldb, kc, at(panel, j));
      for (; j < cols; j++) {
        const src = at(b, (jc + jp + j) * ldb + pc);
        for (let p = 0; p < kc; p++) store<f32>(at(panel, p * NR + j), load<f32>(at(src, p)));
      }
    }
  }
}

/**
 * Four columns of a transposed B (four contiguous runs of b, `ldb` apart) into four adjacent floats of each of
 * kc panel rows (NR floats apart), 4 × 4 at a time through a shuffle transpose.
 */
function packColumns4(src: usize, ldb: i32, kc: i32, out: usize): void {
  const s0 = src;
  const s1 = at(s0, ldb);
  const s2 = at(s1, ldb);
  const s3 = at(s2, ldb);
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const o = <usize>p << 2;
    const x0 = v128.load(s0 + o);
    const x1 = v128.load(s1 + o);
    const x2 = v128.load(s2 + o);
    const x3 = v128.load(s3 + o);
    const lo01 = v128.shuffle<u32>(x0, x1, 0, 4, 1, 5);
    const hi01 = v128.shuffle<u32>(x0, x1, 2, 6, 3, 7);
    const lo23 = v128.shuffle<u32>(x2, x3, 0, 4, 1, 5);
    const hi23 = v128.shuffle<u32>(x2, x3, 2, 6, 3, 7);
    const row = at(out, p * NR);
    v128.store(row, v128.shuffle<u64>(lo01, lo23, 0, 2));
    v128.store(row, v128.shuffle<u64>(lo01, lo23, 1, 3), NR * 4);
    v128.store(row, v128.shuffle<u64>(hi01, hi23, 0, 2), NR * 8);
    v128.store(row, v128.shuffle<u64>(hi01, hi23, 1, 3), NR * 12);
  }
  for (; p < kc; p++) {
    const o = <usize>p << 2;
    const row = at(out, p * NR);
    store<f32>(row, load<f32>(s0 + o));
    store<f32>(row, load<f32>(s1 + o), 4);
    store<f32>(row, load<f32>(s2 + o), 8);
    store<f32>(row, load<f32>(s3 + o), 12);
  }
}

/** Packs A(ic.., pc..) of size mc × kc into ⌈mc/4⌉ panels of kc × 4 floats, zero-padding the last one. */
function packA(transA: i32, a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const panel = at(dst, ip * kc);
    if (transA != 0) {
      // A(i, k) = a[k·lda + i]: four consecutive rows of op(A) are one 16-byte load
      if (rows == MR) {
        for (let p = 0; p < kc; p++) v128.store(at(panel, p * MR), v128.load(at(a, (pc + p) * lda + ic + ip)));
      } else {
        for (let p = 0; p < kc; p++) {
          const src = at(a, (pc + p) * lda + ic + ip);
          const out = at(panel, p * MR);
          v128.store(out, f32x4.splat(0));
          for (let r = 0; r < rows; r++) store<f32>(at(out, r), load<f32>(at(src, r)));
        }
      }
    } else if (rows == MR) {
      // four rows, four k at a time: load a 4×4 block and transpose it with shuffles
      const r0 = at(a, (ic + ip) * lda + pc);
      const r1 = at(r0, lda);
      const r2 = at(r1, lda);
      const r3 = at(r2, lda);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p << 2;
        const x0 = v128.load(r0 + o);
        const x1 = v128.load(r1 + o);
        const x2 = v128.load(r2 + o);
        const x3 = v128.load(r3 + o);
        const lo01 = v128.shuffle<u32>(x0, x1, 0, 4, 1, 5);
        const hi01 = v128.shuffle<u32>(x0, x1, 2, 6, 3, 7);
        const lo23 = v128.shuffle<u32>(x2, x3, 0, 4, 1, 5);
        const hi23 = v128.shuffle<u32>(x2, x3, 2, 6, 3, 7);
        const out = at(panel, p * MR);
        v128.store(out, v128.shuffle<u64>(lo01, lo23, 0, 2));
        v128.store(out, v128.shuffle<u64>(lo01, lo23, 1, 3), 16);
        v128.store(out, v128.shuffle<u64>(hi01, hi23, 0, 2), 32);
        v128.store(out, v128.shuffle<u64>(hi01, hi23, 1, 3), 48);
      }
      for (; p < kc; p++) {
        const o = <usize>p << 2;
        const out = at(panel, p * MR);
        store<f32>(out, load<f32>(r0 + o));
        store<f32>(out, load<f32>(r1 + o), 4);
        store<f32>(out, load<f32>(r2 + o), 8);
        store<f32>(out, load<f32>(r3 + o), 12);
      }
    } else {
      memory.fill(panel, 0, <usize>(kc * MR) << 2);
      for (let r = 0; r < rows; r++) {
        const src = at(a, (ic + ip + r) * lda + pc);
        for (let p = 0; p < kc; p++) store<f32>(at(panel, p * MR + r), load<f32>(at(src, p)));
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function combine(dst: usize, acc: v128, mode: i32, beta: v128): void {
  if (mode == STORE) v128.store(dst, acc);
  else if (mode == ACCUMULATE) v128.store(dst, f32x4.add(v128.load(dst), acc));
  else v128.store(dst, f32x4.add(f32x4.mul(beta, v128.load(dst)), acc));
}

/**
 * 4×8 tile of C from a packed A panel (kc × 4) and a packed B panel (kc × 8). Full tiles go straight to C;
 * edge tiles (mr < 4 or nr < 8) go through `tile` and only their valid part is written.
 */
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, mode: i32, beta: f32, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa, 4);
    const a2 = v128.load32_splat(pa, 8);
    const a3 = v128.load32_splat(pa, 12);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += 16;
    pb += 32;
  }
  const vbeta = f32x4.splat(beta);
  if (mr == MR && nr == NR) {
    const r0 = c;
    const r1 = at(r0, ldc);
    const r2 = at(r1, ldc);
    const r3 = at(r2, ldc);
    combine(r0, c00, mode, vbeta);
    combine(r0 + 16, c01, mode, vbeta);
    combine(r1, c10, mode, vbeta);
    combine(r1 + 16, c11, mode, vbeta);
    combine(r2, c20, mode, vbeta);
    combine(r2 + 16, c21, mode, vbeta);
    combine(r3, c30, mode, vbeta);
    combine(r3 + 16, c31, mode, vbeta);
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  storeTile(c, ldc, mode, beta, mr, nr, tile);
}

/**
 * The 4×4 left half of a tile, for the last panel of a C whose width leaves at most 4 columns there (n = 100:
 * 12 full panels and one of 4): half the multiplies of the 4×8 kernel, which would spend them on zero padding.
 * Reads the same packed panels (B rows are still NR floats apart).
 */
function microKernelNarrow(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, mode: i32, beta: f32, mr: i32, nr: i32, tile: usize): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(pa, 4), b0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(pa, 8), b0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(pa, 12), b0));
    pa += 16;
    pb += 32;
  }
  if (mr == MR && nr == 4) {
    const vbeta = f32x4.splat(beta);
    const r1 = at(c, ldc);
    const r2 = at(r1, ldc);
    combine(c, c0, mode, vbeta);
    combine(r1, c1, mode, vbeta);
    combine(r2, c2, mode, vbeta);
    combine(at(r2, ldc), c3, mode, vbeta);
    return;
  }
  v128.store(tile, c0);
  v128.store(tile, c1, 32);
  v128.store(tile, c2, 64);
  v128.store(tile, c3, 96);
  storeTile(c, ldc, mode, beta, mr, nr, tile);
}

/** the valid mr × nr part of an edge tile (rows NR floats apart in `tile`) into C */
function storeTile(c: usize, ldc: i32, mode: i32, beta: f32, mr: i32, nr: i32, tile: usize): void {
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const dst = at(c, i * ldc + j);
      const acc = load<f32>(at(tile, i * NR + j));
      if (mode == STORE) store<f32>(dst, acc);
      else if (mode == ACCUMULATE) store<f32>(dst, load<f32>(dst) + acc);
      else store<f32>(dst, beta * load<f32>(dst) + acc);
    }
  }
}

/** C (m × n) = beta·C when k = 0; beta = 0 writes zeros without reading C, so NaN garbage in C never leaks. */
function scaleC(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const dst = at(c, i * ldc + j);
      store<f32>(dst, beta == 0 ? 0 : beta * load<f32>(dst));
    }
  }
}

/**
 * C = op(A)·op(B) + beta·C. op(A) is m × k (A stored k × m when transA ≠ 0), op(B) is k × n (B stored n × k
 * when transB ≠ 0). beta = 0 overwrites C without reading it.
 */
export function sgemm(
  transA: i32,
  transB: i32,
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    scaleC(m, n, beta, c, ldc);
    return;
  }
  const packedB = scratch;
  const packedA = at(scratch, KC * NC);
  const tile = at(packedA, KC * MC);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const mode = pc > 0 ? ACCUMULATE : beta == 0 ? STORE : beta == 1 ? ACCUMULATE : SCALE;
      packB(transB, b, ldb, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(transA, a, lda, ic, pc, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const pb = at(packedB, jr * kc);
          const nr = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const cTile = at(c, (ic + ir) * ldc + jc + jr);
            if (nr <= 4) microKernelNarrow(kc, at(packedA, ir * kc), pb, cTile, ldc, mode, beta, min(MR, mc - ir), nr, tile);
            else microKernel(kc, at(packedA, ir * kc), pb, cTile, ldc, mode, beta, min(MR, mc - ir), nr, tile);
          }
        }
      }
    }
  }
}
