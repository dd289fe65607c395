import { transferPs, type Ps } from '../engine/time.js';

/**
 * A first-come-first-served server that moves bytes at a fixed bandwidth: one direction of
 * a link, one DRAM channel's data bus, the system memory controller. A reservation starts
 * when both the request and the server are ready and occupies the server for the
 * serialisation time of its bytes.
 *
 * Order is the order of the calls, not of their times: a reservation made for a later
 * time pushes `nextFreePs` forward and an earlier-timed call made after it waits behind
 * it. Callers driven by the event queue call in time order, so the two agree.
 */
export class BandwidthServer {
  readonly bandwidthGBps: number;
  /** Time at which the last reservation ends. */
  nextFreePs: Ps = 0;
  /** Time at which the last reservation started (after its queue wait). */
  lastStartPs: Ps = 0;
  /** Total time spent serialising (utilisation = busyPs / elapsed). */
  busyPs: Ps = 0;
  /** Total bytes moved. */
  bytes = 0;
  /** Number of reservations. */
  reservations = 0;
  /** Total time reservations waited for the server (start - requested time). */
  queueWaitPs: Ps = 0;

  constructor(bandwidthGBps: number) {
    if (!(bandwidthGBps > 0) || !Number.isFinite(bandwidthGBps)) {
      throw new RangeError(`bandwidth must be a positive number of GB/s, got ${bandwidthGBps}`);
    }
    this.bandwidthGBps = bandwidthGBps;
  }

  /** Serialises `bytes` starting no earlier than `t`; returns when the last byte has left. */
  reserve(t: Ps, bytes: number): Ps {
    const start = t > this.nextFreePs ? t : this.nextFreePs;
    const duration = bytes > 0 ? transferPs(bytes, this.bandwidthGBps) : 0;
    const end = start + duration;
    this.queueWaitPs += start - t;
    this.busyPs += duration;
    this.bytes += bytes;
    this.reservations++;
    this.lastStartPs = start;
    this.nextFreePs = end;
    return end;
  }

  reset(): void {
    this.nextFreePs = 0;
    this.lastStartPs = 0;
    this.busyPs = 0;
    this.bytes = 0;
    this.reservations = 0;
    this.queueWaitPs = 0;
  }
}
