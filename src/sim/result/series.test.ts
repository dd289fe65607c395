import { describe, expect, it } from 'vitest';
import { BinnedSeries } from './series.js';

const US = 1_000_000; // ps

describe('BinnedSeries.snapshot', () => {
  it('gives the ended bins of a sum and changes nothing finish gives', () => {
    const live = new BinnedSeries('s', 'GB/s', 16, 'sum', true);
    const plain = new BinnedSeries('s', 'GB/s', 16, 'sum', true);
    for (const s of [live, plain]) {
      s.add(0.5 * US, 1000);
      s.add(2.5 * US, 3000);
    }
    // At 2.5 us, bins 0 and 1 have ended; bin 2 is still filling.
    expect(live.snapshot(2.5 * US).values).toEqual([1, 0]);
    for (const s of [live, plain]) s.add(40 * US, 500); // past 16 bins: coarsens
    expect(live.snapshot(41 * US).values.length).toBe(10);
    // Nothing recorded for a long time: the bins widen as finish would widen them.
    const quiet = new BinnedSeries('q', 'faults', 16, 'sum');
    quiet.add(0, 1);
    const late = quiet.snapshot(1000 * US);
    expect(late.intervalNs * (late.values.length + 1)).toBeGreaterThanOrEqual(1000 * 1000);
    expect(late.values[0]).toBe(1);
    expect(live.finish(48 * US)).toEqual(plain.finish(48 * US));
  });

  it('carries a gauge level up to now', () => {
    const g = new BinnedSeries('m', 'bytes', 16, 'gauge');
    g.gauge(0, 4096);
    g.gauge(1.5 * US, 8192);
    expect(g.snapshot(3.2 * US).values).toEqual([4096, 8192, 8192, 8192]);
  });
});
