/**
 * The CPU side of the core MM: what handle_mm_fault does for a page, used both by CPU
 * accesses and by hmm_range_fault on the device's behalf.
 */
import type { Ps } from '../engine/time.js';
import type { Region } from '../mm/address-space.js';
import { CpuPte, PROT_MAPPED, PROT_READ, PROT_SHARED, PROT_WRITE } from '../mm/page-state.js';
import type { Machine } from './machine.js';

/** Negative results of a fault: errno or signal. Non-negative results are times. */
export const ERR_EFAULT = -1;
export const ERR_EPERM = -2;
export const ERR_SIGSEGV = -3;
export const ERR_SIGBUS = -4;

export function errorName(code: number): string {
  switch (code) {
    case ERR_EFAULT:
      return 'EFAULT';
    case ERR_EPERM:
      return 'EPERM';
    case ERR_SIGSEGV:
      return 'SIGSEGV';
    case ERR_SIGBUS:
      return 'SIGBUS';
    default:
      return `error ${code}`;
  }
}

/**
 * Makes `page` present in the CPU page table for a read or a write, as a page fault
 * would. Returns the time when done, or a negative error: EFAULT when the page is not
 * mapped or not readable, EPERM for a write to a read-only mapping (`forDevice`: as
 * hmm_range_fault reports them), SIGSEGV/SIGBUS for a CPU access.
 */
export function faultInPage(m: Machine, region: Region, page: number, write: boolean, t: Ps, forDevice: boolean): Ps {
  const prot = m.space.prot.data[page];
  if ((prot & PROT_MAPPED) === 0 || (prot & PROT_READ) === 0) return forDevice ? ERR_EFAULT : ERR_SIGSEGV;
  if (write && (prot & PROT_WRITE) === 0) return forDevice ? ERR_EPERM : ERR_SIGSEGV;
  const pte = m.space.cpuPte.data;
  switch (pte[page]) {
    case CpuPte.None:
      countFault(m, forDevice);
      // A read fault on private anonymous memory maps the shared zero page, write-protected.
      pte[page] = write || (prot & PROT_SHARED) !== 0 ? CpuPte.Present : CpuPte.ReadOnly;
      return t + m.t.cpuPageFault;
    case CpuPte.ReadOnly:
      if (!write) return t;
      // Copy-on-write: a new page replaces the write-protected one, so every mirror of
      // the old one must be invalidated (MMU_NOTIFY_CLEAR).
      countFault(m, forDevice);
      m.counters.cpuCowFaults++;
      pte[page] = CpuPte.Present;
      m.cpuTlb.invalidatePage(page);
      return m.strategy.onCpuPteChange(m, region, page, t + m.t.cpuPageFault);
    case CpuPte.Present:
      return t;
    case CpuPte.Pinned:
      return forDevice ? t : ERR_SIGBUS;
    default:
      // Device-private, device-exclusive and migration entries belong to the migrating
      // strategies; none of this model's strategies creates them yet.
      return forDevice ? ERR_EFAULT : ERR_SIGBUS;
  }
}

/** CPU faults count as the CPU's own; those the driver takes for the device (hmm_range_fault, pinning) count apart. */
function countFault(m: Machine, forDevice: boolean): void {
  if (forDevice) m.counters.driverFaultedPages++;
  else m.counters.cpuPageFaults++;
}

/** CPU TLB permission bits for a present page: 1 read, 2 write. */
export function cpuTlbFlags(m: Machine, page: number): number {
  const writable = m.space.cpuPte.data[page] === CpuPte.Present && (m.space.prot.data[page] & PROT_WRITE) !== 0;
  return writable ? 3 : 1;
}
