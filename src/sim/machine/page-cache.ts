/**
 * The page cache of the files a workload maps, reads and writes. The model has no storage
 * device: every file is held whole in the page cache from the start (an assumption: a
 * file that was read or written recently), so a file page is always a page of system
 * memory, and what persists across munmap and mmap of a file is its page-cache pages and
 * their dirty state. A page is dirty from the first write that reaches it (a write fault
 * through a MAP_SHARED mapping, by the CPU or on a device's behalf; a write(2)) until its
 * writeback (msync, fsync).
 */
import { PagedTable } from '../engine/paged-table.js';
import type { FileSpec } from '../workload/types.js';
import { PAGE_BYTES } from './page-state.js';

export interface CachedFile {
  readonly name: string;
  /** 4 KiB pages of the file. */
  readonly pages: number;
  /** 1 for each dirty page (memory grows with the pages that differ, not with the file). */
  readonly dirty: PagedTable;
  /** Dirty pages now. */
  dirtyPages: number;
}

export class PageCache {
  readonly files: CachedFile[];
  /** Pages that went from clean to dirty, over the run. */
  pagesDirtied = 0;
  /** Dirty pages written back (and cleaned) by msync and fsync. */
  pagesWrittenBack = 0;
  /** Bytes copied by read(2) and write(2). */
  readBytes = 0;
  writeBytes = 0;
  /** Pages a read fault mapped besides the faulting one (fault-around). */
  faultAroundPages = 0;

  constructor(specs: readonly FileSpec[]) {
    this.files = specs.map((spec) => ({
      name: spec.name,
      pages: Math.ceil(spec.sizeBytes / PAGE_BYTES),
      dirty: new PagedTable(Uint8Array),
      dirtyPages: 0,
    }));
  }

  isDirty(file: number, page: number): boolean {
    return this.files[file].dirty.get(page) !== 0;
  }

  /** Marks a page dirty (folio_mark_dirty). */
  markDirty(file: number, page: number): void {
    const f = this.files[file];
    if (f.dirty.get(page) !== 0) return;
    f.dirty.set(page, 1);
    f.dirtyPages++;
    this.pagesDirtied++;
  }

  /** Marks a page clean once written back (folio_clear_dirty_for_io). */
  clean(file: number, page: number): void {
    const f = this.files[file];
    if (f.dirty.get(page) === 0) return;
    f.dirty.set(page, 0);
    f.dirtyPages--;
    this.pagesWrittenBack++;
  }

  /** Dirty pages of every file together. */
  get dirtyPages(): number {
    let n = 0;
    for (const f of this.files) n += f.dirtyPages;
    return n;
  }
}
