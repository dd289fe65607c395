/**
 * hmm-mirror: each device's page table mirrors the CPU's. A device fault runs
 * hmm_range_fault over the device page (faulting CPU pages in as needed), DMA-maps the
 * pages and writes the device PTEs; the data stays in system memory and every device
 * access crosses the link. An MMU interval notifier per region invalidates the devices'
 * view whenever the CPU page table changes (munmap, mprotect, copy-on-write).
 *
 * A device page whose 4 KiB pages the CPU side treats differently (a partial mprotect, a
 * hole, a page that cannot be faulted in) gets each page's own permission: the driver
 * maps it at 4 KiB granularity (see page-state.ts), never more than the CPU allows.
 */
import type { z } from 'zod';
import { ERR_EFAULT, ERR_EPERM, ERR_SIGBUS } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import { nsToPs } from '../../engine/time.js';
import {
  CpuPte,
  DEV_LOCAL,
  DEV_PEER,
  DEV_READ,
  DEV_WRITE,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../../machine/page-state.js';
import { VA_BLOCK_PAGES, type DriverContext } from '../driver.js';
import type { hmmMirrorSchema } from './schema.js';
import type { DeviceFault, Strategy } from './types.js';

/** One mirrored window per region, the default (what ats-sva and tests build on). */
export const WINDOW: z.output<typeof hmmMirrorSchema> = {
  impl: 'hmm-mirror',
  ranges: 'window',
  rangeCreateNs: 0,
  rangeDestroyNs: 0,
};

export function createHmmMirror(config: z.output<typeof hmmMirrorSchema> = WINDOW): Strategy {
  if (config.ranges === 'ad-hoc') return adHocRanges(config);
  return {
    name: 'hmm-mirror',
    translation: 'device-page-table',
    onMap: (_d, _region, t) => t,
    onUnmap: (d, region, firstPage, pages, t) => d.notify(region, firstPage, pages, t),
    // change_protection() notifies for any protection change (MMU_NOTIFY_PROTECTION_VMA).
    onProtect: (d, region, firstPage, pages, _prot, t) => d.notify(region, firstPage, pages, t),
    beforePhase: (_d, _phase, t) => t,
    afterPhase: (_d, _phase, t) => t,
    resolveDeviceFault: resolveMirrorFault,
    onCpuPteChange: (d, region, page, t, pages) => d.notify(region, page, pages, t),
    // hmm-mirror creates no special entries.
    onSpecialCpuFault: () => ERR_SIGBUS,
  };
}

/**
 * Ad-hoc ranges, as drm_gpusvm creates them: the first device fault in a 2 MiB block
 * creates a range there (a GPU VMA with its interval notifier); a CPU unmap of any part of
 * a range destroys it whole, so every device mapping in it goes, and the device faults
 * (and creates the range) again on its next touch of what is still mapped.
 */
function adHocRanges(config: z.output<typeof hmmMirrorSchema>): Strategy {
  const createPs = nsToPs(config.rangeCreateNs);
  const destroyPs = nsToPs(config.rangeDestroyNs);
  /** Live ranges: 2 MiB block number x 64 + device. */
  const live = new Set<number>();
  const key = (block: number, device: number) => block * 64 + device;
  return {
    name: 'hmm-mirror',
    translation: 'device-page-table',
    onMap: (_d, _region, t) => t,
    onUnmap(d, region, firstPage, pages, t) {
      let first = firstPage;
      let end = firstPage + pages;
      let tt = t;
      for (let b = Math.floor(firstPage / VA_BLOCK_PAGES); b * VA_BLOCK_PAGES < firstPage + pages; b++) {
        for (const dev of d.devices) {
          if (!live.delete(key(b, dev.index))) continue;
          // The whole range goes: its mappings outside the unmapped pages too.
          first = Math.min(first, Math.max(b * VA_BLOCK_PAGES, region.basePage));
          end = Math.max(end, Math.min((b + 1) * VA_BLOCK_PAGES, region.basePage + region.pages));
          tt += destroyPs;
          d.countDeviceRange(dev.index, false);
        }
      }
      return d.notify(region, first, end - first, tt);
    },
    onProtect: (d, region, firstPage, pages, _prot, t) => d.notify(region, firstPage, pages, t),
    beforePhase: (_d, _phase, t) => t,
    afterPhase: (_d, _phase, t) => t,
    resolveDeviceFault(d, f, t) {
      const k = key(Math.floor(f.accessedPage / VA_BLOCK_PAGES), f.device);
      let created = 0;
      if (!live.has(k)) {
        live.add(k);
        d.countDeviceRange(f.device, true);
        created = createPs;
      }
      resolveMirrorFault(d, f, t + created);
      f.costPs += created;
    },
    onCpuPteChange: (d, region, page, t, pages) => d.notify(region, page, pages, t),
    onSpecialCpuFault: () => ERR_SIGBUS,
  };
}

/**
 * hmm_range_fault over the 4 KiB pages of one device page (clipped to the region): the
 * accessed page must fault in (or the fault fails with its errno); the others are faulted
 * in where they can be, and each gets the permission the CPU side gives it.
 */
const resolveMirrorFault: Strategy['resolveDeviceFault'] = (d, f, t) =>
  resolveFault(d, f, t, (dd, _device, page) => pagePermission(dd, page));

/**
 * The same resolution with the device PTE bits `permission` gives each page; pages it
 * maps in device memory (DEV_LOCAL) need no DMA mapping, pages in a peer's memory
 * (DEV_PEER) a peer mapping.
 */
export function resolveFault(
  d: DriverContext,
  f: DeviceFault,
  t: Ps,
  permission: (d: DriverContext, device: number, page: number) => number,
): void {
  const timing = d.timing;
  const region = f.region;
  let tt = t + timing.perFault;
  // mmu_interval_read_begin(): a change from here on makes the driver walk again.
  const seqBefore = region.seq;
  const own = d.faultInPage(region, f.accessedPage, f.write, tt);
  if (own === ERR_EFAULT || own === ERR_EPERM) {
    f.error = own;
    f.costPs = tt - t;
    return;
  }
  tt = own;
  for (let p = f.firstPage; p < f.firstPage + f.pages; p++) {
    if (p === f.accessedPage) continue;
    const done = d.faultInPage(region, p, f.write, tt);
    if (done >= 0) tt = done;
  }
  for (let i = 0; i < f.pages; i++) f.bits[i] = permission(d, f.device, f.firstPage + i);
  tt += f.pages * timing.perPage;
  // Only pages the device may use over the link are DMA-mapped (the IOMMU refuses the
  // others); a page in a peer's memory is mapped through the peer route, once.
  for (let i = 0; i < f.pages; i++) {
    const bits = f.bits[i];
    const p = f.firstPage + i;
    if (bits === 0 || (bits & DEV_LOCAL) !== 0) continue;
    if ((bits & DEV_PEER) === 0) tt = d.dmaMap(p, 1, tt);
    else if (d.devicePte(f.device, p) !== bits) {
      tt = d.mapPeerPages(f.device, d.residency.holderOtherThan(p, f.device), 1, tt);
    }
  }
  if (region.seq !== seqBefore) {
    // Our own copy-on-write invalidated the interval: the driver's loop sees
    // mmu_interval_read_retry() and walks the range again.
    d.countHmmRangeFaultRetry();
    tt += f.pages * timing.perPage;
  }
  f.costPs = tt - t;
}

/** What the device may do with a 4 KiB page as the CPU page table now stands. */
export function pagePermission(d: DriverContext, page: number): number {
  const prot = d.prot(page);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) return 0;
  const pte = d.cpuPte(page);
  if (pte === CpuPte.Present && (prot & PROT_WRITE) !== 0) return DEV_READ | DEV_WRITE;
  if (pte === CpuPte.Present || pte === CpuPte.ReadOnly) return DEV_READ;
  return 0;
}
