import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VA_BLOCK_PAGES } from '../driver.js';
import { densestSubregion } from './gmem.js';

/** The density prefetcher as first written: a prefix count over the whole block, then each subregion's count. */
function reference(
  resident: Uint8Array | undefined,
  regionLo: number,
  regionHi: number,
  faultLo: number,
  faultHi: number,
  at: number,
  thresholdPercent: number,
): number {
  const present = new Int32Array(VA_BLOCK_PAGES + 1);
  for (let i = 0; i < VA_BLOCK_PAGES; i++) {
    const here =
      i >= regionLo && i < regionHi && ((resident !== undefined && resident[i] === 1) || (i >= faultLo && i < faultHi));
    present[i + 1] = present[i] + (here ? 1 : 0);
  }
  let largest = 0;
  for (let size = 2; size <= VA_BLOCK_PAGES; size *= 2) {
    const start = Math.floor(at / size) * size;
    if ((present[start + size] - present[start]) * 100 > thresholdPercent * size) largest = size;
  }
  return largest;
}

describe('the density prefetcher', () => {
  it('picks the subregion a prefix count over the block picks (seed 11)', () => {
    const block = fc
      .record({
        // Runs of resident slots, as migrations leave them, or none (no chunk on the device).
        runs: fc.option(fc.array(fc.tuple(fc.nat(VA_BLOCK_PAGES - 1), fc.nat(200)), { maxLength: 12 })),
        regionLo: fc.nat(VA_BLOCK_PAGES - 1),
        regionLength: fc.integer({ min: 1, max: VA_BLOCK_PAGES }),
        fault: fc.nat(VA_BLOCK_PAGES - 1),
        faultPages: fc.constantFrom(1, 16, 32),
        threshold: fc.integer({ min: 1, max: 100 }),
      })
      .filter((b) => b.fault >= b.regionLo && b.fault < b.regionLo + b.regionLength);
    fc.assert(
      fc.property(block, (b) => {
        let resident: Uint8Array | undefined;
        if (b.runs !== null) {
          resident = new Uint8Array(VA_BLOCK_PAGES);
          for (const [from, length] of b.runs) resident.fill(1, from, Math.min(VA_BLOCK_PAGES, from + length));
        }
        const regionHi = Math.min(VA_BLOCK_PAGES, b.regionLo + b.regionLength);
        // A faulting device page is aligned to its size, clipped to the region.
        const faultLo = Math.max(b.regionLo, b.fault - (b.fault % b.faultPages));
        const faultHi = Math.min(regionHi, faultLo + b.faultPages);
        const args = [resident, b.regionLo, regionHi, faultLo, faultHi, b.fault, b.threshold] as const;
        expect(densestSubregion(...args)).toBe(reference(...args));
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('takes the whole block when more than the threshold of it is resident, nothing in an empty one', () => {
    const resident = new Uint8Array(VA_BLOCK_PAGES).fill(1, 0, 300);
    expect(densestSubregion(resident, 0, VA_BLOCK_PAGES, 400, 401, 400, 51)).toBe(VA_BLOCK_PAGES);
    // 1 faulting page of 2 is 50 %, not more than 51 %.
    expect(densestSubregion(undefined, 0, VA_BLOCK_PAGES, 400, 401, 400, 51)).toBe(0);
    expect(densestSubregion(undefined, 0, VA_BLOCK_PAGES, 400, 401, 400, 49)).toBe(2);
  });
});
