/**
 * Removing device mappings: clear device PTEs, shoot down the device TLBs (and the ATC),
 * and unmap the pages from the IOMMU. Used by the MMU-notifier callback of mirroring
 * strategies and by buffer-object unmaps.
 */
import type { Ps } from '../engine/time.js';
import { D2H, H2D } from '../hw/link/types.js';
import type { Region } from '../mm/address-space.js';
import type { Machine } from './machine.js';

const INVALIDATE_MESSAGE_BYTES = 16;

/**
 * The mmu_interval_notifier callback for pages [firstPage, firstPage + pages) of `region`:
 * bumps the interval's sequence number (so a fault resolved concurrently is retried, not
 * installed), then clears the device's view. Invariant after it returns: no device PTE,
 * TLB entry or ATC entry covers the range.
 */
export function notifierInvalidate(m: Machine, region: Region, firstPage: number, pages: number, t: Ps): Ps {
  m.counters.notifierInvalidations++;
  region.seq++;
  return unmapDevicePages(m, firstPage, pages, t + m.t.invalidate);
}

/** Clears the device mappings of a page range; returns the time the device acknowledged. */
export function unmapDevicePages(m: Machine, firstPage: number, pages: number, t: Ps): Ps {
  if (pages <= 0) return t;
  const shift = m.devPageShift;
  const firstDv = firstPage >> shift;
  const endDv = ((firstPage + pages - 1) >> shift) + 1;
  const pte = m.devPte.data;
  let cleared = 0;
  for (let dv = firstDv; dv < endDv && dv < pte.length; dv++) {
    if (pte[dv] !== 0) {
      pte[dv] = 0;
      cleared++;
    }
  }
  let tt = t;
  if (cleared > 0) {
    m.counters.tlbShootdowns++;
    for (const l1 of m.l1Tlbs) l1.invalidateRange(firstDv, endDv - firstDv);
    m.l2Tlb.invalidateRange(firstDv, endDv - firstDv);
    tt = m.link.message(tt, H2D, INVALIDATE_MESSAGE_BYTES);
    tt = m.link.message(tt + m.t.shootdown, D2H, INVALIDATE_MESSAGE_BYTES);
  }
  tt = dmaUnmap(m, firstPage, pages, tt);
  return tt;
}

/** dma_unmap of the range's mapped pages: IOMMU invalidation (and ATC invalidation with ATS). */
function dmaUnmap(m: Machine, firstPage: number, pages: number, t: Ps): Ps {
  const mapped = m.dmaMapped.data;
  let any = false;
  const end = Math.min(firstPage + pages, mapped.length);
  for (let p = firstPage; p < end; p++) {
    if (mapped[p]) {
      mapped[p] = 0;
      any = true;
    }
  }
  if (!any) return t;
  let tt = m.iommu.invalidatePages(t, firstPage, pages);
  if (m.atc !== null) {
    // ATS Invalidate Request to the device, and its Invalidate Completion back.
    m.atc.invalidateRange(firstPage, pages);
    tt = m.link.message(tt, H2D, INVALIDATE_MESSAGE_BYTES);
    tt = m.link.message(tt, D2H, INVALIDATE_MESSAGE_BYTES);
  }
  return tt;
}
