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
 * Calls in time order (the common case) append to the calendar's end in O(1). Intervals
 * that end before the simulation's present (`clock.lastTime`: no request can arrive
 * earlier) are dropped; the calendar grows to hold bookings ahead of the present (a copy
 * engine books a whole copy ahead of time) up to MAX_INTERVALS. Beyond that, or with no
 * clock attached beyond SMALL_INTERVALS, the oldest gaps are closed (treated as busy),
 * which only matters to a request issued that far in the past.
 */
const SMALL_INTERVALS = 512;
const MAX_INTERVALS = 1 << 16;
/**
 * With a clock, a trim that leaves a long future booked lets this many more intervals in
 * before the next: a calendar holding more than SMALL_INTERVALS ahead of the present
 * would otherwise search for its past on every booking to drop one interval.
 */
const TRIM_SLACK = 64;

/** What the calendar needs of the simulation's clock: the time of the event being handled. */
export interface PresentClock {
  readonly lastTime: Ps;
}

/**
 * Hears the calendar's busy intervals once they are final (a run's component timeline,
 * result/timeline.ts): intervals [starts[k], ends[k]) for k in [from, to), in time order.
 */
export interface BusyRecorder {
  settled(starts: Float64Array, ends: Float64Array, from: number, to: number): void;
}

export class BandwidthServer {
  readonly bandwidthGBps: number;
  /**
   * Busy intervals [start, end), sorted, disjoint and not touching, in slots head .. tail - 1
   * of two flat arrays (allocation-free; closing old gaps only moves `head`).
   */
  private starts = new Float64Array(2 * SMALL_INTERVALS);
  private ends = new Float64Array(2 * SMALL_INTERVALS);
  private head = 0;
  private tail = 0;
  /** A booking that leaves more live intervals than this trims (never above the limit, so gaps close as they would). */
  private trimAt = SMALL_INTERVALS;
  /** The simulation's clock, attached by the machine: lets the calendar drop the past and hold a long future. */
  clock: PresentClock | null = null;
  /** Hears each interval as the calendar lets go of it; null (no timeline) costs the rare trim one check. */
  recorder: BusyRecorder | null = null;
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
  /** The size of the last reservation and its transfer time. */
  private lastBytes = 0;
  private lastTransferPs: Ps = 0;

  constructor(bandwidthGBps: number) {
    if (!(bandwidthGBps > 0) || !Number.isFinite(bandwidthGBps)) {
      throw new RangeError(`bandwidth must be a positive number of GB/s, got ${bandwidthGBps}`);
    }
    this.bandwidthGBps = bandwidthGBps;
  }

  /** The end of the last booked interval (0 when nothing was booked). */
  get nextFreePs(): Ps {
    return this.tail === this.head ? 0 : this.ends[this.tail - 1];
  }

  /** Serialises `bytes` in idle time from `t` on; returns when the last byte has left. */
  reserve(t: Ps, bytes: number): Ps {
    this.bytes += bytes;
    if (bytes !== this.lastBytes) {
      // Most servers see a few sizes over and over (a link's request TLP, a page, a line).
      this.lastBytes = bytes;
      this.lastTransferPs = bytes > 0 ? transferPs(bytes, this.bandwidthGBps) : 0;
    }
    return this.occupy(t, this.lastTransferPs);
  }

  /** reserve(t, bytes) when the caller already knows transferPs(bytes, bandwidthGBps): `duration`. */
  reserveTimed(t: Ps, bytes: number, duration: Ps): Ps {
    this.bytes += bytes;
    return this.occupy(t, duration);
  }

