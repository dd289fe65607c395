import type { DeviceConfig } from '../hw/device.js';
import { nsToPs, type Ps } from '../engine/time.js';

/**
 * The device's replayable fault buffer. Faulting contexts append an entry and stall; the
 * driver fetches up to `batchSize` entries per batch, resolves them (duplicates of one
 * device page coalesce), installs the mappings and replays, which restarts the stalled
 * contexts. Entries live in flat arrays used as a ring. A fault that finds the buffer
 * full is dropped, as the hardware drops it: its context waits for the next replay and
 * then retries the access, which faults again.
 */
export class FaultBuffer {
  readonly batchSize: number;
  readonly capacity: number;
  readonly interruptPs: Ps;
  readonly batchFetchPs: Ps;
  readonly replayPs: Ps;

  private readonly ctx: Int32Array;
  private readonly page: Float64Array;
  private readonly write: Uint8Array;
  private readonly time: Float64Array;
  private head = 0;
  length = 0;
  /** True from the interrupt being raised until the driver finds the buffer empty. */
  driverBusy = false;
  /** Contexts whose fault was dropped, waiting for the next replay to retry. */
  private readonly droppedContexts: Int32Array;
  dropped = 0;
  /**
   * With PCIe PRI, page requests stay outstanding until their response (the replay), and
   * the device may have at most `outstandingLimit` (the Outstanding Page Request
   * Allocation): `inFlight` counts those fetched but not yet answered. Without PRI an
   * entry frees when the driver fetches it (the limit is the buffer's size).
   */
  outstandingLimit: number;
  inFlight = 0;

  constructor(cfg: DeviceConfig['faultBuffer'], maxStalledContexts: number) {
    this.batchSize = cfg.batchSize;
    this.capacity = cfg.entries;
    this.interruptPs = nsToPs(cfg.interruptNs);
    this.batchFetchPs = nsToPs(cfg.batchFetchNs);
    this.replayPs = nsToPs(cfg.replayNs);
    const n = cfg.entries;
    this.outstandingLimit = n;
    this.droppedContexts = new Int32Array(maxStalledContexts);
    this.ctx = new Int32Array(n);
    this.page = new Float64Array(n);
    this.write = new Uint8Array(n);
    this.time = new Float64Array(n);
  }

  /** Files a fault; false (and the context is set aside for the next replay) when the buffer is full. */
  push(context: number, page4k: number, write: boolean, t: Ps): boolean {
    if (this.length === this.ctx.length || this.length + this.inFlight >= this.outstandingLimit) {
      this.droppedContexts[this.dropped++] = context;
      return false;
    }
    const i = (this.head + this.length) % this.ctx.length;
    this.ctx[i] = context;
    this.page[i] = page4k;
    this.write[i] = write ? 1 : 0;
    this.time[i] = t;
    this.length++;
    return true;
  }

  /** Context `i` of those whose fault was dropped since the last replay. */
  droppedContext(i: number): number {
    return this.droppedContexts[i];
  }

  /** Time the oldest entry was filed; Infinity when empty. */
  headTime(): Ps {
    return this.length === 0 ? Infinity : this.time[this.head];
  }

  /** Removes the oldest entry into `out`; false when empty. */
  shift(out: FaultEntry): boolean {
    if (this.length === 0) return false;
    const i = this.head;
    out.context = this.ctx[i];
    out.page = this.page[i];
    out.write = this.write[i] === 1;
    out.time = this.time[i];
    this.head = (this.head + 1) % this.ctx.length;
    this.length--;
    return true;
  }
}

export interface FaultEntry {
  context: number;
  page: number;
  write: boolean;
  time: Ps;
}
