/**
 * The CPU side of the core MM: what handle_mm_fault does for a page, used both by CPU
 * accesses and by hmm_range_fault on the device's behalf. Copy-on-write (of the zero page
 * and of pages a forked child shares) and device-exclusive entries are the core MM's;
 * the other special entries (device-private, migration, pinned) are the strategy's: it
 * migrates the page back, waits, or raises SIGBUS.
 */
import { ERR_EFAULT, ERR_EPERM, ERR_SIGBUS, ERR_SIGSEGV } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import { HUGE_PAGES, type Region } from '../machine/address-space.js';
import {
  CpuPte,
  PAGE_COW,
  PAGE_HUGE,
  PAGE_PINNED_DEVICE,
  PROT_FILE,
  PROT_HUGETLB,
  PROT_MAPPED,
  PROT_READ,
  PROT_SHARED,
  PROT_WRITE,
} from '../machine/page-state.js';
import type { Driver } from './driver.js';
import { revokeExclusive } from './exclusive.js';
import { fileFault, sharedFileWriteFault } from './file-pages.js';
import { hugetlbCow, hugetlbFault } from './hugetlb.js';

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
      if ((prot & PROT_FILE) !== 0) return fileFault(d, region, page, write, prot, t + cost);
      if ((prot & PROT_HUGETLB) !== 0) return hugetlbFault(d, region, page, t, forDevice);
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
      countFault(d, forDevice);
      // A MAP_SHARED file page is written in place: it only becomes writable and dirty.
      if ((prot & (PROT_FILE | PROT_SHARED)) === (PROT_FILE | PROT_SHARED))
        return sharedFileWriteFault(d, region, page, t + cost);
      // A hugetlb page a forked child shares is copied whole (hugetlb_wp).
      if ((prot & PROT_HUGETLB) !== 0) return hugetlbCow(d, region, page, t, forDevice);
      // Copy-on-write: a new page replaces the write-protected one (the zero page, a
      // MAP_PRIVATE file's page-cache page, or one a forked child shares), so every mirror
      // of the old one must be invalidated (MMU_NOTIFY_CLEAR).
      m.counters.cpuCowFaults++;
      pte.set(page, CpuPte.Present);
      breakCow(d, page);
      m.cpuTlb.invalidatePage(page);
      m.hooks.cpuPageReplaced?.(page);
      return d.placeNewPages(region, page, 1, d.cpuPteChanged(region, page, t + cost));
    case CpuPte.Present:
      return t;
    case CpuPte.DeviceExclusive:
      // do_swap_page restores the entry (remove_device_exclusive_entry), then the access retries.
      return faultInPage(d, region, page, write, revokeExclusive(d, region, page, t + cost), forDevice);
    default: {
      // A device (through hmm_range_fault) may use a page pinned to it.
      if (forDevice && entry === CpuPte.Pinned) return t;
      // Pinned in device memory: migrate_to_ram may not move it.
      if ((m.space.flags.get(page) & PAGE_PINNED_DEVICE) !== 0) return forDevice ? ERR_EFAULT : ERR_SIGBUS;
      if (!forDevice && entry === CpuPte.DevicePrivate) m.counters.cpuFaultsOnDevicePages++;
      const back = d.specialCpuFault(region, page, write, t + cost);
      if (back < 0) return back;
      afterMigrateBack(d, page);
      const now = pte.get(page);
      // The data is back: the access retries, a write to a page a child shares taking its copy-on-write fault.
      if (now === CpuPte.Present || now === CpuPte.ReadOnly)
        return faultInPage(d, region, page, write, back, forDevice);
      return back;
    }
  }
}

/** A copy-on-write fault gave `page` its own copy: no longer shared, and its 2 MiB mapping is split (do_huge_pmd_wp_page). */
function breakCow(d: Driver, page: number): void {
  const flags = d.m.space.flags;
  const f = flags.get(page);
  if (f & PAGE_HUGE) d.m.space.splitHuge(page, 1);
  if (f & PAGE_COW) flags.set(page, flags.get(page) & ~PAGE_COW);
}

/**
 * After a strategy brought pages back from device memory around `page` (its migration
 * block, at most 2 MiB): pages a forked child shares come back write-protected (the
 * device-private entry was read-only since fork), and a 2 MiB mapping that came back in
 * part is split.
 */
export function afterMigrateBack(d: Driver, page: number): void {
  const space = d.m.space;
  const block = page - (page % HUGE_PAGES);
  let huge = false;
  let mixed = false;
  const first = space.cpuPte.get(block);
  for (let p = block; p < block + HUGE_PAGES; p++) {
    const f = space.flags.get(p);
    if (f & PAGE_HUGE) huge = true;
    if (space.cpuPte.get(p) !== first) mixed = true;
    if ((f & PAGE_COW) !== 0 && space.cpuPte.get(p) === CpuPte.Present) {
      space.cpuPte.set(p, CpuPte.ReadOnly);
      d.m.cpuTlb.invalidatePage(p);
    }
  }
  if (huge && mixed) space.splitHuge(page, 1);
}

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
  space.cpuPte.fill(CpuPte.Present, first, first + HUGE_PAGES);
  space.flags.fill(PAGE_HUGE, first, first + HUGE_PAGES);
  d.m.counters.hugePageFaults++;
  return true;
}

/** CPU faults count as the CPU's own; those the driver takes for the device (hmm_range_fault, pinning) count apart. */
function countFault(d: Driver, forDevice: boolean): void {
  if (forDevice) d.m.counters.driverFaultedPages++;
  else d.m.counters.cpuPageFaults++;
}

/**
 * hmm_range_fault for a device write over [first, first + pages): pages a forked child
 * shares are faulted in for write first (a read-only device-private entry comes back and
 * is copied), as the core MM does before any strategy sees the fault. Returns when done.
 */
export function breakCowForDeviceWrite(d: Driver, region: Region, first: number, pages: number, t: Ps): Ps {
  const flags = d.m.space.flags;
  let tt = t;
  for (let p = first; p < first + pages; p++) {
    if ((flags.get(p) & PAGE_COW) === 0) continue;
    const done = faultInPage(d, region, p, true, tt, true);
    if (done >= 0) tt = done;
  }
  return tt;
}
