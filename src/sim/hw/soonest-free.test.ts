import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SoonestFree } from './soonest-free.js';

/** What the IOMMU did before: scan the free times for the first free at t, else the first soonest. */
function scan(freeAt: readonly number[], t: number): number {
  let pick = 0;
  for (let i = 0; i < freeAt.length; i++) {
    if (freeAt[i] <= t) return i;
    if (freeAt[i] < freeAt[pick]) pick = i;
  }
  return pick;
}

describe('SoonestFree', () => {
  it('picks the first server free at t, else the lowest-numbered of the soonest free', () => {
    const s = new SoonestFree(3);
    expect(s.pick(0)).toBe(0); // all free at 0
    s.set(0, 100);
    s.set(1, 50);
    s.set(2, 50);
    expect(s.pick(10)).toBe(1); // none free: 1 and 2 tie at 50, the lower-numbered wins
    expect(s.pick(60)).toBe(1); // 1 and 2 free: the first
    expect(s.pick(100)).toBe(0); // all free: the first
  });

  it('picks as the scan does for any count of servers and any free times (seed 5)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.nat(60), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2000 })), {
          minLength: 1,
          maxLength: 300,
        }),
        (count, steps) => {
          const tree = new SoonestFree(count);
          const freeAt = new Array<number>(count).fill(0);
          for (const [server, at, t] of steps) {
            // Ties are common: times on a coarse grid.
            const i = server % count;
            tree.set(i, at - (at % 100));
            freeAt[i] = at - (at % 100);
            expect(tree.pick(t)).toBe(scan(freeAt, t));
          }
        },
      ),
      { seed: 5, numRuns: 400 },
    );
  });

  it('refuses no servers', () => {
    expect(() => new SoonestFree(0)).toThrow(/at least one server/);
  });
});
