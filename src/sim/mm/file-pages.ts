/**
 * File-backed memory in the core MM, as Linux does it for a filesystem that tracks dirty
 * pages (ext4, xfs: a shared writable mapping "wants writenotify"); the file is held
 * whole in the page cache (machine/page-cache.ts), so every fault is a minor one.
 *
 * - A read fault maps the page-cache page write-protected (do_read_fault), and with it
 *   the page-cache pages around it that have no entry yet (fault-around,
 *   filemap_map_pages), for the cost of one fault.
 * - MAP_SHARED: the mapping's pages are the page-cache pages. A write fault (do_shared_fault,
 *   or wp_page_shared on a write-protected page) calls page_mkwrite, marks the page dirty
 *   and maps it writable; no page is replaced, so no notifier runs. Writeback
 *   (msync, fsync) write-protects every writable entry of a dirty page first (folio_mkclean,
 *   with the MMU notifier: device mirrors drop the page), then writes it back and marks it
 *   clean: the next write faults and dirties it again.
 * - MAP_PRIVATE: a write copies the page-cache page into an anonymous page
 *   (do_cow_fault, or the copy-on-write of a write-protected page), which is the
 *   process's own from then on: never written back, and the only kind of page of the
 *   mapping that may move to device memory.
 * - read(2) and write(2) copy between the page cache and a user buffer; write(2) dirties
 *   the pages. Neither changes a page-table entry, so no notifier runs: a mapping, and a
 *   device mirroring it, sees the new data in the same page.
 */
