/**
 * Per-page state of the core MM, one byte per 4 KiB page in flat typed arrays (a 32 GiB
 * footprint is 8 Mi pages: a few tens of MB).
 *
 * CPU page-table entry states, after the kernel's: a page is absent, present in system
 * memory (writable or write-protected), or replaced by a special swap entry.
 */
export const enum CpuPte {
  /** No entry: the first touch faults (anonymous memory is allocated then). */
  None = 0,
  /** Present in system memory and writable. */
  Present = 1,
  /** Present but write-protected: the shared zero page after a read fault, or a copy-on-write page. */
  ReadOnly = 2,
  /** A device-private swap entry: the data is in device memory; a CPU touch migrates it back. */
  DevicePrivate = 3,
  /** A device-exclusive entry (for device atomics); a CPU touch revokes it. */
  DeviceExclusive = 4,
  /** A migration entry: the page is being migrated; a CPU touch waits. */
  Migration = 5,
  /** Pinned to device memory: a CPU touch is a SIGBUS. */
  Pinned = 6,
}

/** VMA protection bits per page (Linux splits VMAs on a partial mprotect; a byte per page is simpler). */
export const PROT_MAPPED = 1;
export const PROT_READ = 2;
export const PROT_WRITE = 4;
export const PROT_SHARED = 8;
/** The VMA maps a file (its pages are page-cache pages until a MAP_PRIVATE write copies one). */
export const PROT_FILE = 16;
/**
 * The VMA is hugetlb memory (MAP_HUGETLB): its pages come from the hugetlb pool whole, are
 * mapped at PMD or PUD level, are never split and never migrate (mm/hugetlb.ts).
 */
export const PROT_HUGETLB = 32;

/**
 * Device page-table entry bits, one byte per 4 KiB page. A device page (64 KiB or 2 MiB)
 * is mapped whole only when every 4 KiB page under it allows the same access: then its
 * entries carry DEV_LARGE and the TLBs hold one translation for the device page. When the
 * pages under it differ (a partial mprotect, a hole, a partial munmap), the driver maps
 * it at 4 KiB granularity and the TLBs hold 4 KiB translations, so the device can never
 * do more with a page than the CPU side allows for that page.
 */
export const DEV_READ = 1;
export const DEV_WRITE = 2;
/** The data is in device memory (a buffer object or a device page), not reached over the link. */
export const DEV_LOCAL = 4;
/** Part of a device page mapped whole (one TLB entry for the device page). */
export const DEV_LARGE = 8;
/** The data is in another device's memory, reached peer to peer (machine/peer-path.ts). */
export const DEV_PEER = 16;
/** The permission and locality bits, without DEV_LARGE. */
export const DEV_ACCESS = DEV_READ | DEV_WRITE | DEV_LOCAL | DEV_PEER;

/**
 * TLB tags: a device page mapped whole is tagged with its device page number; a 4 KiB
 * translation of a split device page with SPLIT_TAG_BASE + its 4 KiB page number, so
 * both kinds live in one TLB without aliasing (page numbers stay below 2^40).
 */
export const SPLIT_TAG_BASE = 2 ** 46;

/**
 * Per-page core-MM flags beside the CPU entry (AddressSpace.flags), one byte per page.
 * PAGE_COW: write-protected because a forked child shares the page (a present page, then
 * CpuPte.ReadOnly, or a device-private entry made read-only by fork); a write copies it.
 * PAGE_HUGE: mapped by a 2 MiB PMD entry (a THP, or a device-private THP that migrated
 * whole); any split clears it for the whole 2 MiB block. In a hugetlb VMA (PROT_HUGETLB):
 * the page belongs to a huge page of the pool, mapped by one PMD (2 MiB) or PUD (1 GiB)
 * entry, which is never split.
 * PAGE_PINNED_HOST: long-term pinned in system memory (FOLL_LONGTERM GUP): never migrates.
 * PAGE_PINNED_DEVICE: a device-private page pinned in its device's memory: a CPU touch is SIGBUS.
 * The high nibble holds 1 + the device that holds a device-exclusive entry (CpuPte.DeviceExclusive).
 */
export const PAGE_COW = 1;
export const PAGE_HUGE = 2;
export const PAGE_PINNED_HOST = 4;
export const PAGE_PINNED_DEVICE = 8;
export const PAGE_EXCLUSIVE_SHIFT = 4;

/**
 * What hmm_range_fault without faulting reports for a 4 KiB page (the HMM selftests'
 * SNAPSHOT, test_hmm.c's HMM_DMIRROR_PROT_*), seen from one device: 'error' (unmapped or
 * PROT_NONE), 'none' (mapped, no entry yet), 'zero' (the shared zero page), 'read' and
 * 'write' (present in system memory), 'device-private' (in this device's private memory)
 * or 'device-private-remote' (another device's, which the kernel reports as PROT_NONE),
 * 'device-coherent' / 'device-coherent-remote' (present to the CPU, its data in a device's
 * memory on a coherent link), 'device-exclusive' (an exclusive entry for a device's
 * atomics), 'pinned' (pinned in device memory). A '-pmd' suffix: mapped by a 2 MiB entry;
 * '-pud': by a 1 GiB entry (a 1 GiB hugetlb page).
 */
export type PageView = BasePageView | `${BasePageView}-pmd` | `${BasePageView}-pud`;
export type BasePageView =
  | 'error'
  | 'none'
  | 'zero'
  | 'read'
  | 'write'
  | 'device-private'
  | 'device-private-remote'
  | 'device-coherent'
  | 'device-coherent-remote'
  | 'device-exclusive'
  | 'pinned';

/**
 * Whether the page's entry maps (or, when it has none, would map) a page-cache page of
 * the file its VMA maps, not an anonymous page: every page of a MAP_SHARED file mapping;
 * in a MAP_PRIVATE one, a page with no entry (its first touch reads the page cache) or
 * mapped write-protected without PAGE_COW (the page-cache page itself; a write copies it
 * into an anonymous page). Only anonymous pages may move to device memory
 * (__migrate_device_pages refuses a folio with a mapping that is not anonymous).
 */
export function mapsPageCache(prot: number, pte: CpuPte, flags: number): boolean {
  if ((prot & PROT_FILE) === 0) return false;
  if ((prot & PROT_SHARED) !== 0) return true;
  return pte === CpuPte.None || (pte === CpuPte.ReadOnly && (flags & PAGE_COW) === 0);
}

export const PAGE_SHIFT = 12;
export const PAGE_BYTES = 4096;
/** 1 / PAGE_BYTES: a multiplication by it is exactly the division (a power of two), at a fraction of the cost. */
const PAGE_INV = 1 / PAGE_BYTES;

/** The 4 KiB page a non-negative byte offset falls in: Math.floor(offset / PAGE_BYTES), without the division. */
export function pageIndexOf(offset: number): number {
  return Math.floor(offset * PAGE_INV);
}
