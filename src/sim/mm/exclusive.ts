/**
 * Device-exclusive access (make_device_exclusive, mm/rmap.c), the core-MM mechanism that
 * lets a device without atomics on its link (nouveau's SVM atomics: PCIe without
 * AtomicOps) do atomic read-modify-writes on system memory: the CPU entries of the range
 * become device-exclusive entries (non-present to the CPU), the device maps the pages
 * read-write, and any CPU touch (do_swap_page -> remove_device_exclusive_entry), fork, or
 * another device's fault restores the entry and invalidates the device's mapping.
 *
 * Simplification: the kernel's MMU_NOTIFY_EXCLUSIVE carries the owner, so the owning
 * driver keeps its mapping during the grant; here the notifier clears every device's view
 * and the owner is mapped again at once, which costs one more PTE write.
 */
import { ERR_EFAULT, OpError, type Outcome } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import {
  CpuPte,
  DEV_READ,
  DEV_WRITE,
  PAGE_EXCLUSIVE_SHIFT,
  PROT_FILE,
  PROT_SHARED,
  PROT_WRITE,
} from '../machine/page-state.js';
import type { Driver } from './driver.js';

/** The device that holds `page`'s device-exclusive entry, or -1. */
export function exclusiveOwner(d: Driver, page: number): number {
  if (d.m.space.cpuPte.get(page) !== CpuPte.DeviceExclusive) return -1;
  return (d.m.space.flags.get(page) >> PAGE_EXCLUSIVE_SHIFT) - 1;
}

/**
 * Grants `device` exclusive access to pages [first, first + pages) of `region`: each page
 * is faulted in writable first (GUP with FOLL_WRITE: a device-private page comes back, a
 * shared page is copied), the notifier runs, the CPU entries become device-exclusive and
 * the device maps the pages read-write over the link. Pages it already holds stay.
 */
export function grantExclusive(
  d: Driver,
  region: Region,
  first: number,
  pages: number,
  device: number,
  t: Ps,
): Outcome {
  const space = d.m.space;
  for (let p = first; p < first + pages; p++) {
    const prot = space.prot.get(p);
    if ((prot & PROT_WRITE) === 0) {
      return new OpError('EFAULT', `exclusive access to ${d.describePage(p)}: the page is not writable`);
    }
    // folio_make_device_exclusive: "Restrict to anonymous folios for now to avoid potential
    // writeback issues" (a MAP_PRIVATE file page is copied by the write fault first, so it qualifies).
    if ((prot & (PROT_FILE | PROT_SHARED)) === (PROT_FILE | PROT_SHARED)) {
      return new OpError(
        'EBUSY',
        `exclusive access to ${d.describePage(p)}: a page-cache page of a MAP_SHARED file mapping (only anonymous pages can be made device-exclusive)`,
      );
    }
  }
  let tt = t;
  let granted = 0;
  const bits = new Uint8Array(pages);
  for (let p = first; p < first + pages; p++) {
    if (exclusiveOwner(d, p) === device) {
      bits[p - first] = DEV_READ | DEV_WRITE;
      continue;
    }
    const done = d.faultInPage(region, p, true, tt);
    if (done < 0) {
      return new OpError(done === ERR_EFAULT ? 'EFAULT' : 'EBUSY', `exclusive access to ${d.describePage(p)}`);
    }
    tt = done;
    bits[p - first] = DEV_READ | DEV_WRITE;
    granted++;
  }
  if (granted === 0) return tt;
  tt = d.notify(region, first, pages, tt + granted * d.timing.perPage);
  for (let p = first; p < first + pages; p++) {
    d.setCpuPte(p, CpuPte.DeviceExclusive);
    space.flags.set(
      p,
      (space.flags.get(p) & ((1 << PAGE_EXCLUSIVE_SHIFT) - 1)) | ((device + 1) << PAGE_EXCLUSIVE_SHIFT),
    );
  }
  d.m.counters.exclusiveGrants += granted;
  tt = d.dmaMap(first, pages, tt);
  return d.writeDevicePtes(device, first, bits, pages, tt);
}

/** Restores `page`'s CPU entry from a device-exclusive one and invalidates the device's mapping; returns when done. */
export function revokeExclusive(d: Driver, region: Region, page: number, t: Ps): Ps {
  const space = d.m.space;
  d.m.counters.exclusiveRevocations++;
  d.setCpuPte(page, CpuPte.Present);
  space.flags.set(page, space.flags.get(page) & ((1 << PAGE_EXCLUSIVE_SHIFT) - 1));
  return d.notify(region, page, 1, t);
}
