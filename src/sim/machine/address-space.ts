import type { Prot, RegionSpec } from '../workload/types.js';
import { PagedTable } from '../engine/paged-table.js';
import {
  CpuPte,
  PAGE_BYTES,
  PAGE_HUGE,
  PROT_FILE,
  PROT_HUGETLB,
  PROT_MAPPED,
  PROT_READ,
  PROT_SHARED,
  PROT_WRITE,
} from './page-state.js';

/** 4 KiB pages per 2 MiB PMD mapping. */
export const HUGE_PAGES = 512;

export interface Region {
  index: number;
  spec: RegionSpec;
  /** First 4 KiB page of the region in the simulated address space. */
  basePage: number;
  pages: number;
  /** True while any page of the region is mapped. */
  mapped: boolean;
  /** Pages of the region currently mapped (a partial munmap lowers it). */
  mappedPages: number;
  /** Bumped by every notifier invalidation that overlaps the region (mmu_interval_notifier seq). */
  seq: number;
}

/**
 * The simulated process address space: regions (VMAs) and the per-page CPU page-table
 * state. Virtual pages are numbered from 0; regions are laid out by a bump allocator and
 * their addresses are never reused.
 */
export class AddressSpace {
  readonly regions: Region[] = [];
  /** CPU page-table entry state per 4 KiB page (CpuPte); memory grows with the pages that differ. */
  readonly cpuPte = new PagedTable(Uint8Array);
  /** VMA protection bits per 4 KiB page (PROT_*). */
  readonly prot = new PagedTable(Uint8Array);
  /** Core-MM flags per 4 KiB page (PAGE_* in page-state.ts): COW, huge mapping, pins, exclusive owner. */
  readonly flags = new PagedTable(Uint8Array);
  /** True once the process has forked: pages may be write-protected for copy-on-write (PAGE_COW). */
  forked = false;
  private nextPage: number;

  /**
   * Regions are laid out `alignPages`-aligned (2 MiB, or the largest device page when that
   * is larger) with a guard gap of as much, so a device page never spans two regions.
   */
  constructor(specs: readonly RegionSpec[], alignPages = HUGE_PAGES) {
    this.nextPage = alignPages;
    specs.forEach((spec, index) => {
      const pages = Math.ceil(spec.sizeBytes / PAGE_BYTES);
      // A hugetlb region starts on a boundary of its huge pages (hugetlb_get_unmapped_area).
      const huge = hugetlbPages(spec);
      if (huge > alignPages) this.nextPage = Math.ceil(this.nextPage / huge) * huge;
      const basePage = this.nextPage;
      this.nextPage += Math.ceil(pages / alignPages) * alignPages + alignPages;
      this.regions.push({ index, spec, basePage, pages, mapped: false, mappedPages: 0, seq: 0 });
    });
  }

  /** Pages the address space spans (for sizing device page tables). */
  get totalPages(): number {
    return this.nextPage;
  }

  map(region: Region): void {
    const bits = vmaBits(region.spec);
    this.prot.fill(bits, region.basePage, region.basePage + region.pages);
    this.cpuPte.fill(CpuPte.None, region.basePage, region.basePage + region.pages);
    this.flags.fill(0, region.basePage, region.basePage + region.pages);
    region.mapped = true;
    region.mappedPages = region.pages;
  }

  /** Maps pages [first, first + pages) of a region again (mmap with MAP_FIXED into a hole), with the region's protection. */
  mapRange(region: Region, firstPage: number, pages: number): void {
    const bits = vmaBits(region.spec);
    const prot = this.prot;
    for (let p = firstPage; p < firstPage + pages; p++) if ((prot.get(p) & PROT_MAPPED) === 0) region.mappedPages++;
    prot.fill(bits, firstPage, firstPage + pages);
    this.zap(firstPage, pages);
    region.mapped = true;
  }

  unmap(region: Region, firstPage: number, pages: number): void {
    const prot = this.prot;
    for (let p = firstPage; p < firstPage + pages; p++) if (prot.get(p) & PROT_MAPPED) region.mappedPages--;
    this.splitHuge(firstPage, pages);
    prot.fill(0, firstPage, firstPage + pages);
    this.zap(firstPage, pages);
    region.mapped = region.mappedPages > 0;
  }

  /**
   * Splits the 2 MiB mappings that [first, first + pages) covers only in part (a partial
   * munmap, mprotect, madvise or migration splits a THP): they become 4 KiB mappings.
   */
  splitHuge(firstPage: number, pages: number): void {
    if (pages <= 0) return;
    for (const edge of [firstPage, firstPage + pages - 1]) {
      const block = edge - (edge % HUGE_PAGES);
      if (block >= firstPage && block + HUGE_PAGES <= firstPage + pages) continue;
      if ((this.flags.get(edge) & PAGE_HUGE) === 0) continue;
      // A hugetlb page is never split: the calls that would split one fail first (host-ops.ts).
      if ((this.prot.get(edge) & PROT_HUGETLB) !== 0) continue;
      for (let p = block; p < block + HUGE_PAGES; p++) this.flags.set(p, this.flags.get(p) & ~PAGE_HUGE);
    }
  }