  /** Books `duration` ps of idle time from `t` on (a walker's walk, a command); returns when it ends. */
  occupy(t: Ps, duration: Ps): Ps {
    this.busyPs += duration;
    this.reservations++;
    const ends = this.ends;
    const n = this.tail;
    if (n === this.head || t >= ends[n - 1]) {
      // In time order: after everything booked.
      this.lastStartPs = t;
      if (duration > 0) {
        if (n > this.head && ends[n - 1] === t) ends[n - 1] = t + duration;
        else {
          if (n === this.starts.length) this.makeRoom();
          this.starts[this.tail] = t;
          this.ends[this.tail++] = t + duration;
          if (this.tail - this.head > this.trimAt) this.trim();
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
    let i = this.lastEndingAfter(t);
    let cursor = t;
    let remaining = duration;
    let first = -1;
    for (;;) {
      if (i < this.tail && starts[i] <= cursor) {
        cursor = ends[i];
        i++;
        continue;
      }
      if (first < 0) first = cursor;
      if (remaining === 0) break;
      const gapEnd = i < this.tail ? starts[i] : Infinity;
      const use = Math.min(remaining, gapEnd - cursor);
      // Book [cursor, cursor + use): it touches interval i - 1 on the left when equal.
      const joinsLeft = i > this.head && ends[i - 1] === cursor;
      const joinsRight = i < this.tail && starts[i] === cursor + use;
      if (joinsLeft && joinsRight) {
        ends[i - 1] = ends[i];
        this.remove(i);
        i--; // the loop then skips the merged interval
      } else if (joinsLeft) {
        ends[i - 1] = cursor + use;
      } else if (joinsRight) {
        starts[i] = cursor; // the loop then skips interval i, now [cursor, its end)
      } else {
        i = this.insertAt(i, cursor, cursor + use);
        i++;
      }
      cursor += use;
      remaining -= use;
      if (remaining === 0) break;
    }
    if (this.tail - this.head > this.trimAt) this.trim();
    this.queueWaitPs += first - t;
    this.lastStartPs = first;
    return cursor;
  }

  /** Inserts [start, end) before slot `i`; returns the slot it landed in (slots move when the arrays are full). */
  private insertAt(i: number, start: Ps, end: Ps): number {
    if (this.tail === this.starts.length) i -= this.makeRoom();
    const starts = this.starts;
    const ends = this.ends;
    if (this.tail - i > 16) {
      starts.copyWithin(i + 1, i, this.tail);
      ends.copyWithin(i + 1, i, this.tail);
    } else {
      // Requests mostly land near the end of the calendar: a loop moves a few slots
      // faster than copyWithin's call.
      for (let k = this.tail; k > i; k--) {
        starts[k] = starts[k - 1];
        ends[k] = ends[k - 1];
      }
    }
    this.tail++;
    starts[i] = start;
    ends[i] = end;
    return i;
  }

  private remove(i: number): void {
    const starts = this.starts;
    const ends = this.ends;
    const last = --this.tail;
    for (let k = i; k < last; k++) {
      starts[k] = starts[k + 1];
      ends[k] = ends[k + 1];
    }
  }

  /**
   * Makes a free slot at the end: moves the live intervals to slot 0, and doubles the
   * arrays when they are more than half full. Returns by how many slots the intervals moved.
   */
  private makeRoom(): number {
    const shift = this.head;
    const live = this.tail - this.head;
    if (live * 2 > this.starts.length) {
      const starts = new Float64Array(this.starts.length * 2);
      const ends = new Float64Array(this.starts.length * 2);
      starts.set(this.starts.subarray(this.head, this.tail));
      ends.set(this.ends.subarray(this.head, this.tail));
      this.starts = starts;
      this.ends = ends;
    } else {
      this.starts.copyWithin(0, shift, this.tail);
      this.ends.copyWithin(0, shift, this.tail);
    }
    this.head = 0;
    this.tail = live;
    return shift;
  }

  /**
   * Keeps the calendar bounded: drops intervals that ended before the present, then, if
   * more than the limit remain (MAX_INTERVALS with a clock, SMALL_INTERVALS without),
   * closes the oldest gaps.
   */
  private trim(): void {
    const clock = this.clock;
    // A calendar booked ahead of the present trims on every booking; the first interval
    // tells at once whether any has ended.
    if (clock !== null && this.ends[this.head] <= clock.lastTime) {
      const past = this.firstEndingAfter(clock.lastTime);
      if (past > this.head) {
        this.recorder?.settled(this.starts, this.ends, this.head, past);
        this.head = past;
      }
    }
    const limit = clock === null ? SMALL_INTERVALS : MAX_INTERVALS;
    if (this.tail - this.head > limit) this.closeOldGaps(limit / 2);
    this.trimAt =
      clock === null ? limit : Math.min(limit, Math.max(SMALL_INTERVALS, this.tail - this.head + TRIM_SLACK));
  }

  /**
   * firstEndingAfter(t) for a `t` before the last interval's end, searched from the end:
   * a late request nearly always lands in the last interval or just before it, so doubling
   * steps back from the tail find its slot in one or two comparisons where a binary search
   * over the whole calendar takes log2(hundreds).
   */
  private lastEndingAfter(t: Ps): number {
    const ends = this.ends;
    const head = this.head;
    let hi = this.tail - 1; // ends[hi] > t
    let step = 1;
    let lo = hi - step;
    while (lo >= head && ends[lo] > t) {
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
    // The slot is in (lo, hi]: ends[lo] <= t (or lo is before the head) and ends[hi] > t.
    lo = lo < head ? head : lo + 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Slot of the first interval that ends after `t` (binary search). */
  private firstEndingAfter(t: Ps): number {
    const ends = this.ends;
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Merges the oldest intervals into one so that `keep` remain. */
  private closeOldGaps(keep: number): void {
    const drop = this.tail - this.head - keep;
    // The recorder hears them as they were; the merged interval it hears later starts where they end.
    this.recorder?.settled(this.starts, this.ends, this.head, this.head + drop);
    this.starts[this.head + drop] = this.starts[this.head];
    this.head += drop;
  }

  /** Hands the recorder every interval still booked (at the end of a run: they are final then). */
  settleAll(): void {
    this.recorder?.settled(this.starts, this.ends, this.head, this.tail);
  }

  reset(): void {
    this.head = 0;
    this.tail = 0;
    this.trimAt = SMALL_INTERVALS;
    this.lastStartPs = 0;
    this.busyPs = 0;
    this.bytes = 0;
    this.reservations = 0;
    this.queueWaitPs = 0;
  }
}
