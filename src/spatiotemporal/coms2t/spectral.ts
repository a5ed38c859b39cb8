/**
 * Spatial coordinates for ComS2T's spatial prompt when the network has no longitude/latitude (coms2t.md §2): a
 * 2-D spectral embedding of the adjacency. A = (W + Wᵀ)/2, L = I − D^{-1/2} A D^{-1/2} (normalised Laplacian;
 * isolated nodes get a zero row). The coordinates are the eigenvectors of the 2nd and 3rd smallest eigenvalues
 * (the 1st is the trivial D^{1/2}·1 on a connected graph), each scaled by √N so entries are O(1), with a
 * deterministic sign: the entry of largest magnitude (first such index on ties) is positive. Ties between
 * eigenvalues are ordered by the cyclic Jacobi method's output order, which is deterministic for a given input.
 */

/** Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: ArrayLike<number>, n: number, tolerance = 1e-12, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix as ArrayLike<number>);
  // vectors[i * n + k] = component i of eigenvector k
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i]! * a[i]!;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= tolerance * tolerance * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // rotation angle that zeroes a[p][q] (Golub & Van Loan, sym.schur2)
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** The normalised Laplacian of the symmetrised adjacency (row-major n×n). */
export function normalisedLaplacian(adjacency: ArrayLike<number>, n: number): Float64Array {
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) degree[i]! += (adjacency[i * n + j]! + adjacency[j * n + i]!) / 2;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const w = i === j ? 0 : (adjacency[i * n + j]! + adjacency[j * n + i]!) / 2;
      const norm = degree[i]! > 0 && degree[j]! > 0 ? w / Math.sqrt(degree[i]! * degree[j]!) : 0;
      out[i * n + j] = (i === j && degree[i]! > 0 ? 1 : 0) - norm;
    }
  }
  return out;
}

/** Node coordinates [n × 2] (row-major) from the adjacency's spectral embedding (self-loops ignored). */
export function spectralCoordinates(adjacency: ArrayLike<number>, n: number): Float64Array {
  if (n < 3) return new Float64Array(n * 2);
  const { values, vectors } = symmetricEigen(normalisedLaplacian(adjacency, n), n);
  const order = Array.from({ length: n }, (_, k) => k).sort((x, y) => values[x]! - values[y]! || x - y);
  const out = new Float64Array(n * 2);
  for (let d = 0; d < 2; d++) {
    const k = order[d + 1]!;
    let largest = 0;
    for (let i = 1; i < n; i++) if (Math.abs(vectors[i * n + k]!) > Math.abs(vectors[largest * n + k]!) + 1e-12) largest = i;
    const sign = vectors[largest * n + k]! < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) out[i * 2 + d] = sign * Math.sqrt(n) * vectors[i * n + k]!;
  }
  return out;
}