  /**
   * Splits the first 2 MiB mapping that lies wholly in [first, first + pages), if any: the
   * migration fallback when a huge page allocation for it fails (a THP, never hugetlb).
   */
  splitFirstWholeHuge(firstPage: number, pages: number): void {
    const end = firstPage + pages;
    for (let block = Math.ceil(firstPage / HUGE_PAGES) * HUGE_PAGES; block + HUGE_PAGES <= end; block += HUGE_PAGES) {
      if ((this.prot.get(block) & PROT_HUGETLB) !== 0) return;
      let whole = true;
      for (let p = block; p < block + HUGE_PAGES && whole; p++) whole = (this.flags.get(p) & PAGE_HUGE) !== 0;
      if (!whole) continue;
      for (let p = block; p < block + HUGE_PAGES; p++) this.flags.set(p, this.flags.get(p) & ~PAGE_HUGE);
      return;
    }
  }

  /**
   * mremap's move: pages [first, first + pages) of `from` move to the start of `to` (a
   * region that is not mapped yet) with their protection, CPU entries and flags; `from`'s
   * range is unmapped, or with `keepOld` (MREMAP_DONTUNMAP) left mapped and empty.
   */
  moveRange(from: Region, firstPage: number, pages: number, to: Region, keepOld: boolean): void {
    this.splitHuge(firstPage, pages);
    for (let i = 0; i < pages; i++) {
      const p = firstPage + i;
      const q = to.basePage + i;
      this.prot.set(q, this.prot.get(p));
      this.cpuPte.set(q, this.cpuPte.get(p));
      this.flags.set(q, this.flags.get(p));
    }
    to.mapped = true;
    to.mappedPages = pages;
    if (!keepOld) {
      this.unmap(from, firstPage, pages);
      return;
    }
    this.zap(firstPage, pages);
  }

  /** Drops the pages' entries and flags, keeping the VMA (MADV_DONTNEED, MREMAP_DONTUNMAP's old range). */
  zap(firstPage: number, pages: number): void {
    this.cpuPte.fill(CpuPte.None, firstPage, firstPage + pages);
    this.flags.fill(0, firstPage, firstPage + pages);
  }

  /** True when no page of [first, first + pages) is mapped. */
  noneMapped(firstPage: number, pages: number): boolean {
    for (let p = firstPage; p < firstPage + pages; p++) if ((this.prot.get(p) & PROT_MAPPED) !== 0) return false;
    return true;
  }

  /** True when every page of [first, first + pages) is mapped (mprotect over a hole fails with ENOMEM). */
  allMapped(firstPage: number, pages: number): boolean {
    for (let p = firstPage; p < firstPage + pages; p++) if ((this.prot.get(p) & PROT_MAPPED) === 0) return false;
    return true;
  }

  protect(firstPage: number, pages: number, prot: Prot): void {
    const table = this.prot;
    const bits = protBits(prot);
    for (let i = firstPage; i < firstPage + pages; i++) {
      const old = table.get(i);
      if (old & PROT_MAPPED) table.set(i, (old & (PROT_SHARED | PROT_FILE | PROT_HUGETLB)) | bits);
    }
  }

  /** The page range [first, first+count) of `bytes` at `offset` in a region, clipped to it. */
  pageRange(region: Region, offset: number, bytes: number): [number, number] {
    const first = region.basePage + Math.floor(offset / PAGE_BYTES);
    const end = region.basePage + Math.min(region.pages, Math.ceil((offset + bytes) / PAGE_BYTES));
    return [first, Math.max(0, end - first)];
  }

  /** The page of its file that `page` of a file-backed region maps (its offset in the file, in pages). */
  filePage(region: Region, page: number): number {
    return (region.spec.file?.offsetBytes ?? 0) / PAGE_BYTES + (page - region.basePage);
  }

  /** Address of a page's first byte, for messages ("buf+0x3000"). */
  describePage(page: number): string {
    for (const r of this.regions) {
      if (page >= r.basePage && page < r.basePage + r.pages)
        return `${r.spec.name}+0x${((page - r.basePage) * PAGE_BYTES).toString(16)}`;
    }
    return `0x${(page * PAGE_BYTES).toString(16)}`;
  }
}

/** The protection bits a region's pages get when mapped: its protection, MAP_SHARED, file-backed. */
function vmaBits(spec: RegionSpec): number {
  return (
    protBits(spec.prot) |
    (spec.shared ? PROT_SHARED : 0) |
    (spec.file !== undefined ? PROT_FILE : 0) |
    (spec.hugetlbPageBytes !== undefined ? PROT_HUGETLB : 0)
  );
}

/** 4 KiB pages per huge page of a hugetlb region; 0 for a region of base pages. */
export function hugetlbPages(spec: RegionSpec): number {
  return spec.hugetlbPageBytes === undefined ? 0 : spec.hugetlbPageBytes / PAGE_BYTES;
}

export function protBits(prot: Prot): number {
  switch (prot) {
    case 'none':
      return PROT_MAPPED;
    case 'read':
      return PROT_MAPPED | PROT_READ;
    case 'read-write':
      return PROT_MAPPED | PROT_READ | PROT_WRITE;
  }
}
