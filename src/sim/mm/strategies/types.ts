import type { Outcome } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import type { Advice } from '../../workload/advice.js';
import type { Phase, Prot } from '../../workload/types.js';
import type { DriverContext } from '../driver.js';

/**
 * One device fault to resolve, a record reused from fault to fault. The strategy fills
 * `bits` (the PTE bits to install for each 4 KiB page of [firstPage, firstPage + pages),
 * 0 for none; the driver maps the device page whole only if they are all equal), `error`
 * (a negative errno code, engine/errno.ts; 0 for none) and `costPs` (driver time spent).
 */
export interface DeviceFault {
  readonly device: number;
  /** The device's fault batch this fault belongs to (numbered from 1): memory a batch is mapping must not be evicted by the same batch. */
  batch: number;
  region: Region;
  /**
   * The unit the fault resolves, numbered in its own size: the device page, or its 2 MiB VA
   * block when the device page is larger (1 GiB); and the 4 KiB pages of it inside the region.
   */
  devicePage: number;
  firstPage: number;
  pages: number;
  accessedPage: number;
  write: boolean;
  readonly bits: Uint8Array;
  error: number;
  costPs: Ps;
}

/**
 * A way of sharing memory between CPU and device. The machine runs the accesses; a
 * strategy decides where data lives and what happens around kernels, on device faults,
 * when the CPU side of a mapping changes, and when the CPU touches a special entry. It
 * sees only the driver context. Adding a strategy is adding a file and one line in
 * ./index.ts.
 */
export interface Strategy {
  readonly name: string;
  /**
   * How devices translate addresses: a device page table the driver fills
   * ('device-page-table'), or the IOMMU walking the CPU page table through ATS with PRI
   * page requests for faults ('iommu': shared virtual addressing, no device page table;
   * the resolved fault's `bits` are then ignored, the CPU page table is the mapping).
   */
  readonly translation: 'device-page-table' | 'iommu';
  /**
   * Device memory is handed out per 2 MiB virtual block (a chunk per VA block): a device
   * page cannot follow its page to another address, so mremap brings such pages back to
   * system memory before it moves them.
   */
  readonly framesByAddress?: boolean;
  /** A region was mapped (mmap). May allocate device memory and map it on the devices. */
  onMap(d: DriverContext, region: Region, t: Ps): Outcome;
  /** Pages of a region are about to be unmapped (munmap); returns the time when done. */
  onUnmap(d: DriverContext, region: Region, firstPage: number, pages: number, t: Ps): Ps;
  /** Pages changed protection (mprotect). */
  onProtect(d: DriverContext, region: Region, firstPage: number, pages: number, prot: Prot, t: Ps): Ps;
  /** Before a phase's streams start: copies, prefetches. Returns the time the phase may start. */
  beforePhase(d: DriverContext, phase: Phase & { kind: 'streams' }, t: Ps): Outcome;
  /** After all streams of a phase have ended. */
  afterPhase(d: DriverContext, phase: Phase & { kind: 'streams' }, t: Ps): Outcome;
  /**
   * Resolves a device fault at batch start (time t). CPU-side changes happen now; the
   * PTE bits are installed at the end of the batch unless a notifier invalidated the
   * region in between.
   */
  resolveDeviceFault(d: DriverContext, fault: DeviceFault, t: Ps): void;
  /**
   * The CPU page-table entries of [page, page + pages) changed (copy-on-write of a page, or
   * of a whole hugetlb page; reclaim): invalidate device copies. Returns time when done.
   */
  onCpuPteChange(d: DriverContext, region: Region, page: number, t: Ps, pages: number): Ps;
  /**
   * The CPU touched a special entry (device-private, device-exclusive, migration, pinned):
   * migrate the page back, revoke exclusivity, wait, or fail. Returns the time the CPU
   * may retry, or a negative errno code (SIGBUS).
   */
  onSpecialCpuFault(d: DriverContext, region: Region, page: number, write: boolean, t: Ps): Ps;
  /**
   * Moves pages [firstPage, firstPage + pages) to device `device`'s memory and maps them
   * there, or with `device` TO_HOST back to system memory, on request (a scripted migrate
   * op). Strategies that do not migrate leave it out.
   */
  migrate?(d: DriverContext, region: Region, firstPage: number, pages: number, device: number, t: Ps): Outcome;
  /** Changes a region's memory advice (a scripted advise op). Strategies that take no advice leave it out. */
  advise?(d: DriverContext, region: Region, advice: Partial<Advice>, t: Ps): Outcome;
  /**
   * Pages [firstPage, firstPage + pages) were just allocated in system memory by a fault
   * (the CPU's, or hmm_range_fault's for a device) and hold no data yet: a strategy with a
   * placement policy may put them in device memory instead (no copy needed). Returns the
   * time when done. Strategies without one leave it out.
   */
  placeNewPages?(d: DriverContext, region: Region, firstPage: number, pages: number, t: Ps): Ps;
  /**
   * Remote-access counters the strategy migrates by (machine/access-counters.ts): chunks
   * of `chunkPages` pages, a notification per `threshold` remote cache lines; the devices'
   * accesses to memory not their own count, and the CPU's to device memory if `countsCpu`.
   */
  readonly accessCounters?: { chunkPages: number; threshold: number; countsCpu: boolean };
  /**
   * An access counter's notification, at the driver at `t`: `agent` (a device, or TO_HOST
   * for the CPU) accessed pages [firstPage, end) of `region` remotely past the threshold.
   */
  onAccessCounter?(d: DriverContext, agent: number, region: Region, firstPage: number, end: number, t: Ps): void;
}

export { TO_HOST } from '../../workload/types.js';
