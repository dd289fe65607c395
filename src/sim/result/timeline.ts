/**
 * The component timeline: when each link direction, copy engine, fault handler, DRAM
 * channel and the host memory was busy, in the spirit of Akita's Daisen. It listens from
 * outside. A bandwidth server's calendar already holds its busy intervals, merged where
 * they touch; it hands each one to its recorder when it drops it as past (and the rest at
 * the end), so a link or DRAM channel costs the run nothing per transfer. Copy engines and
 * fault handlers are heard through the machine's copyChunk and faultBatch hooks.
 *
 * All tracks share one budget of intervals. When it is spent, the track holding the most
 * closes its shorter half of idle gaps (the intervals on both sides merge, keeping their
 * busy time), and gaps shorter than those from then on: a long run keeps its whole span at
 * a coarser grain instead of losing its end, and each track says how many gaps it closed
 * and how long the longest was. Everything follows the bookings in call order, so the same
 * run gives the same timeline.
 */
import type { Ps } from '../engine/time.js';
import type { BandwidthServer, BusyRecorder } from '../hw/bandwidth-server.js';
import { SwitchedLink } from '../hw/link/switched.js';
import { D2H, H2D } from '../hw/link/types.js';
import type { MachineHooks } from '../machine/hooks.js';
import type { Machine } from '../machine/machine.js';
import type { Timeline, TimelineKind, TimelineTrack } from './types.js';

/** Powers of two of idle gaps in ps (2^53 ps is the simulation's horizon), plus one for none. */
const BUCKETS = 65;

/** The interval budget the tracks of one timeline share. */
export class TimelineBudget {
  used = 0;
  readonly tracks: BusyTrack[] = [];
  constructor(readonly max: number) {}

  /** The track holding most intervals closes half of its gaps. */
  makeRoom(): void {
    let fullest = this.tracks[0];
    for (const t of this.tracks) if (t.intervals > fullest.intervals) fullest = t;
    fullest.halve();
  }
}

/** What a track is and how it reads its bookings. */
export interface TrackSpec {
  component: string;
  agent: string;
  kind: TimelineKind;
  /** What a booking's count counts ('chunks', 'faults'); absent: the track keeps busy time only. */
  countUnit?: string;
  /** Whether the track's intervals move bytes (all but the fault handler's). */
  movesBytes: boolean;
  /**
   * Whether bookings that touch are one interval: yes for a server (a saturated link is one
   * busy stretch), no for fault batches and copy chunks, which a user wants one by one.
   */
  joinTouching: boolean;
  /** A server's rate in bytes per ps: its intervals' bytes are their length times it. */
  bytesPerPs?: number;
}

/**
 * The busy intervals of one component in picoseconds, in five column arrays that grow by
 * doubling: sorted by start and disjoint, every idle gap between two intervals at least as
 * long as the gaps the budget made it close.
 */
export class BusyTrack implements BusyRecorder {
  private starts = new Float64Array(16);
  private ends = new Float64Array(16);
  private busyPs = new Float64Array(16);
  private counts = new Float64Array(16);
  private bytes = new Float64Array(16);
  private n = 0;
  /** Idle gaps shorter than this are closed (it grows each time the track is halved). */
  private gapPs = 0;
  private closedGaps = 0;
  private longestClosedPs = 0;
  /** The end of the last interval a calendar handed over. */
  private settledEnd = -Infinity;

  constructor(
    readonly spec: TrackSpec,
    private readonly budget: TimelineBudget,
  ) {
    budget.tracks.push(this);
  }

  get intervals(): number {
    return this.n;
  }

  settled(starts: Float64Array, ends: Float64Array, from: number, to: number): void {
    const rate = this.spec.bytesPerPs ?? 0;
    let k = from;
    while (k < to) {
      k = this.joinRun(starts, ends, k, to, rate);
      if (k === to) return;
      // A calendar that closed its oldest gaps hands over the merged interval from its old
      // start: only its part after what was handed over before is new.
      const start = starts[k] > this.settledEnd ? starts[k] : this.settledEnd;
      const end = ends[k];
      k++;
      if (end <= start) continue;
      this.settledEnd = end;
      this.record(start, end, end - start, 0, (end - start) * rate);
    }
  }

  /**
   * Joins handed-over intervals from `k` on into the last one while their gaps close (what
   * record does for each, kept in locals: most intervals of a long run end here); returns
   * the first one it did not take.
   */
  private joinRun(starts: Float64Array, ends: Float64Array, k: number, to: number, rate: number): number {
    const last = this.n - 1;
    if (last < 0) return k;
    const lastStart = this.starts[last];
    let lastEnd = this.ends[last];
    let busy = this.busyPs[last];
    let bytes = this.bytes[last];
    let settledEnd = this.settledEnd;
    for (; k < to; k++) {
      const start = starts[k] > settledEnd ? starts[k] : settledEnd;
      const end = ends[k];
      if (end <= start) continue;
      const idle = start - lastEnd;
      if (start < lastStart || !this.closes(idle)) break;
      settledEnd = end;
      if (idle > 0) this.noteClosed(idle);
      if (end > lastEnd) lastEnd = end;
      const b = busy + (end - start);
      const span = lastEnd - lastStart;
      busy = b < span ? b : span;
      bytes += (end - start) * rate;
    }
    this.ends[last] = lastEnd;
    this.busyPs[last] = busy;
    this.bytes[last] = bytes;
    this.settledEnd = settledEnd;
    return k;
  }

