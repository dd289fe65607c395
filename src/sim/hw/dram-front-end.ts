import type { Ps } from '../engine/time.js';
import type { Dram } from './dram.js';
import { TagPool } from './tag-pool.js';

/** How a DRAM-level trace enters the controllers: DRAMSim3's trace front end by default. */
export interface DramFrontEndConfig {
  /** Requests admitted into the memory system per DRAM cycle, over all channels. */
  admitPerCycle: number;
  /** Entries of each channel's read queue and of its write buffer. */
  queueDepth: number;
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
  private readonly readQueues: TagPool[];
  private readonly writeQueues: TagPool[];
  private nextAdmitPs: Ps = 0;
  /** Completion of the latest request: the replay is not over before it. */
  lastDonePs: Ps = 0;

  constructor(
    private readonly dram: Dram,
    config: DramFrontEndConfig,
  ) {
    this.slotPs = (dram.spec.tCKNs * 1000) / config.admitPerCycle;
    const channels = dram.spec.channels;
    this.readQueues = Array.from({ length: channels }, () => new TagPool(config.queueDepth));
    this.writeQueues = Array.from({ length: channels }, () => new TagPool(config.queueDepth));
  }

  /** Offers a request due at `t`; returns when it was admitted (the next request may follow from then). */
  issue(t: Ps, addr: number, bytes: number, write: boolean): Ps {
    const queue = (write ? this.writeQueues : this.readQueues)[this.dram.channelOf(addr)];
    let admitted = t > this.nextAdmitPs ? t : this.nextAdmitPs;
    admitted = queue.acquire(admitted);
    this.nextAdmitPs = admitted + this.slotPs;
    const done = this.dram.access(admitted, addr, bytes, write);
    queue.hold(done);
    if (done > this.lastDonePs) this.lastDonePs = done;
    return admitted;
  }
}
