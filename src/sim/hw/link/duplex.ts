/**
 * The two directions of a full-duplex link, plus the link-level traffic that flows against
 * the data: PCIe ACK and UpdateFC DLLPs, write completions of a coherent link.
 *
 * That reverse traffic is produced while the data streams, spread over the data's
 * serialisation interval. Queuing it on the reverse server as one block would occupy the
 * reverse direction for its whole length at the start of the transfer and delay an
 * unrelated interrupt behind microseconds of acknowledgements that really trickle out in
 * the gaps. So it is kept as a background stream per direction: a rate over a window.
 * A foreground reservation on that direction pays, in extra bytes, the background that
 * overlaps its own transmission; background on an idle direction costs no one anything.
 * Saturated in both directions, each direction thus loses the background's share of its
 * bandwidth, which is what the framing maths predicts.
 *
 * Approximations: the background's window is its data's serialisation window (the far end's
 * latency shift is ignored); a reservation already made is not delayed retroactively by
 * background declared after it; a window that starts before the previous one ends merges
 * with it at the average rate, and a later, disjoint window replaces it (the forward
 * server is FCFS, so windows arrive in time order and only queued-ahead traffic loses).
 */
import type { Ps } from '../../engine/time.js';
import { BandwidthServer } from '../bandwidth-server.js';
import type { Direction, LinkStats } from './types.js';

export class Duplex {
  readonly servers: readonly [BandwidthServer, BandwidthServer];
  /** Per direction: background bytes per ps, over [from, until). */
  private readonly rate = new Float64Array(2);
  private readonly from = new Float64Array(2);
  private readonly until = new Float64Array(2);

  constructor(bandwidthGBps: number) {
    this.servers = [new BandwidthServer(bandwidthGBps), new BandwidthServer(bandwidthGBps)];
  }

  /** Reserves `wire` bytes on `dir` no earlier than `t`, plus the background they must interleave with; returns the end. */
  reserve(t: Ps, dir: Direction, wire: number): Ps {
    const server = this.servers[dir];
    let bytes = wire;
    const rate = this.rate[dir];
    if (rate > 0) {
      const start = t > server.nextFreePs ? t : server.nextFreePs;
      const naiveEnd = start + (wire * 1000) / server.bandwidthGBps;
      const lo = start > this.from[dir] ? start : this.from[dir];
      const hi = naiveEnd < this.until[dir] ? naiveEnd : this.until[dir];
      if (hi > lo) bytes += rate * (hi - lo);
    }
    return server.reserve(t, bytes);
  }

  /**
   * Sends `packets` packets of `wire` bytes carrying `payload` bytes of data on `dir`, and
   * records them in `stats`; returns when the last byte has left (add the latency).
   */
  send(stats: LinkStats, t: Ps, dir: Direction, packets: number, wire: number, payload: number): Ps {
    const server = this.servers[dir];
    const busyBefore = server.busyPs;
    const end = this.reserve(t, dir, wire);
    stats.payloadBytes[dir] += payload;
    stats.wireBytes[dir] += wire;
    stats.packets[dir] += packets;
    stats.busyPs[dir] += server.busyPs - busyBefore;
    return end;
  }

  /** Declares `bytes` of background traffic on `dir`, produced evenly over [from, until). */
  background(dir: Direction, bytes: number, from: Ps, until: Ps): void {
    if (bytes <= 0) return;
    if (until <= from) {
      // Nothing to spread over (a zero-length send): queue it as it is.
      this.servers[dir].reserve(from, bytes);
      return;
    }
    let total = bytes;
    let end = until;
    const oldUntil = this.until[dir];
    if (oldUntil > from && this.rate[dir] > 0) {
      // Carry over what the previous window has not yet produced by `from`.
      const oldFrom = this.from[dir] > from ? this.from[dir] : from;
      total += this.rate[dir] * (oldUntil - oldFrom);
      if (oldUntil > end) end = oldUntil;
    }
    this.rate[dir] = total / (end - from);
    this.from[dir] = from;
    this.until[dir] = end;
  }
}