  /** Books [start, end), `busy` of it busy, for `count` items of `bytes`. */
  record(start: Ps, end: Ps, busy: Ps, count: number, bytes: number): void {
    if (this.joinsLast(start, end, busy, count, bytes)) return;
    if (this.budget.used >= this.budget.max) {
      // Halving this track moves its intervals and may close the gap before this booking.
      this.budget.makeRoom();
      if (this.joinsLast(start, end, busy, count, bytes)) return;
    }
    const n = this.n;
    if (n === 0 || start >= this.starts[n - 1]) {
      this.insert(n, start, end, busy, count, bytes);
      return;
    }
    // Before the last interval: copies that overlap on an engine.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= start) lo = mid + 1;
      else hi = mid;
    }
    this.insert(lo, start, end, busy, count, bytes);
    this.settle(lo);
  }

  /** Joins the booking to the last interval when it starts after it within a closed gap (the common case). */
  private joinsLast(start: Ps, end: Ps, busy: Ps, count: number, bytes: number): boolean {
    const last = this.n - 1;
    if (last < 0 || start < this.starts[last]) return false;
    const idle = start - this.ends[last];
    if (!this.closes(idle)) return false;
    this.join(last, idle, end, busy, count, bytes);
    return true;
  }

  /** Whether an idle time of `idle` between two bookings is hidden (negative: they overlap). */
  private closes(idle: Ps): boolean {
    return idle < this.gapPs || idle < 0 || (idle === 0 && this.spec.joinTouching);
  }

  /** Adds to interval `i` a booking `idle` after its end (negative: overlapping it) that ends at `end`. */
  private join(i: number, idle: Ps, end: Ps, busy: Ps, count: number, bytes: number): void {
    if (idle > 0) this.noteClosed(idle);
    if (end > this.ends[i]) this.ends[i] = end;
    const b = this.busyPs[i] + busy;
    const span = this.ends[i] - this.starts[i];
    // Overlapping bookings (two copies on one engine) are not busier than their span.
    this.busyPs[i] = b < span ? b : span;
    this.counts[i] += count;
    this.bytes[i] += bytes;
  }

  private noteClosed(idle: Ps): void {
    this.closedGaps++;
    if (idle > this.longestClosedPs) this.longestClosedPs = idle;
  }

  private insert(i: number, start: Ps, end: Ps, busy: Ps, count: number, bytes: number): void {
    if (this.n === this.starts.length) this.grow();
    for (let k = this.n; k > i; k--) this.copySlot(k - 1, k);
    this.starts[i] = start;
    this.ends[i] = end;
    this.busyPs[i] = busy;
    this.counts[i] = count;
    this.bytes[i] = bytes;
    this.n++;
    this.budget.used++;
  }

  /** After an insertion at `i`: merges it with the neighbours it now overlaps or nearly touches. */
  private settle(i: number): void {
    if (i > 0 && this.closes(this.starts[i] - this.ends[i - 1])) {
      i--;
      this.absorbNext(i);
    }
    while (i + 1 < this.n && this.closes(this.starts[i + 1] - this.ends[i])) this.absorbNext(i);
  }

  /** Merges interval i + 1 into i and removes it. */
  private absorbNext(i: number): void {
    const next = i + 1;
    this.join(
      i,
      this.starts[next] - this.ends[i],
      this.ends[next],
      this.busyPs[next],
      this.counts[next],
      this.bytes[next],
    );
    for (let k = next + 1; k < this.n; k++) this.copySlot(k, k - 1);
    this.n--;
    this.budget.used--;
  }

  private copySlot(from: number, to: number): void {
    this.starts[to] = this.starts[from];
    this.ends[to] = this.ends[from];
    this.busyPs[to] = this.busyPs[from];
    this.counts[to] = this.counts[from];
    this.bytes[to] = this.bytes[from];
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.starts = grow(this.starts);
    this.ends = grow(this.ends);
    this.busyPs = grow(this.busyPs);
    this.counts = grow(this.counts);
    this.bytes = grow(this.bytes);
  }

  /**
   * Closes the shorter half of the idle gaps and, from then on, every gap shorter than the
   * power of two that splits them. Gaps are ranked by their power of two (linear time, no
   * sort); in the bucket where half is reached the earlier ones close first, so periodic
   * traffic with many equal gaps keeps half its intervals instead of collapsing into one.
   */
  halve(): void {
    const n = this.n;
    if (n < 2) return;
    const starts = this.starts;
    const ends = this.ends;
    let toClose = n - Math.max(1, n >> 1);
    const bucket = new Uint8Array(n - 1);
    const perBucket = new Float64Array(BUCKETS);
    for (let k = 0; k < n - 1; k++) {
      const idle = starts[k + 1] - ends[k];
      // Bucket 0 holds touching intervals (fault batches back to back), bucket b >= 1 gaps in [2^(b-1), 2^b) ps.
      const b = idle < 1 ? 0 : idle < 2 ** 32 ? 32 - Math.clz32(idle) : 64 - Math.clz32(idle / 2 ** 32);
      bucket[k] = b;
      perBucket[b]++;
    }
    let split = 0;
    while (perBucket[split] < toClose) toClose -= perBucket[split++];
    const busy = this.busyPs;
    const counts = this.counts;
    const bytes = this.bytes;
    let w = 0;
    for (let r = 1; r < n; r++) {
      const b = bucket[r - 1];
      if (b < split || (b === split && toClose-- > 0)) {
        const idle = starts[r] - ends[w];
        if (idle > 0) this.noteClosed(idle);
        ends[w] = ends[r];
        busy[w] += busy[r];
        counts[w] += counts[r];
        bytes[w] += bytes[r];
      } else {
        w++;
        starts[w] = starts[r];
        ends[w] = ends[r];
        busy[w] = busy[r];
        counts[w] = counts[r];
        bytes[w] = bytes[r];
      }
    }
    this.budget.used -= n - (w + 1);
    this.n = w + 1;
    const below = split === 0 ? 0 : 2 ** (split - 1);
    if (below > this.gapPs) this.gapPs = below;
  }

  finish(): TimelineTrack {
    const { component, agent, kind, countUnit, movesBytes } = this.spec;
    const column = (a: Float64Array, divisor: number) => Array.from(a.subarray(0, this.n), (v) => v / divisor);
    const track: TimelineTrack = {
      component,
      agent,
      kind,
      startNs: column(this.starts, 1000),
      endNs: column(this.ends, 1000),
      busyNs: column(this.busyPs, 1000),
      closedGaps: this.closedGaps,
      closedGapNs: this.longestClosedPs / 1000,
    };
    if (movesBytes) track.bytes = column(this.bytes, 1);
    if (countUnit !== undefined) {
      track.count = column(this.counts, 1);
      track.countUnit = countUnit;
    }
    return track;
  }
}

