import { transferPs, type Ps } from '../engine/time.js';

/**
 * A server that moves bytes at a fixed bandwidth: one direction of a link, one DRAM
 * channel's data bus, the system memory controller.
 *
 * It keeps a calendar of busy intervals, so requests are served in simulated-time order
 * whatever the order of the calls: a transfer booked for a later time (a page-table
 * write at the end of a fault batch, a copy engine's later chunk) occupies only its own
 * interval, and a request issued earlier in simulated time but booked after it still
 * uses the idle time before it. A request fills idle time from its ready time onwards,
 * interleaving with later bookings where they leave gaps (as packets of two streams
 * interleave on a wire), and ends when its last byte has been sent.
 *
 * Calls in time order (the common case) append to the calendar's end in O(1). The
 * calendar keeps at most MAX_INTERVALS intervals: beyond that the oldest gaps are closed
 * (treated as busy), which only matters to a request issued that far in the past.
 */
const MAX_INTERVALS = 512;
const KEEP_INTERVALS = 256;

export class BandwidthServer {
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

  constructor(bandwidthGBps: number) {
    if (!(bandwidthGBps > 0) || !Number.isFinite(bandwidthGBps)) {
      throw new RangeError(`bandwidth must be a positive number of GB/s, got ${bandwidthGBps}`);
    }
    this.bandwidthGBps = bandwidthGBps;
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
          if (n + 1 > MAX_INTERVALS) this.closeOldGaps();
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
    if (ends.length > MAX_INTERVALS) this.closeOldGaps();
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
