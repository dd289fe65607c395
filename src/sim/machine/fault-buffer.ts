import type { DeviceConfig } from '../hw/device.js';
import { nsToPs, type Ps } from '../engine/time.js';

/**
 * The device's replayable fault buffer. Faulting contexts append an entry and stall; the
 * driver fetches up to `batchSize` entries per batch, resolves them (duplicates of one
 * device page coalesce), installs the mappings and replays, which restarts the stalled
 * contexts. Entries live in flat arrays used as a ring.
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

  constructor(cfg: DeviceConfig['faultBuffer'], maxStalledContexts: number) {
    this.batchSize = cfg.batchSize;
    this.capacity = cfg.entries;
    this.interruptPs = nsToPs(cfg.interruptNs);
    this.batchFetchPs = nsToPs(cfg.batchFetchNs);
    this.replayPs = nsToPs(cfg.replayNs);
    // A stalled context has one entry at most. Contexts that find the buffer full are
    // counted and queue like the rest (the hardware would make them retry).
    const n = Math.max(cfg.entries, maxStalledContexts);
    this.ctx = new Int32Array(n);
    this.page = new Float64Array(n);
    this.write = new Uint8Array(n);
    this.time = new Float64Array(n);
  }

  push(context: number, page4k: number, write: boolean, t: Ps): boolean {
    if (this.length === this.ctx.length) return false;
    const i = (this.head + this.length) % this.ctx.length;
    this.ctx[i] = context;
    this.page[i] = page4k;
    this.write[i] = write ? 1 : 0;
    this.time[i] = t;
    this.length++;
    return true;
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