/** One track per component of the machine, each listening where that component is booked. */
export class TimelineRecorder {
  private readonly budget: TimelineBudget;
  private readonly servers: BandwidthServer[] = [];
  /** Per device: its copy engines' tracks. */
  private readonly copyEngines: BusyTrack[][] = [];
  private readonly faultHandlers: BusyTrack[] = [];

  constructor(
    m: Machine,
    readonly maxIntervals: number,
  ) {
    const budget = (this.budget = new TimelineBudget(maxIntervals));
    const listen = (server: BandwidthServer, component: string, agent: string, kind: TimelineKind) => {
      const bytesPerPs = server.bandwidthGBps / 1000;
      server.recorder = new BusyTrack(
        { component, agent, kind, movesBytes: true, joinTouching: true, bytesPerPs },
        budget,
      );
      this.servers.push(server);
    };
    for (const dev of m.devices) {
      const name = dev.name;
      // A device under a switch: its own link here; the shared upstream one is the host's.
      const own = dev.link instanceof SwitchedLink ? dev.link.downstream : dev.link;
      listen(own.servers[H2D], `${name}.link.h2d`, name, 'link');
      listen(own.servers[D2H], `${name}.link.d2h`, name, 'link');
      this.copyEngines.push(
        Array.from(
          { length: dev.config.copyEngines.count },
          (_, e) =>
            new BusyTrack(
              {
                component: `${name}.copy${e}`,
                agent: name,
                kind: 'copy-engine',
                countUnit: 'chunks',
                movesBytes: true,
                joinTouching: false,
              },
              budget,
            ),
        ),
      );
      this.faultHandlers.push(
        new BusyTrack(
          {
            component: `${name}.fault-handler`,
            agent: name,
            kind: 'fault-handler',
            countUnit: 'faults',
            movesBytes: false,
            joinTouching: false,
          },
          budget,
        ),
      );
      dev.dram.dataBuses.forEach((bus, ch) => listen(bus, `${name}.dram.ch${ch}`, name, 'dram-channel'));
    }
    listen(m.sysmem.bus, 'host.dram', 'host', 'host-memory');
    const up = m.switchUpstream;
    if (up) {
      listen(up.servers[H2D], 'switch.link.h2d', 'host', 'link');
      listen(up.servers[D2H], 'switch.link.d2h', 'host', 'link');
    }
  }

  /** Sets the copy and fault-batch listeners on `hooks`. */
  attach(hooks: MachineHooks): void {
    hooks.copyChunk = (device, engine, start, end, bytes) =>
      this.copyEngines[device][engine].record(start, end, end - start, 1, bytes);
    hooks.faultBatch = (device, start, end, faults) =>
      this.faultHandlers[device].record(start, end, end - start, faults, 0);
  }

  /** The tracks that saw any work, in machine order (device by device, then the host's). */
  finish(): Timeline {
    for (const s of this.servers) s.settleAll();
    return {
      maxIntervals: this.maxIntervals,
      tracks: this.budget.tracks.filter((t) => t.intervals > 0).map((t) => t.finish()),
    };
  }
}
