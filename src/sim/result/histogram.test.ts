import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketAbove, Log2Histogram } from './histogram.js';

describe('Log2Histogram', () => {
  it('puts each value in the bucket Math.ceil(Math.log2(v / firstBound)) names, edges included', () => {
    const xs: number[] = [];
    for (let k = 0; k < 40; k++) {
      const p = 2 ** k;
      for (let n = -4; n <= 4; n++) xs.push(p * (1 + n * Number.EPSILON), p + n * 1e-9 * p, p * (1 + n * 1e-10));
    }
    for (const x of xs.filter((x) => x > 1)) expect([x, bucketAbove(x)]).toEqual([x, Math.ceil(Math.log2(x))]);
    fc.assert(
      fc.property(fc.double({ min: 1, max: 2 ** 40, noNaN: true, minExcluded: true }), (x) => {
        expect(bucketAbove(x)).toBe(Math.ceil(Math.log2(x)));
      }),
      { seed: 3, numRuns: 20000 },
    );
  });

  it('counts, sums and buckets values from firstBound up, the last bucket open', () => {
    const h = new Log2Histogram('lat', 'ns', 100, 4);
    for (const v of [50, 100, 150, 200, 201, 400, 1e6]) h.add(v);
    const r = h.finish();
    expect(r.bounds).toEqual([100, 200, 400]);
    expect(r.counts).toEqual([2, 2, 2, 1]);
    expect([r.count, r.min, r.max]).toEqual([7, 50, 1e6]);
  });
});
