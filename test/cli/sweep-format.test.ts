/** The sweep's progress line and summary table. */
import { describe, expect, it } from 'vitest';
import { compactIds, SweepProgressBar, sweepTable } from '../../src/cli/sweep-format.js';

/** A terminal of `columns` columns that keeps what is written to it. */
function terminal(columns: number) {
  const written: string[] = [];
  const stream = { columns, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('sweep progress bar', () => {
  it('shows points done, failed and the time left, whole even when the terminal reports 0 columns', () => {
    const t = terminal(0);
    const bar = new SweepProgressBar(t.stream, 4);
    bar.point(true);
    bar.point(false);
    const line = t.written.at(-1) ?? '';
    expect(line.endsWith(' left\x1b[K')).toBe(true);
    expect(line).toMatch(/^\r\[##########----------\] 2\/4 points: 1 done, 1 failed, \d+ ms left/);
    const narrow = terminal(30);
    new SweepProgressBar(narrow.stream, 4).point(true);
    expect(narrow.written.at(-1)).toBe('\r[#####---------------] 1/4 po\x1b[K'); // 29 of 30 columns;
  });
});

describe('sweep table', () => {
  it('lists each combination with the mean and the spread over repetitions, and its runs', () => {
    const lines = sweepTable({
      metric: 'sim.time_ns',
      unit: 'ns',
      axes: ['hardware.link.lanes', 'workload.impl'],
      rows: [
        { values: [8, 'stream'], n: 2, mean: 1500, sd: 707.1, min: 1000, max: 2000, missing: 0, runIds: [1, 2] },
        { values: [16, 'stream'], n: 1, mean: 900, sd: 0, min: 900, max: 900, missing: 1, runIds: [3, 5] },
      ],
    });
    expect(lines).toEqual([
      'hardware.link.lanes  workload.impl  sim.time_ns (ns) mean     sd    min    max  n  missing  runs',
      '8                    stream                         1,500  707.1  1,000  2,000  2           1-2',
      '16                   stream                           900      0    900    900  1        1  3,5',
    ]);
    expect(compactIds([9, 3, 4, 5, 7])).toBe('3-5,7,9');
  });
});
