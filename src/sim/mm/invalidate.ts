/**
 * Removing device mappings: clear device PTEs, shoot down the device TLBs (and the ATC),
 * and unmap the pages from the IOMMU. Used by the MMU-notifier callback of mirroring
 * strategies and by buffer-object unmaps.
 */
import type { Ps } from '../engine/time.js';
import { invalidateTranslations } from '../hw/iommu.js';
import { D2H, H2D } from '../hw/link/types.js';
import type { Region } from '../machine/address-space.js';
import type { Device } from '../machine/device.js';
import type { Machine } from '../machine/machine.js';
import { DEV_PEER } from '../machine/page-state.js';
import { peerIova } from '../machine/peer-path.js';
import { dropCachedTranslations, markWhole } from './device-pte.js';
import type { Driver } from './driver.js';

const INVALIDATE_MESSAGE_BYTES = 16;

/**
 * The mmu_interval_notifier callback for pages [firstPage, firstPage + pages) of `region`:
 * bumps the interval's sequence number (so a fault resolved concurrently is retried, not
 * installed), then clears every device's view. Invariant after it returns: no device PTE,
 * TLB entry or ATC entry covers the range.
 */
export function notifierInvalidate(d: Driver, region: Region, firstPage: number, pages: number, t: Ps): Ps {
  d.m.counters.notifierInvalidations++;
  // A change to part of a 2 MiB mapping (migrating, protecting or unmapping some of its
  // pages) splits it first (split_huge_pmd, which runs the notifier itself).
  d.m.space.splitHuge(firstPage, pages);
  region.seq++;
  return d.unmapFromDevices(firstPage, pages, t + d.timing.invalidate);
}

/**
 * Clears one device's mappings of a page range; returns the time the device acknowledged
 * and, for peer-to-peer mappings through the root complex, the IOMMU dropped them.
 */
export function unmapDevicePages(d: Driver, dev: Device, firstPage: number, pages: number, t: Ps): Ps {
  if (pages <= 0) return t;
  const pte = dev.pte;
  let cleared = 0;
  peerKeys.length = 0;
  for (let p = firstPage; p < firstPage + pages; p++) {
    const bits = pte.get(p);
    if (bits === 0) continue;
    cleared++;
    if ((bits & DEV_PEER) !== 0) peerUnmap(d.m, dev, p);
  }
  pte.fill(0, firstPage, firstPage + pages);
  if (cleared === 0) return t;
  const size = 1 << dev.pageShift;
  if (size > 1) {
    // The device pages at the ends of the range keep pages outside it: they are now split.
    markWhole(pte, Math.floor(firstPage / size) * size, size);
    markWhole(pte, Math.floor((firstPage + pages - 1) / size) * size, size);
  }
  dev.counters.tlbShootdowns++;
  dropCachedTranslations(dev, firstPage, pages);
  let tt = dev.link.message(t, H2D, INVALIDATE_MESSAGE_BYTES);
  tt = dev.link.message(tt + d.timing.shootdown, D2H, INVALIDATE_MESSAGE_BYTES);
  // dma_unmap_resource of the peer pages only once the device has stopped using them.
  if (peerKeys.length > 0) tt = d.m.iommu.invalidateKeys(tt, peerKeys);
  return tt;
}

/** IOMMU keys of the peer mappings an unmap drops through the root complex (reused). */
const peerKeys: number[] = [];

/**
 * Drops device `dev`'s peer mapping of `page`: the owner's memory must still hold the page
 * (a peer mapping is torn down before the memory it maps is freed or moved, the ordering
 * the HMM v13 thread asked for). The IOMMU's mapping of it, if the route has one, is
 * added to peerKeys.
 */
function peerUnmap(m: Machine, dev: Device, page: number): void {
  const owner = m.residency.holderOtherThan(page, dev.index);
  const frame = owner < 0 ? -1 : m.residency.frame(owner, page);
  if (frame < 0) {
    throw new Error(
      `${dev.name}'s peer-to-peer mapping of ${m.space.describePage(page)} outlived the memory it mapped: the owner freed or moved it before the mapping was torn down`,
    );
  }
  dev.counters.p2pUnmappedPages++;
  const route = m.peerRoutes[dev.index][owner];
  if (route !== null && route.viaHostBridge && !m.iommu.passthrough) peerKeys.push(peerIova(owner, frame));
}

/** dma_unmap of the range's mapped pages: IOMMU invalidation (and ATC invalidation with ATS). */
export function dmaUnmap(m: Machine, firstPage: number, pages: number, t: Ps): Ps {
  const mapped = m.dmaMapped;
  let any = false;
  for (let p = firstPage; p < firstPage + pages && !any; p++) any = mapped.get(p) !== 0;
  if (!any) return t;
  mapped.fill(0, firstPage, firstPage + pages);
  let tt = m.iommu.invalidatePages(t, firstPage, pages);
  let acked = tt;
  for (const dev of m.devices) {
    if (dev.atc === null) continue;
    // ATS Invalidate Request to the device, and its Invalidate Completion back.
    dev.atc.invalidateRange(firstPage, pages);
    let done = dev.link.message(tt, H2D, INVALIDATE_MESSAGE_BYTES);
    done = dev.link.message(done, D2H, INVALIDATE_MESSAGE_BYTES);
    if (done > acked) acked = done;
  }
  tt = acked;
  return tt;
}

/**
 * The IOMMU's notifier under shared virtual addressing: invalidate the range in the
 * IOTLB and, with an ATS Invalidate Request and its Completion, in every device's ATC.
 * A 2 MiB entry that covers any page of the range goes whole.
 */
export function invalidateAts(m: Machine, firstPage: number, pages: number, t: Ps): Ps {
  const tt = m.iommu.invalidatePages(t, firstPage, pages);
  let acked = tt;
  for (const dev of m.devices) {
    if (dev.atc === null || invalidateTranslations(dev.atc, firstPage, pages) === 0) continue;
    let done = dev.link.message(tt, H2D, INVALIDATE_MESSAGE_BYTES);
    done = dev.link.message(done, D2H, INVALIDATE_MESSAGE_BYTES);
    if (done > acked) acked = done;
  }
  return acked;
}
