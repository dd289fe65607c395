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
    hugetlbPool: obj(
      {
        pages2MiB: num(
          'Huge pages of 2 MiB in the pool (/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages). Default 128: the 256 MiB that tools/testing/selftests/mm/run_vmtests.sh makes sure are free before it runs the hugetlb and HMM tests ("Simple hugetlbfs tests have a hardcoded minimum requirement of huge pages totaling 256MB"); Linux itself boots with none.',
          { int: true, min: 0, max: MAX_SIZE_BYTES / 2 ** 21 },
        ).default(128),
        pages1GiB: num(
          'Huge pages of 1 GiB in the pool (hugepagesz=1G hugepages=N on the kernel command line, or /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages). Default 0, as Linux boots: set it to map 1 GiB hugetlb regions.',
          { int: true, min: 0, max: MAX_SIZE_BYTES / 2 ** 30 },
        ).default(0),
      },
      "The hugetlb pool (Documentation/admin-guide/mm/hugetlbpage.rst) that MAP_HUGETLB memory (a scripted mmap op's hugetlbPageBytes) comes from: an mmap reserves the huge pages it spans and fails with ENOMEM when the pool's free pages, less those already reserved, cannot hold them; a huge page is taken from the pool, zeroed whole, at the first touch of any of its bytes and goes back at munmap. The pool is not subtracted from capacityBytes: hugetlb regions count against it as other regions do.",
    ).prefault({}),
  },
  'Host (CPU-side) DRAM: latency, bandwidth, and the hugetlb pool.',
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
