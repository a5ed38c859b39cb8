/**
 * Server-side downsampling that keeps peaks: min/max per bucket (the "M4"-style reduction without first and
 * last points). The series is cut into `buckets` contiguous ranges of equal length; each range contributes
 * its minimum and its maximum sample, in their original order. Every extreme of the full series therefore
 * survives (the global min and max, and each bucket's), which is what an anomaly score or a fitness spike
 * needs; a series no longer than 2·buckets is returned whole. NaN samples are skipped (a gap stays a gap
 * only when a whole bucket is NaN, then the bucket contributes one NaN point so the chart breaks the line).
 */

export interface Downsampled {
  /** original sample positions (x), increasing */
  readonly x: number[];
  readonly y: number[];
}

export function minMaxDownsample(values: ArrayLike<number>, buckets: number, xOf: (index: number) => number = (i) => i): Downsampled {
  const n = values.length;
  const x: number[] = [];
  const y: number[] = [];
  if (n <= 2 * buckets || buckets < 1) {
    for (let i = 0; i < n; i++) {
      x.push(xOf(i));
      y.push(values[i]!);
    }
    return { x, y };
  }
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      if (lo < 0 || v < values[lo]!) lo = i;
      if (hi < 0 || v > values[hi]!) hi = i;
    }
    if (lo < 0) {
      x.push(xOf(start));
      y.push(NaN);
    } else if (lo === hi) {
      x.push(xOf(lo));
      y.push(values[lo]!);
    } else {
      const [first, second] = lo < hi ? [lo, hi] : [hi, lo];
      x.push(xOf(first), xOf(second));
      y.push(values[first]!, values[second]!);
    }
  }
  return { x, y };
}
