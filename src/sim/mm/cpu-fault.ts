/**
 * The CPU side of the core MM: what handle_mm_fault does for a page, used both by CPU
 * accesses and by hmm_range_fault on the device's behalf. Special entries (device-private,
 * device-exclusive, migration, pinned) are the strategy's: it migrates the page back,
 * revokes exclusivity, waits, or raises SIGBUS.
 */
import { ERR_EFAULT, ERR_EPERM, ERR_SIGSEGV } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import { CpuPte, PROT_MAPPED, PROT_READ, PROT_SHARED, PROT_WRITE } from '../machine/page-state.js';
import type { Driver } from './driver.js';

/**
 * Makes `page` present in the CPU page table for a read or a write, as a page fault
 * would. Returns the time when done, or a negative error code: EFAULT when the page is not
 * mapped or not readable, EPERM for a write to a read-only mapping (`forDevice`: as
 * hmm_range_fault reports them), SIGSEGV for a CPU access, or what the strategy's
 * special-entry handler returns.
 */
export function faultInPage(d: Driver, region: Region, page: number, write: boolean, t: Ps, forDevice: boolean): Ps {
  const m = d.m;
  const prot = m.space.prot.get(page);
  if ((prot & PROT_MAPPED) === 0 || (prot & PROT_READ) === 0) return forDevice ? ERR_EFAULT : ERR_SIGSEGV;
  if (write && (prot & PROT_WRITE) === 0) return forDevice ? ERR_EPERM : ERR_SIGSEGV;
  const pte = m.space.cpuPte;
  const entry = pte.get(page);
  const cost = forDevice ? m.t.driverPageFault : m.t.cpuPageFault;
  switch (entry) {
    case CpuPte.None: {
      countFault(d, forDevice);
      if (write && m.thp && (prot & PROT_SHARED) === 0 && mapHugePage(d, region, page, prot)) {
        const first = page - (page % HUGE_PAGES);
        return d.placeNewPages(
          region,
          first,
          HUGE_PAGES,
          t + (forDevice ? m.t.driverHugePageFault : m.t.cpuHugePageFault),
        );
      }
      // A read fault on private anonymous memory maps the shared zero page, write-protected.
      const allocates = write || (prot & PROT_SHARED) !== 0;
      pte.set(page, allocates ? CpuPte.Present : CpuPte.ReadOnly);
      return allocates ? d.placeNewPages(region, page, 1, t + cost) : t + cost;
    }
    case CpuPte.ReadOnly:
      if (!write) return t;
      // Copy-on-write: a new page replaces the write-protected one, so every mirror of
      // the old one must be invalidated (MMU_NOTIFY_CLEAR).
      countFault(d, forDevice);
      m.counters.cpuCowFaults++;
      pte.set(page, CpuPte.Present);
      m.cpuTlb.invalidatePage(page);
      m.hooks.cpuPageReplaced?.(page);
      return d.placeNewPages(region, page, 1, d.cpuPteChanged(region, page, t + cost));
    case CpuPte.Present:
      return t;
    default:
      // A device (through hmm_range_fault) may use a page pinned to it.
      if (forDevice && entry === CpuPte.Pinned) return t;
      if (!forDevice && entry === CpuPte.DevicePrivate) m.counters.cpuFaultsOnDevicePages++;
      return d.specialCpuFault(region, page, write, t + cost);
  }
}

/** Pages per 2 MiB transparent huge page. */
const HUGE_PAGES = 512;

/**
 * A transparent huge page: when the 2 MiB-aligned block around `page` lies wholly in
 * `region` with the same protection and no page of it is populated, maps all of it
 * writable and returns true.
 */
function mapHugePage(d: Driver, region: Region, page: number, prot: number): boolean {
  const space = d.m.space;
  const first = page - (page % HUGE_PAGES);
  if (first < region.basePage || first + HUGE_PAGES > region.basePage + region.pages) return false;
  for (let p = first; p < first + HUGE_PAGES; p++) {
    if (space.cpuPte.get(p) !== CpuPte.None || space.prot.get(p) !== prot) return false;
  }
  for (let p = first; p < first + HUGE_PAGES; p++) space.cpuPte.set(p, CpuPte.Present);
  d.m.counters.hugePageFaults++;
  return true;
}

/** CPU faults count as the CPU's own; those the driver takes for the device (hmm_range_fault, pinning) count apart. */
function countFault(d: Driver, forDevice: boolean): void {
  if (forDevice) d.m.counters.driverFaultedPages++;
  else d.m.counters.cpuPageFaults++;
}
