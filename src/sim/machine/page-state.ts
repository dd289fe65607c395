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
/** The permission and locality bits, without DEV_LARGE. */
export const DEV_ACCESS = DEV_READ | DEV_WRITE | DEV_LOCAL;

/**
 * TLB tags: a device page mapped whole is tagged with its device page number; a 4 KiB
 * translation of a split device page with SPLIT_TAG_BASE + its 4 KiB page number, so
 * both kinds live in one TLB without aliasing (page numbers stay below 2^40).
 */
export const SPLIT_TAG_BASE = 2 ** 46;

/**
 * What hmm_range_fault without faulting reports for a 4 KiB page (the HMM selftests'
 * SNAPSHOT). 'device-coherent': present to the CPU, its data in a device's memory on a
 * coherent link (test_hmm.c's HMM_DMIRROR_PROT_DEV_COHERENT_*).
 */
export type PageView =
  'error' | 'none' | 'zero' | 'read' | 'write' | 'device-private' | 'device-coherent' | 'device-exclusive' | 'pinned';

export const PAGE_SHIFT = 12;
export const PAGE_BYTES = 4096;
