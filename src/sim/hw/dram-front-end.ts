import type { Ps } from '../engine/time.js';
import { DRAM_WAITING, type DramController } from './dram-controller.js';

/** How a DRAM-level trace enters the controllers: DRAMSim3's trace front end by default. */
export interface DramFrontEndConfig {
  /** Requests admitted into the memory system per DRAM cycle, over all channels. */
  admitPerCycle: number;
  /** Entries of each channel's read queue and of its write buffer; unset: the controller's own. */
  queueDepth?: number;
}

/**
 * The front end of a DRAM-only trace replay, as DRAMSim3's trace-driven CPU works: it
 * offers the trace's requests in order, each no earlier than its cycle, admits at most
 * `admitPerCycle` per DRAM cycle, and holds a request (and every one after it) while its
 * channel's read queue or write buffer is full. It does not wait for data: the replay is
 * open loop, and a read's latency counts from its admission, as DRAMSim3 counts it.
 */
export class DramFrontEnd {
  private readonly slotPs: Ps;
  /** The next request may not be admitted before this. */
  nextAdmitPs: Ps = 0;

  constructor(
    private readonly controller: DramController,
    tCKNs: number,
    config: DramFrontEndConfig,
  ) {
    // Event times are whole picoseconds.
    this.slotPs = Math.max(1, Math.round((tCKNs * 1000) / config.admitPerCycle));
    if (config.queueDepth !== undefined) controller.setTransactionQueueEntries(config.queueDepth);
  }

  /**
   * Offers requester `owner`'s request at `t` (no earlier than nextAdmitPs): returns when
   * it was admitted, or DRAM_WAITING (its queue is full; `admitted` follows).
   */
  issue(t: Ps, owner: number, addr: number, bytes: number, write: boolean): Ps {
    const admitted = this.controller.submit(t, owner, addr, bytes, write, true);
    if (admitted !== DRAM_WAITING) this.admitted(admitted);
    return admitted;
  }

  /** The request offered last was admitted at `t`. */
  admitted(t: Ps): void {
    this.nextAdmitPs = t + this.slotPs;
  }
}
