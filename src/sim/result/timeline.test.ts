import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BusyTrack, TimelineBudget, type TrackSpec } from './timeline.js';

const SEED = 20261124;
const server: TrackSpec = {
  component: 'gpu0.link.h2d',
  agent: 'gpu0',
  kind: 'link',
  movesBytes: true,
  joinTouching: true,
  bytesPerPs: 0.032,
};
const batches: TrackSpec = {
  component: 'gpu0.fault-handler',
  agent: 'gpu0',
  kind: 'fault-handler',
  countUnit: 'faults',
  movesBytes: false,
  joinTouching: false,
};

/** Sorted, disjoint intervals in ps (a calendar's), from gaps and lengths. */
const calendarArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 3000 })), {
    minLength: 1,
    maxLength: 3000,
  })
  .map((pairs) => {
    const starts = new Float64Array(pairs.length);
    const ends = new Float64Array(pairs.length);
    let t = 0;
    pairs.forEach(([gap, length], k) => {
      t += gap;
      starts[k] = t;
      t += length;
      ends[k] = t;
    });
    return { starts, ends };
  });

function feed(starts: Float64Array, ends: Float64Array, budget: number, chunk: number) {
  const track = new BusyTrack(server, new TimelineBudget(budget));
  for (let k = 0; k < starts.length; k += chunk) track.settled(starts, ends, k, Math.min(starts.length, k + chunk));
  return track.finish();
}

describe('BusyTrack', () => {
  it('keeps a calendar within its budget: sorted, disjoint, covering every booking, busy time and bytes exact', () => {
    fc.assert(
      fc.property(
        calendarArb,
        fc.integer({ min: 2, max: 400 }),
        fc.integer({ min: 1, max: 600 }),
        ({ starts, ends }, budget, chunk) => {
          const t = feed(starts, ends, budget, chunk);
          const n = t.startNs.length;
          expect(n).toBeLessThanOrEqual(budget);
          for (let i = 0; i < n; i++) {
            expect(t.endNs[i]).toBeGreaterThan(t.startNs[i]);
            expect(t.busyNs[i]).toBeLessThanOrEqual(t.endNs[i] - t.startNs[i] + 1e-9);
            if (i > 0) expect(t.startNs[i]).toBeGreaterThan(t.endNs[i - 1]);
          }
          // Every booking lies inside one interval.
          let i = 0;
          for (let k = 0; k < starts.length; k++) {
            while (t.endNs[i] < ends[k] / 1000) i++;
            expect(t.startNs[i]).toBeLessThanOrEqual(starts[k] / 1000);
          }
          let busy = 0;
          for (let k = 0; k < starts.length; k++) busy += ends[k] - starts[k];
          const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
          expect(sum(t.busyNs) * 1000).toBeCloseTo(busy, 3);
          expect(sum(t.bytes!)).toBeCloseTo(busy * 0.032, 3);
          // Each closed gap removed one interval; touching bookings were one interval already.
          const touching = Array.from(starts.subarray(1)).filter((s, k) => s === ends[k]).length;
          expect(t.closedGaps).toBe(starts.length - touching - n);
          expect(t.closedGaps > 0).toBe(t.closedGapNs > 0);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('is the same whatever the chunks the calendar hands it over in', () => {
    fc.assert(
      fc.property(calendarArb, fc.integer({ min: 2, max: 400 }), ({ starts, ends }, budget) => {
        expect(feed(starts, ends, budget, 7)).toEqual(feed(starts, ends, budget, starts.length));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('keeps touching fault batches apart, and merges only what overlaps', () => {
    const t = new BusyTrack(batches, new TimelineBudget(100));
    t.record(0, 1000, 1000, 3, 0);
    t.record(1000, 2500, 1500, 2, 0); // back to back: its own batch
    t.record(5000, 6000, 1000, 1, 0);
    t.record(4000, 5500, 1500, 4, 0); // out of order and overlapping the last: one interval
    const out = t.finish();
    expect(out.startNs).toEqual([0, 1, 4]);
    expect(out.endNs).toEqual([1, 2.5, 6]);
    // Overlapping bookings are not busier than their span.
    expect(out.busyNs).toEqual([1, 1.5, 2]);
    expect(out.count).toEqual([3, 2, 5]);
    expect(out.countUnit).toBe('faults');
    expect(out.bytes).toBeUndefined();
    expect(out.closedGaps).toBe(0);
  });

  it('a periodic stream keeps half its budget when halved, not a handful of intervals', () => {
    const n = 1000;
    const starts = Float64Array.from({ length: n }, (_, k) => k * 100);
    const ends = starts.map((s) => s + 10);
    const t = feed(starts, ends, 200, 50);
    expect(t.startNs.length).toBeGreaterThanOrEqual(100);
    expect(t.startNs.length).toBeLessThanOrEqual(200);
  });

  it('shares one budget: the fullest track gives way', () => {
    const budget = new TimelineBudget(100);
    const busy = new BusyTrack(server, budget);
    const quiet = new BusyTrack({ ...server, component: 'gpu0.link.d2h' }, budget);
    for (let k = 0; k < 5; k++) quiet.record(k * 1000, k * 1000 + 10, 10, 0, 0);
    for (let k = 0; k < 1000; k++) busy.record(k * 100, k * 100 + 10, 10, 0, 0);
    expect(quiet.intervals).toBe(5);
    expect(busy.intervals + quiet.intervals).toBeLessThanOrEqual(100);
    expect(busy.intervals).toBeGreaterThan(40);
  });
});
