import type { Histogram } from './types.js';

/** A histogram with power-of-two buckets from `firstBound` up; the last bucket is open. */
export class Log2Histogram {
  private readonly counts: Float64Array;
  private readonly bounds: number[];
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(
    readonly name: string,
    readonly unit: string,
    private readonly firstBound: number,
    buckets = 24,
  ) {
    this.counts = new Float64Array(buckets);
    this.bounds = Array.from({ length: buckets - 1 }, (_, i) => firstBound * 2 ** i);
  }

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const i = v <= this.firstBound ? 0 : Math.min(this.counts.length - 1, bucketAbove(v / this.firstBound));
    this.counts[i]++;
  }

  finish(): Histogram {
    // Trim empty buckets at the top so stored histograms stay small.
    let last = this.counts.length - 1;
    while (last > 0 && this.counts[last] === 0) last--;
    return {
      name: this.name,
      unit: this.unit,
      bounds: this.bounds.slice(0, last),
      counts: Array.from(this.counts.subarray(0, last + 1)),
      count: this.count,
      sum: this.sum,
      min: this.count ? this.min : 0,
      max: this.count ? this.max : 0,
    };
  }
}

/**
 * ceil(log2(x)) for x > 1, as Math.ceil(Math.log2(x)) computes it, without the logarithm
 * where the answer is clear: x in (2^(e-1), 2^e] gives e. Just above a power of two,
 * Math.log2 may round down onto it, so there (and beyond 2^31) Math.log2 decides.
 */
export function bucketAbove(x: number): number {
  if (x < 0x80000000) {
    const e = 31 - Math.clz32(x); // 2^e <= x < 2^(e+1)
    const p = 1 << e;
    if (x === p) return e;
    if (x > p * (1 + 1e-9)) return e + 1;
  }
  return Math.ceil(Math.log2(x));
}
