/**
 * fork() as far as the parent's memory is concerned (kernel/fork.c dup_mmap ->
 * copy_page_range, mm/memory.c). The child is not run; it only exists as the second owner
 * of the pages, so that the parent's later writes take copy-on-write faults:
 *
 * - MAP_SHARED memory: nothing changes, both processes use the same pages;
 * - private memory: the MMU notifier runs over every private VMA
 *   (MMU_NOTIFY_PROTECTION_PAGE), so mirrors drop their writable mappings; present pages
 *   are write-protected in both (copy_present_pte), writable device-private entries become
 *   read-only ones (copy_nonpresent_pte: make_readable_device_private_entry), and
 *   device-exclusive entries are restored first (the device loses exclusivity);
 * - pages pinned long-term (FOLL_LONGTERM) are copied for the child at once
 *   (page_needs_cow_for_dma), so the parent keeps them writable; so do pages pinned in
 *   device memory; a hugetlb page with a pinned page in it is copied whole
 *   (copy_hugetlb_page_range), so the parent keeps all of it writable;
 * - the zero page stays the zero page.
 *
 * A write by the parent to a write-protected page then copies it (cpu-fault.ts); a write
 * to a read-only device-private page brings it back first and then copies it.
 */
import type { PagedTable } from '../engine/paged-table.js';
import type { Ps } from '../engine/time.js';
import {
  CpuPte,
  PAGE_COW,
  PAGE_PINNED_DEVICE,
  PAGE_PINNED_HOST,
  PAGE_BYTES,
  PROT_MAPPED,
  PROT_SHARED,
} from '../machine/page-state.js';
import type { Driver } from './driver.js';
import { revokeExclusive } from './exclusive.js';

export function forkProcess(d: Driver, t: Ps): Ps {
  const space = d.m.space;
  const pte = space.cpuPte;
  const flags = space.flags;
  space.forked = true;
  let done = t;
  for (const region of space.regions) {
    if (!region.mapped) continue;
    const first = region.basePage;
    const end = first + region.pages;
    let tt = t;
    let shared = true;
    const hugePages = (region.spec.hugetlbPageBytes ?? PAGE_BYTES) / PAGE_BYTES;
    let hugePinned = false;
    for (let p = first; p < end; p++) {
      if (hugePages > 1 && (p - first) % hugePages === 0) hugePinned = anyPinned(flags, p, hugePages);
      const prot = space.prot.get(p);
      if ((prot & PROT_MAPPED) === 0 || (prot & PROT_SHARED) !== 0) continue;
      shared = false;
      if (pte.get(p) === CpuPte.DeviceExclusive) tt = revokeExclusive(d, region, p, tt);
      const f = flags.get(p);
      if ((f & (PAGE_PINNED_HOST | PAGE_PINNED_DEVICE)) !== 0 || hugePinned) continue;
      const entry = pte.get(p);
      if (entry === CpuPte.Present) {
        pte.set(p, CpuPte.ReadOnly);
        flags.set(p, f | PAGE_COW);
      } else if (entry === CpuPte.DevicePrivate || (entry === CpuPte.ReadOnly && (f & PAGE_COW) !== 0)) {
        flags.set(p, f | PAGE_COW);
      }
    }
    if (shared) continue;
    d.m.cpuTlb.invalidateRange(first, region.pages);
    tt = d.notify(region, first, region.pages, tt + region.mappedPages * d.timing.perPage);
    if (tt > done) done = tt;
  }
  return done;
}

/** Whether any page of [first, first + pages) is pinned. */
function anyPinned(flags: PagedTable, first: number, pages: number): boolean {
  for (let p = first; p < first + pages; p++)
    if ((flags.get(p) & (PAGE_PINNED_HOST | PAGE_PINNED_DEVICE)) !== 0) return true;
  return false;
}
