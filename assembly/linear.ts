// Weighted sum of float32 arrays: out = Σ_j w_j·x_j (linear merge, merge-methods.md §3.1; lerp is the
// two-input case). Float32 arithmetic in a fixed order: acc = w_0·x_0, then acc = acc + w_j·x_j for j = 1..,
// so every lane computes exactly what the scalar reference computes with Math.fround after each operation.

// @ts-ignore: decorator
@inline
function inputAt(inputs: usize, j: i32): usize {
  return <usize>load<u32>(inputs + (<usize>j << 2));
}

// @ts-ignore: decorator
@inline
function weightAt(weights: usize, j: i32): f32 {
  return load<f32>(weights + (<usize>j << 2));
}

function weightedSumTwo(out: usize, a: usize, wa: f32, b: usize, wb: f32, n: i32): void {
  const va = f32x4.splat(wa);
  const vb = f32x4.splat(wb);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(va, v128.load(a + o)), f32x4.mul(vb, v128.load(b + o))));
    v128.store(out + o, f32x4.add(f32x4.mul(va, v128.load(a + o, 16)), f32x4.mul(vb, v128.load(b + o, 16))), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, wa * load<f32>(a + o) + wb * load<f32>(b + o));
  }
}

export function weightedSum(out: usize, inputs: usize, weights: usize, count: i32, n: i32): void {
  if (count == 0) {
    memory.fill(out, 0, <usize>n << 2);
    return;
  }
  if (count == 2) {
    weightedSumTwo(out, inputAt(inputs, 0), weightAt(weights, 0), inputAt(inputs, 1), weightAt(weights, 1), n);
    return;
  }
  const first = inputAt(inputs, 0);
  const w0 = f32x4.splat(weightAt(weights, 0));
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    let lo = f32x4.mul(w0, v128.load(first + o));
    let hi = f32x4.mul(w0, v128.load(first + o, 16));
    for (let j = 1; j < count; j++) {
      const x = inputAt(inputs, j) + o;
      const w = f32x4.splat(weightAt(weights, j));
      lo = f32x4.add(lo, f32x4.mul(w, v128.load(x)));
      hi = f32x4.add(hi, f32x4.mul(w, v128.load(x, 16)));
    }
    v128.store(out + o, lo);
    v128.store(out + o, hi, 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let acc = weightAt(weights, 0) * load<f32>(first + o);
    for (let j = 1; j < count; j++) acc += weightAt(weights, j) * load<f32>(inputAt(inputs, j) + o);
    store<f32>(out + o, acc);
  }
}
