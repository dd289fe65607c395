/**
 * hugetlb memory: anonymous MAP_HUGETLB regions backed by the hugetlb pool
 * (mm/hugetlb.c; Documentation/admin-guide/mm/hugetlbpage.rst and mm/hugetlbfs_reserv.rst).
 *
 * - The pool holds a fixed number of huge pages of each size (hardware.cpu.memory.hugetlbPool).
 *   mmap reserves every huge page the region spans (hugetlb_reserve_pages) and fails with
 *   ENOMEM when the free pages not already reserved cannot hold them.
 * - The first touch of a huge page, read or write, by the CPU or for a device
 *   (hmm_range_fault), takes it from the pool (consuming the reservation), zeroed whole,
 *   and maps it with one PMD (2 MiB) or PUD (1 GiB) entry: there is no zero page.
 * - A huge page is never split, never migrated (migrate_vma_setup refuses a hugetlb VMA),
 *   never made device-exclusive; the host ops check the ranges (host-ops.ts).
 * - munmap gives the populated huge pages back to the pool and drops the reservations of the
 *   others; MADV_DONTNEED gives the pages back but keeps the reservation consumed, so a
 *   later touch takes a page outside the reservations (SIGBUS, or EFAULT for a device, when
 *   there is none), as a private mapping's reserve map has it.
 * - After fork a write copies the whole huge page (hugetlb_wp) into a page taken outside the
 *   reservations; when the pool has none, the child loses its mapping (unmap_ref_private)
 *   and the parent keeps the page writable. A huge page the child still shares stays the
 *   child's when the parent unmaps it.
 *
 * Simplification: a MAP_SHARED hugetlb region is accounted as a private one (its pages
 * live in an unlinked hugetlbfs file in Linux, which keeps them across MADV_DONTNEED).
 */
import { ERR_EFAULT, ERR_SIGBUS, OpError } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import { HUGE_PAGES, hugetlbPages, type Region } from '../machine/address-space.js';
import { CpuPte, PAGE_BYTES, PAGE_COW, PAGE_HUGE, PROT_MAPPED } from '../machine/page-state.js';
import type { Driver } from './driver.js';

export interface HugetlbPoolConfig {
  pages2MiB: number;
  pages1GiB: number;
}

/** Pool accounting (free and reserved huge pages of each size) and each region's consumed reservations. */
export class HugetlbPool {
  /** Free huge pages: [2 MiB, 1 GiB]. */
  readonly free: [number, number];
  /** Free huge pages that mmaps have reserved and no fault has taken yet. */
  readonly reserved: [number, number] = [0, 0];
  /** Per region index: its huge pages (index in the region) whose reservation a fault has taken. */
  private readonly consumed = new Map<number, Set<number>>();

  constructor(config: HugetlbPoolConfig) {
    this.free = [config.pages2MiB, config.pages1GiB];
  }

  /** mmap: reserves every huge page of the region, or says why it cannot. */
  reserve(region: Region): OpError | null {
    const hp = hugetlbPages(region.spec);
    const s = sizeIndex(hp);
    const needed = region.pages / hp;
    const available = this.free[s] - this.reserved[s];
    if (needed > available) {
      const field = s === 0 ? 'pages2MiB' : 'pages1GiB';
      return new OpError(
        'ENOMEM',
        `mmap of ${region.spec.name} (MAP_HUGETLB): it needs ${needed} huge pages of ${sizeName(hp)} and the pool has ${available} free and unreserved (hardware.cpu.memory.hugetlbPool.${field})`,
      );
    }
    this.reserved[s] += needed;
    this.consumed.set(region.index, new Set());
    return null;
  }

  /** A fault takes huge page `index` of the region: its reservation, else a page no one reserved; false when there is none. */
  take(region: Region, index: number): boolean {
    const s = sizeIndex(hugetlbPages(region.spec));
    const used = this.consumedOf(region);
    if (!used.has(index)) {
      used.add(index);
      this.reserved[s]--;
      this.free[s]--;
      return true;
    }
    return this.takeUnreserved(region);
  }

  /** A page outside every reservation (a copy-on-write copy, a touch after MADV_DONTNEED); false when there is none. */
  takeUnreserved(region: Region): boolean {
    const s = sizeIndex(hugetlbPages(region.spec));
    if (this.free[s] - this.reserved[s] <= 0) return false;
    this.free[s]--;
    return true;
  }

  /**
   * Pages [first, first + pages) of the region (whole huge pages) are zapped: each populated
   * huge page the process alone holds goes back to the pool. `unmap`: the range goes too,
   * and so do the reservations no fault took.
   */
  release(d: Driver, region: Region, first: number, pages: number, unmap: boolean): void {
    const hp = hugetlbPages(region.spec);
    const s = sizeIndex(hp);
    const used = this.consumedOf(region);
    const space = d.m.space;
    for (let p = first; p < first + pages; p += hp) {
      if ((space.prot.get(p) & PROT_MAPPED) === 0) continue;
      const index = (p - region.basePage) / hp;
      // A huge page a forked child still shares stays allocated to the child.
      if (space.cpuPte.get(p) !== CpuPte.None && (space.flags.get(p) & PAGE_COW) === 0) this.free[s]++;
      if (!unmap) continue;
      if (!used.delete(index)) this.reserved[s]--;
    }
  }

