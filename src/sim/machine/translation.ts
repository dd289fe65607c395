/**
 * How a device turns an address into a permission and a location. The access path asks
 * the machine's Translation and does not know which one runs: the strategy chooses.
 * The other kind, the IOMMU walking the CPU page table, is in ats-translation.ts.
 *
 * - DevicePageTable: the device MMU's per-unit L1 TLB, shared L2 TLB and a walk of the
 *   device page table that the driver fills (hmm-mirror, explicit-copy, migration).
 *   Large device pages are cached whole only when mapped whole (DEV_LARGE); a split
 *   device page is cached 4 KiB by 4 KiB (page-state.ts).
 */
import type { Ps } from '../engine/time.js';
import { TLB_MISS } from './contexts.js';
import type { Device } from './device.js';
import type { Machine } from './machine.js';
import { DEV_LARGE, SPLIT_TAG_BASE } from './page-state.js';

export interface Translation {
  /**
   * Translates device context `c`'s access to 4 KiB page `page` at `t`: returns the time
   * the translation is known and leaves the entry's DEV_* bits in `flags` (0: no valid
   * entry; the caller files a fault).
   */
  translate(m: Machine, dev: Device, c: number, page: number, t: Ps): Ps;
  flags: number;
  /**
   * True when the IOMMU itself translated (ATS): the request that follows carries a
   * translated address, needs no DMA mapping and no second translation at the root
   * complex (see ats-translation.ts).
   */
  readonly viaIommu: boolean;
}

export class DevicePageTable implements Translation {
  flags = 0;
  readonly viaIommu = false;

  translate(m: Machine, dev: Device, c: number, page: number, t: Ps): Ps {
    const shift = dev.pageShift;
    const dvpn = shift === 0 ? page : Math.floor(page * dev.pageInv);
    const split = SPLIT_TAG_BASE + page;
    const l1 = dev.l1OfContext[c - dev.firstContext];
    let tt = t + dev.t.l1Hit;
    let flags = shift === 0 ? l1.lookup(page) : l1.lookupEither(dvpn, split);
    if (flags < 0) {
      tt += dev.t.l2Hit;
      flags = shift === 0 ? dev.l2Tlb.lookup(page) : dev.l2Tlb.lookupEither(dvpn, split);
      if (flags < 0) {
        tt += dev.t.walk;
        flags = dev.pte.get(page);
        if (flags !== 0) dev.l2Tlb.insert(tagOf(dvpn, page, flags, shift), flags);
      }
      if (flags > 0) l1.insert(tagOf(dvpn, page, flags, shift), flags);
      m.contexts.charge(c, TLB_MISS, tt);
    }
    this.flags = flags;
    return tt;
  }
}

function tagOf(dvpn: number, page: number, flags: number, shift: number): number {
  return shift === 0 || (flags & DEV_LARGE) !== 0 ? dvpn : SPLIT_TAG_BASE + page;
}
