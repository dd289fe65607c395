import type { Ps } from '../../engine/time.js';
import type { Machine } from '../../machine/machine.js';
import type { Region } from '../address-space.js';
import type { Phase, Prot } from '../../workload/types.js';

/** The outcome of resolving one device fault: an errno-style error, or the device PTE bits to install. */
export interface FaultResolution {
  error?: 'EFAULT' | 'EPERM';
  /** Device PTE bits to install at the end of the batch (0: install nothing, the access faults again). */
  pte: number;
  /** Driver time spent on this fault, in ps (the batch's service time is the sum). */
  costPs: Ps;
}

/**
 * A way of sharing memory between CPU and device. The machine runs the accesses; a
 * strategy decides where data lives and what happens around kernels, on device faults and
 * when the CPU side of a mapping changes. Adding a strategy is adding a file and one line
 * in ./index.ts.
 */
export interface Strategy {
  readonly name: string;
  /** A region was mapped (mmap). May allocate device memory and map it on the device. */
  onMap(m: Machine, region: Region, t: Ps): Ps;
  /** Pages of a region are about to be unmapped (munmap); returns the time when done. */
  onUnmap(m: Machine, region: Region, firstPage: number, pages: number, t: Ps): Ps;
  /** Pages changed protection (mprotect). */
  onProtect(m: Machine, region: Region, firstPage: number, pages: number, prot: Prot, t: Ps): Ps;
  /** Before a phase's streams start: copies, prefetches. Returns the time the phase may start. */
  beforePhase(m: Machine, phase: Phase & { kind: 'streams' }, t: Ps): Ps;
  /** After all streams of a phase have ended. */
  afterPhase(m: Machine, phase: Phase & { kind: 'streams' }, t: Ps): Ps;
  /**
   * Resolve a device fault on device page `devicePage` (at batch start, time t). CPU-side
   * changes happen now; the returned PTE is installed at the end of the batch unless a
   * notifier invalidated the region in between.
   */
  resolveDeviceFault(
    m: Machine,
    region: Region,
    devicePage: number,
    accessedPage: number,
    write: boolean,
    t: Ps,
  ): FaultResolution;
  /** A CPU page-table entry of `page` changed (copy-on-write, reclaim): invalidate device copies. Returns time when done. */
  onCpuPteChange(m: Machine, region: Region, page: number, t: Ps): Ps;
}
