/** Device page-table helpers: which device pages are mapped whole, and dropping cached translations. */
import type { PagedTable } from '../engine/paged-table.js';
import type { Device } from '../machine/device.js';
import { DEV_ACCESS, DEV_LARGE, SPLIT_TAG_BASE } from '../machine/page-state.js';

/**
 * Sets DEV_LARGE on the device pages in the range whose 4 KiB entries are all equal and
 * valid, clears it on the others. The range's entries were just written (without DEV_LARGE).
 */
export function markWholeDevicePages(pte: PagedTable, firstPage: number, count: number, shift: number): void {
  const size = 1 << shift;
  const firstDv = Math.floor(firstPage / size);
  const endDv = Math.floor((firstPage + count - 1) / size) + 1;
  for (let dv = firstDv; dv < endDv; dv++) markWhole(pte, dv * size, size, firstPage, firstPage + count);
}

/**
 * Marks the device page at `first` whole (DEV_LARGE on every entry) when its entries are
 * all equal and valid, else clears DEV_LARGE. Invariant: a device page's entries all carry
 * DEV_LARGE or none do, except entries just rewritten, in [written, writtenEnd) when the
 * caller says which: then one entry outside them tells whether there is anything to
 * clear, which spares a scan of a 1 GiB device page's 262144 entries on every update.
 */
export function markWhole(pte: PagedTable, first: number, size: number, written = -1, writtenEnd = -1): void {
  const v = pte.get(first) & DEV_ACCESS;
  let uniform = v !== 0;
  for (let p = first + 1; p < first + size && uniform; p++) uniform = (pte.get(p) & DEV_ACCESS) === v;
  if (uniform) {
    pte.fill(v | DEV_LARGE, first, first + size);
    return;
  }
  if (written >= 0) {
    const probe = written > first ? first : writtenEnd < first + size ? writtenEnd : -1;
    if (probe < 0 || (pte.get(probe) & DEV_LARGE) === 0) return;
  }
  for (let p = first; p < first + size; p++) pte.set(p, pte.get(p) & DEV_ACCESS);
}

/**
 * Whether any 4 KiB entry of the device pages that overlap [first, first + count) is
 * valid. TLBs cache valid entries only, and every change away from a valid entry drops
 * them: when none was valid, the device caches nothing for those pages.
 */
export function anyValidDevicePage(pte: PagedTable, first: number, count: number, shift: number): boolean {
  const size = 1 << shift;
  const start = Math.floor(first / size) * size;
  const end = (Math.floor((first + count - 1) / size) + 1) * size;
  for (let p = start; p < end; p++) if ((pte.get(p) & DEV_ACCESS) !== 0) return true;
  return false;
}

/** Drops a device's cached translations (whole-page and 4 KiB tags) of [first, first + count). */
export function dropCachedTranslations(dev: Device, first: number, count: number): void {
  const shift = dev.pageShift;
  const size = 1 << shift;
  const firstDv = Math.floor(first / size);
  const dvCount = Math.floor((first + count - 1) / size) + 1 - firstDv;
  for (const tlb of dev.tlbs()) {
    tlb.invalidateRange(firstDv, dvCount);
    if (shift > 0) tlb.invalidateRange(SPLIT_TAG_BASE + firstDv * size, dvCount * size);
  }
}
