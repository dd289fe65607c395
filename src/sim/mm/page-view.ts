/**
 * What the HMM test driver's SNAPSHOT reports for each page (hmm_range_fault without
 * faulting, lib/test_hmm.c dmirror_mkentry), seen from one device: see PageView.
 */
import { HUGE_PAGES } from '../machine/address-space.js';
import {
  CpuPte,
  PAGE_COW,
  PAGE_HUGE,
  PAGE_PINNED_DEVICE,
  PROT_FILE,
  PROT_HUGETLB,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
  type BasePageView,
  type PageView,
} from '../machine/page-state.js';
import type { Driver } from './driver.js';

/** The view of one page from device `device`, without the huge-mapping suffix. */
export function pageView(d: Driver, page: number, device = 0): BasePageView {
  const prot = d.prot(page);
  if ((prot & PROT_MAPPED) === 0 || (prot & PROT_READ) === 0) return 'error';
  const flags = d.m.space.flags.get(page);
  const here = d.residency.frame(device, page) >= 0;
  switch (d.cpuPte(page)) {
    case CpuPte.None:
      return 'none';
    case CpuPte.ReadOnly:
      // Write-protected with its data in device memory: device-coherent (the kernel adds READ).
      if (!d.residency.inSystem(page)) return here ? 'device-coherent' : 'device-coherent-remote';
      // A page a forked child shares, or a file's page-cache page, is a data page,
      // write-protected; otherwise the zero page.
      return flags & PAGE_COW || prot & PROT_FILE ? 'read' : 'zero';
    case CpuPte.Present:
      // Present to the CPU with its data in device memory: device-coherent (a coherent link).
      if (!d.residency.inSystem(page)) return here ? 'device-coherent' : 'device-coherent-remote';
      return prot & PROT_WRITE ? 'write' : 'read';
    case CpuPte.DevicePrivate:
      if (flags & PAGE_PINNED_DEVICE) return 'pinned';
      return here ? 'device-private' : 'device-private-remote';
    case CpuPte.DeviceExclusive:
      return 'device-exclusive';
    case CpuPte.Pinned:
      return 'pinned';
    default:
      return 'none';
  }
}

/** Views that a 2 MiB entry can map (hmm_pfn_to_map_order() is the PMD order). */
const HUGE_VIEWS = new Set<BasePageView>(['read', 'write', 'device-private', 'device-coherent']);

/**
 * The views of pages [first, first + pages) from `device`: a page of a 2 MiB block that
 * is mapped whole (every page flagged huge, all with one view) gets the '-pmd' suffix; a
 * page of a hugetlb page gets '-pmd' or '-pud' by the huge page's size (its one entry maps
 * it whole, always).
 */
export function snapshotViews(d: Driver, first: number, pages: number, device: number): PageView[] {
  const flags = d.m.space.flags;
  const views: PageView[] = [];
  let block = -1;
  let blockHuge = false;
  const region = d.m.space.regions.find((r) => first >= r.basePage && first < r.basePage + r.pages);
  const hugetlbLevel = region?.spec.hugetlbPageBytes === 2 * 1024 * 1024 ? '-pmd' : '-pud';
  for (let p = first; p < first + pages; p++) {
    const view = pageView(d, p, device);
    if ((d.prot(p) & PROT_HUGETLB) !== 0) {
      views.push((flags.get(p) & PAGE_HUGE) !== 0 && HUGE_VIEWS.has(view) ? `${view}${hugetlbLevel}` : view);
      continue;
    }
    const b = p - (p % HUGE_PAGES);
    if (b !== block) {
      block = b;
      blockHuge = HUGE_VIEWS.has(view);
      for (let q = b; q < b + HUGE_PAGES && blockHuge; q++) {
        blockHuge = (flags.get(q) & PAGE_HUGE) !== 0 && pageView(d, q, device) === view;
      }
    }
    views.push(blockHuge ? `${view}-pmd` : view);
  }
  return views;
}