import { OpError, type Outcome } from '../engine/errno.js';
import { nsToPs, type Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import { CpuPte, PAGE_BYTES, PROT_MAPPED, PROT_SHARED } from '../machine/page-state.js';
import type { Driver } from './driver.js';

/** Marks dirty the page-cache page that `page` of a file-backed region maps. */
function markDirty(d: Driver, region: Region, page: number): void {
  d.m.pageCache.markDirty(region.spec.file!.index, d.m.space.filePage(region, page));
}

/**
 * A fault on a page of a file mapping that has no entry, at `t` (its cost already
 * counted): a read maps the page-cache page write-protected, with fault-around; a write
 * maps it writable and dirty (MAP_SHARED) or maps a private anonymous copy of it
 * (MAP_PRIVATE). Returns when done.
 */
export function fileFault(d: Driver, region: Region, page: number, write: boolean, prot: number, t: Ps): Ps {
  const m = d.m;
  if (!write) {
    faultAround(d, region, page, prot);
    return t;
  }
  m.space.cpuPte.set(page, CpuPte.Present);
  if ((prot & PROT_SHARED) !== 0) {
    markDirty(d, region, page);
    return t;
  }
  // do_cow_fault: the new anonymous page holds a copy of the page-cache page.
  m.counters.cpuCowFaults++;
  return d.placeNewPages(region, page, 1, t);
}

/**
 * A write to a write-protected page of a MAP_SHARED file mapping (wp_page_shared):
 * page_mkwrite, the page is marked dirty and its entry made writable. The page stays the
 * same, so mirrors of it stay valid (they map it read-only until they fault for write).
 */
export function sharedFileWriteFault(d: Driver, region: Region, page: number, t: Ps): Ps {
  d.setCpuPte(page, CpuPte.Present);
  markDirty(d, region, page);
  // No notifier for a permission upgrade: a device whose ATC cached the read-only
  // translation (shared virtual addressing) asks for it again, as an ATC entry that does
  // not permit the access makes it do. File pages are mapped 4 KiB at a time, so their
  // ATC entries are 4 KiB ones.
  for (const dev of d.m.devices) dev.atc?.invalidatePage(page);
  return t;
}

/**
 * do_fault_around: the pages of the aligned faultAroundBytes window around `page`, inside
 * the region and with the same VMA protection, that have no entry get the page-cache
 * page, write-protected.
 */
function faultAround(d: Driver, region: Region, page: number, prot: number): void {
  const space = d.m.space;
  const window = d.m.config.cpu.pageCache.faultAroundBytes / PAGE_BYTES;
  const first = Math.max(region.basePage, page - (page % window));
  const end = Math.min(region.basePage + region.pages, page - (page % window) + window);
  for (let p = first; p < end; p++) {
    if (space.cpuPte.get(p) !== CpuPte.None || space.prot.get(p) !== prot) continue;
    space.cpuPte.set(p, CpuPte.ReadOnly);
    if (p !== page) d.m.pageCache.faultAroundPages++;
  }
}

/** Host-side file costs in ps. */
function costs(d: Driver): { syscall: Ps; copyPerPage: Ps; writebackPerPage: Ps } {
  const c = d.m.config.cpu.pageCache;
  return {
    syscall: nsToPs(c.syscallNs),
    copyPerPage: nsToPs(c.copyPerPageNs),
    writebackPerPage: nsToPs(c.writebackPerPageNs),
  };
}

/** Pages of a file touched by `bytes` from `offset`. */
function filePages(offset: number, bytes: number): [number, number] {
  const first = Math.floor(offset / PAGE_BYTES);
  return [first, Math.ceil((offset + bytes) / PAGE_BYTES)];
}

/** write(2) of `bytes` at `offset` of a file: the data is copied into its page-cache pages, which become dirty. */
export function fileWrite(d: Driver, file: number, offset: number, bytes: number, t: Ps): Ps {
  const cache = d.m.pageCache;
  const [first, end] = filePages(offset, bytes);
  for (let fp = first; fp < end; fp++) cache.markDirty(file, fp);
  cache.writeBytes += bytes;
  const c = costs(d);
  return t + c.syscall + (end - first) * c.copyPerPage;
}

/** read(2) of `bytes` at `offset` of a file: the data is copied out of its page-cache pages. */
export function fileRead(d: Driver, file: number, offset: number, bytes: number, t: Ps): Ps {
  const [first, end] = filePages(offset, bytes);
  d.m.pageCache.readBytes += bytes;
  const c = costs(d);
  return t + c.syscall + (end - first) * c.copyPerPage;
}

/** fsync(2): writeback of every dirty page of the file. */
export function fsync(d: Driver, file: number, t: Ps): Ps {
  return writeback(d, file, 0, d.m.pageCache.files[file].pages, t + costs(d).syscall);
}

/**
 * msync(MS_SYNC) of pages [first, first + pages) of a region: for a MAP_SHARED file
 * mapping, writeback of the dirty pages of the file range they map (vfs_fsync_range);
 * nothing for a MAP_PRIVATE or anonymous mapping (its changes are the process's own).
 * ENOMEM when the range has an unmapped page.
 */
export function msync(d: Driver, region: Region, first: number, pages: number, t: Ps): Outcome {
  const space = d.m.space;
  for (let p = first; p < first + pages; p++) {
    if ((space.prot.get(p) & PROT_MAPPED) === 0) {
      return new OpError('ENOMEM', `msync of ${d.describePage(p)}, which is not mapped`);
    }
  }
  const tt = t + costs(d).syscall;
  const file = region.spec.file;
  if (file === undefined || !region.spec.shared) return tt;
  const filePage = space.filePage(region, first);
  return writeback(d, file.index, filePage, filePage + pages, tt);
}

/**
 * Writeback of the dirty pages of file pages [first, end): each MAP_SHARED mapping of a
 * dirty page loses write permission (folio_mkclean: the notifier over each run of such
 * pages, then the entries write-protected, perPageNs each), and each dirty page is written
 * back (writebackPerPageNs) and marked clean. Returns when done.
 */
function writeback(d: Driver, file: number, first: number, end: number, t: Ps): Ps {
  const m = d.m;
  const cache = m.pageCache;
  if (cache.files[file].dirtyPages === 0) return t;
  let tt = t;
  for (const region of m.space.regions) {
    const spec = region.spec.file;
    if (!region.mapped || spec?.index !== file || !region.spec.shared) continue;
    const base = spec.offsetBytes / PAGE_BYTES;
    const lo = Math.max(first, base);
    const hi = Math.min(end, base + region.pages);
    let run = -1;
    for (let fp = lo; fp <= hi; fp++) {
      const p = region.basePage + (fp - base);
      const writable = fp < hi && m.space.cpuPte.get(p) === CpuPte.Present && cache.isDirty(file, fp);
      if (writable && run < 0) run = p;
      if (writable || run < 0) continue;
      tt = d.notify(region, run, p - run, tt + (p - run) * d.timing.perPage);
      for (let q = run; q < p; q++) d.setCpuPte(q, CpuPte.ReadOnly);
      run = -1;
    }
  }
  const f = cache.files[file];
  let written = 0;
  for (let fp = first; fp < end && f.dirtyPages > 0; fp++) {
    if (!cache.isDirty(file, fp)) continue;
    cache.clean(file, fp);
    written++;
  }
  return tt + written * costs(d).writebackPerPage;
}
