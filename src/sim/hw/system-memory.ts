/**
 * Host DRAM as the device and the CPU see it: a fixed access latency plus one FCFS bandwidth
 * server for the whole memory system. Banks, channels and row buffers of host memory are
 * not modelled (the device side has them, in dram.ts): the host's memory controllers
 * interleave finely across many channels, so at the granularity of DMA runs and page
 * copies a latency and a shared bandwidth are what the strategies feel. Queueing on the
 * server is what raises latency under load.
 */
import type { z } from 'zod';
import { MAX_SIZE_BYTES, num, obj, size } from '../schema/fields.js';
import { nsToPs, type Ps } from '../engine/time.js';
import { BandwidthServer } from './bandwidth-server.js';

export const systemMemorySchema = obj(
  {
    capacityBytes: size(
      'Host memory capacity, at most 4 TiB (the model keeps per-page state for what the workload maps, and time grows with it). Default 64 GiB.',
      { min: 1 << 20, max: MAX_SIZE_BYTES },
    ).default(64 * 1024 ** 3),
    latencyNs: num(
      'Load-to-use latency of a host DRAM access at light load, in ns. Default 90: Intel Memory Latency Checker reports 82-90 ns at light load (about 130 ns near saturation) on a 6-channel DDR4-2666 Xeon (Intel community forum, MLC v3.5 loaded-latency output); DDR5 servers measure similar or somewhat higher.',
      { min: 0, max: 1e6 },
    ).default(90),
    bandwidthGBps: num(
      'Peak host memory bandwidth in GB/s, shared by CPU cores and DMA. Default 307.2: 8 channels of DDR5-4800, 4800 MT/s x 8 B = 38.4 GB/s each (JEDEC JESD79-5; 8 channels per socket as on Intel Xeon Sapphire Rapids). Sustained bandwidth is typically 70-80 % of peak: lower this to model it.',
      { gt: 0, max: 100000 },
    ).default(307.2),
  },
  'Host (CPU-side) DRAM: latency and bandwidth.',
);
export type SystemMemoryConfig = z.infer<typeof systemMemorySchema>;

export class SystemMemory {
  readonly capacityBytes: number;
  readonly latencyPs: Ps;
  readonly bus: BandwidthServer;
  readBytes = 0;
  writeBytes = 0;
  accesses = 0;

  constructor(config: SystemMemoryConfig) {
    this.capacityBytes = config.capacityBytes;
    this.latencyPs = nsToPs(config.latencyNs);
    this.bus = new BandwidthServer(config.bandwidthGBps);
  }

  /** Completion time of an access of `bytes` issued at `t`: queue, transfer, then latency. */
  access(t: Ps, bytes: number, write: boolean): Ps {
    if (write) this.writeBytes += bytes;
    else this.readBytes += bytes;
    this.accesses++;
    return this.bus.reserve(t, bytes) + this.latencyPs;
  }

  get busyPs(): Ps {
    return this.bus.busyPs;
  }
}
