/**
 * The second kind of translation: no device page table. The device asks the IOMMU, which
 * walks the CPU's own page table (shared virtual addressing, a PASID per process), and
 * caches the answer in its address translation cache (ATC) — PCIe ATS. A page the CPU
 * page table does not map for the access has no translation: the device sends a PRI
 * page request, filed here in the device's fault queue, which the OS services like a CPU
 * fault (the strategy's resolveDeviceFault) before the page response lets the device
 * retry. CPU page-table changes invalidate the IOTLB and the ATC (the IOMMU driver's MMU
 * notifier).
 *
 * The access path asks this the same way as the device page table; the data that
 * follows needs no second translation at the root complex (an ATS-translated request).
 *
 * A page the CPU maps with a 2 MiB PMD entry (a transparent huge page) gets a 2 MiB
 * translation: the IOMMU's walk ends at the PMD, the IOTLB caches one 2 MiB entry, and the
 * translation completion carries the range size (the S bit of PCIe ATS), so the ATC holds
 * one entry for the whole 2 MiB. Every 4 KiB page under it then has the same permission (a
 * block whose pages differ is split, and split blocks get 4 KiB entries); a notifier
 * invalidation of any page of the block drops the whole entry (invalidateTranslations).
 */
import type { Ps } from '../engine/time.js';
import { pmdTag, lookupTranslation } from '../hw/iommu.js';
import { D2H, H2D } from '../hw/link/types.js';
import { HUGE_PAGES } from './address-space.js';
import { TLB_MISS } from './contexts.js';
import type { Device } from './device.js';
import type { Machine } from './machine.js';
import { CpuPte, DEV_READ, DEV_WRITE, PAGE_HUGE, PROT_MAPPED, PROT_READ, PROT_WRITE } from './page-state.js';
import type { Translation } from './translation.js';

/** Bytes of an ATS translation request or completion message. */
export const ATS_MESSAGE_BYTES = 16;

export class AtsTranslation implements Translation {
  flags = 0;
  readonly viaIommu = true;

  translate(m: Machine, dev: Device, c: number, page: number, t: Ps): Ps {
    const atc = dev.atc;
    if (atc === null) throw new Error(`${dev.name} has no ATC: shared virtual addressing needs hardware.iommu.ats`);
    const cached = lookupTranslation(atc, page);
    if (cached >= 0) {
      this.flags = cached;
      return t;
    }
    dev.counters.atsRequests++;
    const flags = cpuSidePermission(m, page);
    const huge = flags !== 0 && mappedByPmd(m, page, flags);
    let tt = dev.link.message(t, D2H, ATS_MESSAGE_BYTES);
    tt = m.iommu.translateShared(tt, page, huge);
    tt = dev.link.message(tt, H2D, ATS_MESSAGE_BYTES);
    m.contexts.charge(c, TLB_MISS, tt);
    if (huge) {
      dev.counters.atsHugeTranslations++;
      atc.insert(pmdTag(page), flags);
    } else if (flags !== 0) {
      atc.insert(page, flags);
    }
    this.flags = flags;
    return tt;
  }
}

/**
 * True when `page` lies in a 2 MiB block the CPU maps with one PMD entry: every page of
 * the block is flagged PAGE_HUGE and gives the device `flags`. The core MM keeps a huge
 * block uniform (any change to part of it splits it first); checking each page keeps a
 * 2 MiB translation from ever granting a page more than its own entry does.
 */
export function mappedByPmd(m: Machine, page: number, flags: number): boolean {
  const pageFlags = m.space.flags;
  if ((pageFlags.get(page) & PAGE_HUGE) === 0) return false;
  const first = page - (page % HUGE_PAGES);
  for (let p = first; p < first + HUGE_PAGES; p++) {
    if ((pageFlags.get(p) & PAGE_HUGE) === 0 || cpuSidePermission(m, p) !== flags) return false;
  }
  return true;
}

/** What the CPU page table and the VMA let the device do with a page: DEV_READ | DEV_WRITE bits. */
export function cpuSidePermission(m: Machine, page: number): number {
  const prot = m.space.prot.get(page);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) return 0;
  const pte = m.space.cpuPte.get(page);
  if (pte === CpuPte.Present) return prot & PROT_WRITE ? DEV_READ | DEV_WRITE : DEV_READ;
  return pte === CpuPte.ReadOnly ? DEV_READ : 0;
}
