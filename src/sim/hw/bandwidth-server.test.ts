import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transferPs, type Ps } from '../engine/time.js';
import { BandwidthServer } from './bandwidth-server.js';

describe('BandwidthServer', () => {
  it('serialises FCFS and accumulates busy time, bytes and queue wait', () => {
    // 32 GB/s = 32 bytes/ns: 64 B take 2 ns = 2000 ps, 32 B take 1000 ps.
    const s = new BandwidthServer(32);
    expect(s.reserve(0, 64)).toBe(2000);
    // Arrives at 1000 while busy until 2000: waits 1000, ends at 4000.
    expect(s.reserve(1000, 64)).toBe(4000);
    // Arrives after the server is idle: no wait.
    expect(s.reserve(10_000, 32)).toBe(11_000);
    expect(s.busyPs).toBe(5000);
    expect(s.bytes).toBe(160);
    expect(s.queueWaitPs).toBe(1000);
    expect(s.reservations).toBe(3);
    expect(s.nextFreePs).toBe(11_000);
  });

  it('rounds each reservation up to a whole picosecond', () => {
    // 1 B at 3 GB/s = 333.3 ps -> 334 ps.
    expect(new BandwidthServer(3).reserve(0, 1)).toBe(334);
  });

  it('a zero-byte reservation waits for the queue but takes no time', () => {
    const s = new BandwidthServer(1);
    s.reserve(0, 10); // 10 ns
    expect(s.reserve(5, 0)).toBe(10_000);
    expect(s.busyPs).toBe(10_000);
  });

  it('rejects a non-positive bandwidth', () => {
    expect(() => new BandwidthServer(0)).toThrow(RangeError);
    expect(() => new BandwidthServer(-1)).toThrow(RangeError);
  });

  it('reset clears state and statistics', () => {
    const s = new BandwidthServer(1);
    s.reserve(0, 100);
    s.reset();
    expect([s.nextFreePs, s.busyPs, s.bytes, s.queueWaitPs, s.reservations]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('BandwidthServer calendar', () => {
  it('a transfer booked for t + 500 us does not delay one issued at t', () => {
    // 1 GB/s: 1000 bytes take 1 us = 1_000_000 ps.
    const s = new BandwidthServer(1);
    const late = s.reserve(500_000_000, 1000);
    expect(late).toBe(501_000_000);
    expect(s.reserve(0, 1000)).toBe(1_000_000);
    expect(s.queueWaitPs).toBe(0);
  });

  it('a request fills the gaps before later bookings and continues after them', () => {
    const s = new BandwidthServer(1); // 1 byte per ns
    s.reserve(2_000, 2); // busy [2000, 4000)
    s.reserve(6_000, 2); // busy [6000, 8000)
    // 5 bytes from 0: [0, 2000) takes 2, [4000, 6000) takes 2, [8000, 9000) takes 1.
    expect(s.reserve(0, 5)).toBe(9_000);
    // Everything up to 10 ns is now booked: the next request from 1 ns starts at 10 ns.
    expect(s.reserve(1_000, 1)).toBe(10_000);
    expect(s.queueWaitPs).toBe(8_000);
    expect(s.busyPs).toBe(10_000);
  });

  it('a zero-byte request starts at the first idle instant', () => {
    const s = new BandwidthServer(1);
    s.reserve(10_000, 10); // busy [10 ns, 20 ns)
    expect(s.reserve(15_000, 0)).toBe(20_000);
    expect(s.reserve(5_000, 0)).toBe(5_000);
  });

  it('stays exact for requests issued out of order over many intervals', () => {
    const s = new BandwidthServer(1);
    // Bookings every other ns, issued latest first; then requests fill the holes.
    for (let k = 999; k >= 0; k--) s.reserve(2_000 * k, 1);
    expect(s.reserve(0, 1)).toBe(2_000);
    expect(s.busyPs).toBe(1_001_000);
  });

  it("with the simulation's clock attached, a long future of bookings keeps its gaps for an earlier request", () => {
    // A copy engine books 5000 short transfers ahead, one every 10 ns; then another agent
    // asks at the present. Without the clock the calendar closes its oldest gaps beyond
    // 512 intervals, and the request waits behind all of them.
    const book = (s: BandwidthServer) => {
      for (let k = 0; k < 5000; k++) s.occupy(1_000 + 10_000 * k, 1_000);
      return s.occupy(0, 2_000);
    };
    const clock = { lastTime: 0 };
    const withClock = new BandwidthServer(1);
    withClock.clock = clock;
    // 1000 ps before the first booking, the rest in the gap after it.
    expect(book(withClock)).toBe(3_000);
    expect(book(new BandwidthServer(1))).toBeGreaterThan(40_000_000);
    // As the present moves on, intervals behind it are dropped and later gaps still serve.
    clock.lastTime = 30_000_000;
    for (let k = 0; k < 600; k++) withClock.occupy(60_000_000 + 10_000 * k, 1_000);
    expect(withClock.occupy(30_002_000, 1_000)).toBe(30_003_000);
  });
});

const MAX_INTERVALS = 512;
const KEEP_INTERVALS = 256;

/** The calendar as first written (JS arrays and splice): the typed-array one must book exactly as it does. */

/** Intervals in order with those that touch joined. */
function joinTouching(intervals: [Ps, Ps][]): [Ps, Ps][] {
  const out: [Ps, Ps][] = [];
  for (const [start, end] of intervals) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === start) last[1] = end;
    else out.push([start, end]);
  }
  return out;
}

class ReferenceServer {
  readonly bandwidthGBps: number;
  /** Busy intervals [start, end), sorted, disjoint and not touching. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** Time at which the last reservation started (after its wait). */
  lastStartPs: Ps = 0;
  /** Total time spent serialising (utilisation = busyPs / elapsed). */
  busyPs: Ps = 0;
  /** Total bytes moved. */
  bytes = 0;
  /** Number of reservations. */
  reservations = 0;
  /** Total time reservations waited before their first byte (start - requested time). */
  queueWaitPs: Ps = 0;
  /**
   * With a clock, beyond SMALL_INTERVALS live intervals the ones that ended by the present
   * are handed to `heard` and dropped (the timeline's hand-over), and old gaps close only
   * beyond CLOCKED_MAX_INTERVALS.
   */
  clock: { lastTime: Ps } | null = null;
  readonly heard: [Ps, Ps][][] = [];

  constructor(bandwidthGBps: number) {
    if (!(bandwidthGBps > 0) || !Number.isFinite(bandwidthGBps)) {
      throw new RangeError(`bandwidth must be a positive number of GB/s, got ${bandwidthGBps}`);
    }
    this.bandwidthGBps = bandwidthGBps;
  }

  /** What the calendar does when it grows past SMALL_INTERVALS. */
  private trim(): void {
    if (this.clock === null) {
      if (this.ends.length > MAX_INTERVALS) this.closeOldGaps();
      return;
    }
    let past = 0;
    while (past < this.ends.length && this.ends[past] <= this.clock.lastTime) past++;
    if (past > 0) {
      this.heard.push(this.starts.slice(0, past).map((start, k) => [start, this.ends[k]]));
      this.starts.splice(0, past);
      this.ends.splice(0, past);
    }
  }

  /** The intervals still booked. */
  live(): [Ps, Ps][] {
    return this.starts.map((start, k) => [start, this.ends[k]]);
  }

  /** The end of the last booked interval (0 when nothing was booked). */
  get nextFreePs(): Ps {
    const n = this.ends.length;
    return n === 0 ? 0 : this.ends[n - 1];
  }

  /** Serialises `bytes` in idle time from `t` on; returns when the last byte has left. */
  reserve(t: Ps, bytes: number): Ps {
    this.bytes += bytes;
    return this.occupy(t, bytes > 0 ? transferPs(bytes, this.bandwidthGBps) : 0);
  }

  /** Books `duration` ps of idle time from `t` on (a walker's walk, a command); returns when it ends. */
  occupy(t: Ps, duration: Ps): Ps {
    this.busyPs += duration;
    this.reservations++;
    const starts = this.starts;
    const ends = this.ends;
    const n = ends.length;
    if (n === 0 || t >= ends[n - 1]) {
      // In time order: after everything booked.
      this.lastStartPs = t;
      if (duration > 0) {
        if (n > 0 && ends[n - 1] === t) ends[n - 1] = t + duration;
        else {
          starts.push(t);
          ends.push(t + duration);
          if (n + 1 > MAX_INTERVALS) this.trim();
        }
      }
      return t + duration;
    }
    return this.fill(t, duration);
  }

  /** Books `duration` of idle time from `t` on, gap by gap. */
  private fill(t: Ps, duration: Ps): Ps {
    const starts = this.starts;
    const ends = this.ends;
    let i = this.firstEndingAfter(t);
    let cursor = t;
    let remaining = duration;
    let first = -1;
    for (;;) {
      if (i < ends.length && starts[i] <= cursor) {
        cursor = ends[i];
        i++;
        continue;
      }
      if (first < 0) first = cursor;
      if (remaining === 0) break;
      const gapEnd = i < starts.length ? starts[i] : Infinity;
      const use = Math.min(remaining, gapEnd - cursor);
      // Book [cursor, cursor + use): it touches interval i - 1 on the left when equal.
      const joinsLeft = i > 0 && ends[i - 1] === cursor;
      const joinsRight = i < starts.length && starts[i] === cursor + use;
      if (joinsLeft && joinsRight) {
        ends[i - 1] = ends[i];
        starts.splice(i, 1);
        ends.splice(i, 1);
        i--; // the loop then skips the merged interval
      } else if (joinsLeft) {
        ends[i - 1] = cursor + use;
      } else if (joinsRight) {
        starts[i] = cursor; // the loop then skips interval i, now [cursor, its end)
      } else {
        starts.splice(i, 0, cursor);
        ends.splice(i, 0, cursor + use);
        i++;
      }
      cursor += use;
      remaining -= use;
      if (remaining === 0) break;
    }
    if (ends.length > MAX_INTERVALS) this.trim();
    this.queueWaitPs += first - t;
    this.lastStartPs = first;
    return cursor;
  }

  /** Index of the first interval that ends after `t` (binary search). */
  private firstEndingAfter(t: Ps): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Merges the oldest intervals into one so that KEEP_INTERVALS remain. */
  private closeOldGaps(): void {
    const drop = this.ends.length - KEEP_INTERVALS;
    this.starts[drop] = this.starts[0];
    this.starts.splice(0, drop);
    this.ends.splice(0, drop);
  }

  reset(): void {
    this.starts.length = 0;
    this.ends.length = 0;
    this.lastStartPs = 0;
    this.busyPs = 0;
    this.bytes = 0;
    this.reservations = 0;
    this.queueWaitPs = 0;
  }
}

describe('BandwidthServer against the array-and-splice calendar', () => {
  it('books every request at the same times, with the same statistics, past the window', () => {
    // Requests mostly in time order, some far in the past, many small gaps: enough to close old gaps often.
    const request = fc.tuple(fc.nat(100), fc.integer({ min: -600_000, max: 3_000 }), fc.nat(60));
    fc.assert(
      fc.property(fc.array(request, { minLength: 1500, maxLength: 2500 }), (requests) => {
        const fast = new BandwidthServer(1000);
        const ref = new ReferenceServer(1000);
        let now = 0;
        for (const [kind, back, bytes] of requests) {
          now += kind % 7 === 0 ? 0 : 700;
          const t = Math.max(0, now + (kind < 90 ? Math.abs(back) % 2_000 : back));
          const got = kind % 5 === 0 ? fast.occupy(t, bytes * 10) : fast.reserve(t, bytes);
          const want = kind % 5 === 0 ? ref.occupy(t, bytes * 10) : ref.reserve(t, bytes);
          expect(got).toBe(want);
          expect(fast.lastStartPs).toBe(ref.lastStartPs);
          expect(fast.nextFreePs).toBe(ref.nextFreePs);
        }
        expect([fast.busyPs, fast.queueWaitPs, fast.bytes, fast.reservations]).toEqual([
          ref.busyPs,
          ref.queueWaitPs,
          ref.bytes,
          ref.reservations,
        ]);
      }),
      { seed: 11, numRuns: 30, endOnFailure: true },
    );
  });

  it("with the simulation's clock, hands the recorder every interval once it has ended, in order, none twice", () => {
    // The present advances; requests come at it or later: every other one a little later,
    // the others far ahead (as a copy engine books them), so the calendar holds hundreds of
    // intervals ahead of the present and trims often.
    const request = fc.tuple(fc.nat(200_000), fc.nat(60));
    fc.assert(
      fc.property(fc.array(request, { minLength: 2500, maxLength: 3500 }), (requests) => {
        const clock = { lastTime: 0 };
        const fast = new BandwidthServer(1000);
        fast.clock = clock;
        const heard: [Ps, Ps][] = [];
        let handovers = 0;
        fast.recorder = {
          settled: (starts, ends, from, to) => {
            handovers++;
            for (let k = from; k < to; k++) {
              // Only what has ended by the present is final.
              if (ends[k] > clock.lastTime && clock.lastTime !== Infinity)
                throw new Error(`handed over [${starts[k]}, ${ends[k]}) before ${clock.lastTime}`);
              heard.push([starts[k], ends[k]]);
            }
          },
        };
        const ref = new ReferenceServer(1000);
        ref.clock = clock;
        requests.forEach(([ahead, bytes], i) => {
          if (i % 3 === 0) clock.lastTime += 100;
          const t = clock.lastTime + (i % 2 === 0 ? ahead % 3_000 : 20_000 + ahead);
          expect(fast.reserve(t, bytes)).toBe(ref.reserve(t, bytes));
        });
        // Handed over in batches while the run went on; at the end the rest. Together the
        // reference's busy time exactly (an interval it dropped at the present may have been
        // joined by a booking that touched it: compare with touching intervals joined).
        expect(handovers).toBeGreaterThan(10);
        expect(ref.heard.flat().length).toBeGreaterThan(100);
        clock.lastTime = Infinity;
        fast.settleAll();
        expect(joinTouching(heard)).toEqual(joinTouching([...ref.heard.flat(), ...ref.live()]));
      }),
      { seed: 13, numRuns: 20, endOnFailure: true },
    );
  });
});