  /** mremap: the reservations of the huge pages [first, first + pages) of `from` move with them to the start of `to`. */
  move(from: Region, first: number, pages: number, to: Region): void {
    const hp = hugetlbPages(from.spec);
    const used = this.consumedOf(from);
    const moved = new Set<number>();
    const firstIndex = (first - from.basePage) / hp;
    for (let i = 0; i < pages / hp; i++) if (used.delete(firstIndex + i)) moved.add(i);
    this.consumed.set(to.index, moved);
  }

  private consumedOf(region: Region): Set<number> {
    let used = this.consumed.get(region.index);
    if (used === undefined) this.consumed.set(region.index, (used = new Set()));
    return used;
  }
}

const sizeIndex = (hugePages: number): 0 | 1 => (hugePages === HUGE_PAGES ? 0 : 1);
const sizeName = (hugePages: number): string => (hugePages === HUGE_PAGES ? '2 MiB' : '1 GiB');

/**
 * The cost of populating or copying one huge page: the trap (a CPU fault only), then
 * clearing it 2 MiB by 2 MiB at the cost of a 2 MiB huge page fault's handler
 * (hardware.cpu.hugePageFaultNs: a 1 GiB page costs 512 of them). Copying is charged as
 * clearing (an assumption).
 */
function hugePageCost(d: Driver, hp: number, forDevice: boolean): Ps {
  const t = d.m.t;
  return (forDevice ? 0 : t.cpuHugePageFault - t.driverHugePageFault) + (hp / HUGE_PAGES) * t.driverHugePageFault;
}

/** The first 4 KiB page of the huge page around `page`. */
export function hugePageStart(region: Region, page: number): number {
  const hp = hugetlbPages(region.spec);
  return page - ((page - region.basePage) % hp);
}

/**
 * A fault on a page of a hugetlb region with no entry (hugetlb_no_page): the huge page is
 * taken from the pool, zeroed and mapped whole, writable as the VMA allows. Returns when
 * done, or SIGBUS (a CPU access) / EFAULT (for a device) when the pool has no page for it.
 */
export function hugetlbFault(d: Driver, region: Region, page: number, t: Ps, forDevice: boolean): Ps {
  const hp = hugetlbPages(region.spec);
  const first = hugePageStart(region, page);
  if (!d.hugetlb.take(region, (first - region.basePage) / hp)) return forDevice ? ERR_EFAULT : ERR_SIGBUS;
  const space = d.m.space;
  space.cpuPte.fill(CpuPte.Present, first, first + hp);
  space.flags.fill(PAGE_HUGE, first, first + hp);
  d.m.counters.hugePageFaults++;
  return t + hugePageCost(d, hp, forDevice);
}

/**
 * A write to a huge page a forked child shares (hugetlb_wp): the parent gets a copy of the
 * whole page, mapped writable, and every mirror of the old one is invalidated; or, when the
 * pool has no page outside the reservations, the child's mapping goes and the parent keeps
 * the page (no copy, nothing to invalidate: the page stays the same).
 */
export function hugetlbCow(d: Driver, region: Region, page: number, t: Ps, forDevice: boolean): Ps {
  const m = d.m;
  const hp = hugetlbPages(region.spec);
  const first = hugePageStart(region, page);
  const copied = d.hugetlb.takeUnreserved(region);
  m.counters.cpuCowFaults++;
  m.space.cpuPte.fill(CpuPte.Present, first, first + hp);
  m.space.flags.fill(PAGE_HUGE, first, first + hp);
  m.cpuTlb.invalidateRange(first, hp);
  if (!copied) return t + (forDevice ? 0 : m.t.cpuHugePageFault - m.t.driverHugePageFault);
  if (m.hooks.cpuPageReplaced) for (let p = first; p < first + hp; p++) m.hooks.cpuPageReplaced(p);
  return d.cpuPteChanged(region, first, t + hugePageCost(d, hp, forDevice), hp);
}

/**
 * The pages of a munmap, mprotect or madvise range of a hugetlb region, or its EINVAL: the
 * start must be huge-page aligned, and so must the end of munmap and mprotect
 * (hugetlb_vm_op_split refuses to split the VMA inside a huge page; only lengths are
 * aligned, to 4 KiB); madvise(DONTNEED) leaves out the huge page the range ends in
 * (madvise_dontneed_free_valid_vma aligns the end down).
 */
export function hugetlbRange(
  region: Region,
  call: string,
  offset: number,
  bytes: number,
  end: 'aligned' | 'down',
): [number, number] | OpError {
  const hpBytes = hugetlbPages(region.spec) * PAGE_BYTES;
  const name = region.spec.name;
  const size = sizeName(hpBytes / PAGE_BYTES);
  if (offset % hpBytes !== 0) {
    return new OpError(
      'EINVAL',
      `${call} of ${name}+0x${offset.toString(16)}: the start is not aligned to the region's ${size} hugetlb pages`,
    );
  }
  let endBytes = offset + Math.ceil(bytes / PAGE_BYTES) * PAGE_BYTES;
  if (end === 'down') endBytes -= endBytes % hpBytes;
  else if (endBytes % hpBytes !== 0) {
    return new OpError(
      'EINVAL',
      `${call} of ${name}+0x${offset.toString(16)}..+0x${endBytes.toString(16)}: the range ends inside a ${size} hugetlb page, which cannot be split`,
    );
  }
  return [region.basePage + offset / PAGE_BYTES, Math.max(0, endBytes - offset) / PAGE_BYTES];
}
