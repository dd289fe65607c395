import { describe, expect, it } from 'vitest';
import { linesTouched, shareOf, sweepSpec } from './common.js';
import { collectAllRuns, collectRuns } from './testing.js';

describe('linesTouched', () => {
  it('counts the 64-byte lines a byte range touches', () => {
    expect(linesTouched(0, 64)).toBe(1);
    expect(linesTouched(0, 65)).toBe(2);
    expect(linesTouched(60, 8)).toBe(2);
    expect(linesTouched(4096, 4096)).toBe(64);
    expect(linesTouched(2 ** 40 + 32, 8)).toBe(1);
  });
});

describe('shareOf', () => {
  it('deals a total evenly, the remainder to the first contexts', () => {
    expect([0, 1, 2].map((i) => shareOf(10, i, 3))).toEqual([4, 3, 3]);
    expect([0, 1, 2, 3].map((i) => shareOf(2, i, 4))).toEqual([1, 1, 0, 0]);
  });
});

describe('SweepStream', () => {
  const spec = (start: number, end: number, passes = 1) =>
    sweepSpec({
      agent: 'device',
      contexts: 0,
      steps: [
        { region: 1, write: false },
        { region: 0, write: true },
      ],
      start,
      end,
      cyclesPerLine: 3,
      passes,
    });

  it('cuts an unaligned range at 4 KiB boundaries and emits one run per step per chunk', () => {
    const runs = collectRuns(spec(1000, 9000));
    expect(runs.map((r) => [r.region, r.offset, r.bytes, r.write])).toEqual([
      [1, 1000, 3096, false],
      [0, 1000, 3096, true],
      [1, 4096, 4096, false],
      [0, 4096, 4096, true],
      [1, 8192, 808, false],
      [0, 8192, 808, true],
    ]);
    // 1000..4096 touches lines 15..63 (49 lines).
    expect(runs[0].computeCycles).toBe(3 * 49);
    expect(runs[2].computeCycles).toBe(3 * 64);
    expect(runs.every((r) => r.notBeforeCycle === -1)).toBe(true);
  });

  it('deals chunks grid-stride: context i takes chunks i, i+n, ...', () => {
    const s = spec(0, 5 * 4096);
    expect(
      collectRuns(s, 0, 2)
        .filter((r) => r.write)
        .map((r) => r.offset),
    ).toEqual([0, 8192, 16384]);
    expect(
      collectRuns(s, 1, 2)
        .filter((r) => r.write)
        .map((r) => r.offset),
    ).toEqual([4096, 12288]);
    expect(collectRuns(s, 7, 8)).toEqual([]);
  });

  it('repeats the sweep for each pass', () => {
    const runs = collectAllRuns(spec(0, 3 * 4096, 3), 2);
    expect(runs.length).toBe(3 * 2 * 3);
    expect(collectRuns(spec(0, 4096, 2), 1, 2)).toEqual([]);
    expect(spec(0, 3 * 4096, 3).plannedBytes).toBe(3 * 4096 * 2 * 3);
  });

  it('emits nothing for an empty range', () => {
    expect(collectRuns(spec(4096, 4096))).toEqual([]);
  });
});
