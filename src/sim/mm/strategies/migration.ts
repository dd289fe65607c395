/**
 * migrate_vma and migrate_to_ram over a range, run by run, shared by the strategies that
 * move anonymous pages into device memory (hmm-migrate, gmem, coherent). Which pages may
 * move, which frame each takes and the CPU entry a page gets on the device (a
 * device-private swap entry, or a present entry for device-coherent memory) are the
 * strategy's: it passes them in.
 */
import { OpError } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import {
  CpuPte,
  PAGE_BYTES,
  PAGE_PINNED_HOST,
  PROT_FILE,
  PROT_MAPPED,
  PROT_HUGETLB,
  PROT_READ,
  PROT_SHARED,
  mapsPageCache,
} from '../../machine/page-state.js';
import type { DriverContext } from '../driver.js';
import { pagePermission } from './hmm-mirror.js';

/** Pages moved and the time the move ended. */
export interface Moved {
  t: Ps;
  pages: number;
}

/** Most pages one run may collect (a 2 MiB VA block). */
const MAX_RUN_PAGES = 512;
const runFrames = new Int32Array(MAX_RUN_PAGES);
/** Whether the last collectRun stopped because device memory was full. */
let runFull = false;

/**
 * Collects the run of pages from `first` (before `end`, at most `maxRun`) that `take`
 * accepts, a device frame each from `frameFor` into runFrames; returns where the run
 * ends, with runFull set when it ended for want of a frame.
 */
function collectRun(
  first: number,
  end: number,
  maxRun: number,
  take: (page: number) => boolean,
  frameFor: (page: number, t: Ps) => number,
  t: Ps,
): number {
  runFull = false;
  let runEnd = first;
  while (runEnd < end && runEnd - first < maxRun && take(runEnd)) {
    const frame = frameFor(runEnd, t);
    if (frame < 0) {
      runFull = true;
      break;
    }
    runFrames[runEnd - first] = frame;
    runEnd++;
  }
  return runEnd;
}

/**
 * migrate_vma of [first, end) to `device` from `t`, one run of at most `runPages`
 * consecutive movable pages at a time: collect (a frame for each page from `frameFor` at the run's time, -1 when there is no room,
 * which ends the migration), notify (only pages that will move are unmapped, so a mirror
 * of one that cannot stays valid), unmap to migration entries, copy the pages that hold
 * data (an untouched or zero page needs no copy: the device page starts zeroed), finalize
 * (`entry`, device-private by default, and the data on the device only).
 */
export function migrateToDevice(
  d: DriverContext,
  device: number,
  region: Region,
  first: number,
  end: number,
  movable: (page: number) => boolean,
  frameFor: (page: number, t: Ps) => number,
  runPages: number,
  t: Ps,
  entry: CpuPte = CpuPte.DevicePrivate,
): Moved {
  const maxRun = Math.min(runPages, MAX_RUN_PAGES);
  const timing = d.timing;
  let tt = t;
  let moved = 0;
  let copied = 0;
  let p = first;
  // A page pinned long-term holds an extra reference: migrate_vma cannot move it.
  const canMove = (q: number) => movable(q) && (d.pageFlags(q) & PAGE_PINNED_HOST) === 0;
  while (p < end) {
    if (!canMove(p)) {
      p++;
      continue;
    }
    const runEnd = collectRun(p, end, maxRun, canMove, frameFor, tt);
    const full = runFull;
    if (runEnd === p) break;
    tt = d.notify(region, p, runEnd - p, tt + (runEnd - p) * timing.perPage);
    let copyFrom = -1;
    for (let q = p; q < runEnd; q++) {
      const hasData = d.cpuPte(q) === CpuPte.Present;
      d.setCpuPte(q, CpuPte.Migration);
      d.residency.addDeviceCopy(device, q, runFrames[q - p]);
      if (hasData) copied++;
      if (hasData && copyFrom < 0) copyFrom = q;
      if (!hasData && copyFrom >= 0) {
        tt = copyPages(d, device, true, region, copyFrom, q, tt);
        copyFrom = -1;
      }
    }
    if (copyFrom >= 0) tt = copyPages(d, device, true, region, copyFrom, runEnd, tt);
    for (let q = p; q < runEnd; q++) {
      d.setCpuPte(q, entry);
      d.residency.setInSystem(q, false);
    }
    tt += (runEnd - p) * timing.perPage;
    moved += runEnd - p;
    if (full) break;
    p = runEnd;
  }
  d.countMigration(device, true, moved, copied * PAGE_BYTES);
  return { t: tt, pages: moved };
}

/**
 * migrate_to_ram of `device`'s pages in [first, end) that `onDevice` selects, run by run:
 * notify, migration entries, copy back, present entries; `release` gets each page's
 * frame once the data is back.
 */
export function migrateToHost(
  d: DriverContext,
  device: number,
  region: Region,
  first: number,
  end: number,
  onDevice: (page: number) => boolean,
  release: (page: number, frame: number, t: Ps) => void,
  t: Ps,
): Moved {
  let tt = t;
  let moved = 0;
  let p = first;
  while (p < end) {
    if (!onDevice(p)) {
      p++;
      continue;
    }
    let runEnd = p;
    while (runEnd < end && onDevice(runEnd)) runEnd++;
    const pages = runEnd - p;
    tt = d.notify(region, p, pages, tt + pages * d.timing.perPage);
    for (let q = p; q < runEnd; q++) d.setCpuPte(q, CpuPte.Migration);
    tt = copyPages(d, device, false, region, p, runEnd, tt);
    for (let q = p; q < runEnd; q++) {
      release(q, d.residency.dropDeviceCopy(device, q), tt);
      d.residency.setInSystem(q, true);
      d.setCpuPte(q, CpuPte.Present);
    }
    tt += pages * d.timing.perPage;
    moved += pages;
    p = runEnd;
  }
  d.countMigration(device, false, moved);
  return { t: tt, pages: moved };
}

/**
 * Whether migrate_vma would move the page to a device: a private anonymous page the VMA
 * lets the device read, in system memory. MAP_SHARED memory is skipped (the HMM selftests
 * expect ENOENT for it), and so is every page-cache page of a file mapping: a MAP_PRIVATE
 * file page moves only once a write has copied it into an anonymous page
 * (__migrate_device_pages: "only support anonymous memory migrating to device private or
 * coherent memory"; migrate_vma_collect_hole skips the holes of a file VMA). Nor does a
 * hugetlb page (migrate_vma_setup refuses a hugetlb VMA): it stays in system memory.
 */
export function movable(d: DriverContext, page: number): boolean {
  const prot = d.prot(page);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ) || (prot & (PROT_SHARED | PROT_HUGETLB)) !== 0)
    return false;
  const pte = d.cpuPte(page);
  if ((prot & PROT_FILE) !== 0 && mapsPageCache(prot, pte, d.pageFlags(page))) return false;
  return (pte === CpuPte.None || pte === CpuPte.Present || pte === CpuPte.ReadOnly) && d.residency.inSystem(page);
}

/**
 * Moves the pages of [first, end) that `onSource` selects, which live in device `from`'s
 * memory only, to `device` directly, run by run, as the NVIDIA UVM driver does between
 * GPUs with peer access (uvm_va_block_make_resident -> block_copy_resident_pages_between,
 * the source's copy engines pushing the data: block_copy_begin_push): notify (the peer
 * mappings of the pages and `from`'s own PTEs go while `from`'s memory still holds them),
 * migration entries, the copy across the peer route (the caller checks that it exists),
 * then `from`'s frames go (`release`) and the pages are on `device` only, device-private.
 * `frameFor` as migrateToDevice's (-1 ends the move). Counted as a migration to `device`.
 */
export function migrateBetweenDevices(
  d: DriverContext,
  from: number,
  device: number,
  region: Region,
  first: number,
  end: number,
  onSource: (page: number) => boolean,
  frameFor: (page: number, t: Ps) => number,
  release: (page: number, frame: number, t: Ps) => void,
  t: Ps,
): Moved {
  let tt = t;
  let moved = 0;
  let p = first;
  while (p < end) {
    if (!onSource(p)) {
      p++;
      continue;
    }
    const runEnd = collectRun(p, end, MAX_RUN_PAGES, onSource, frameFor, tt);
    const full = runFull;
    if (runEnd === p) break;
    const pages = runEnd - p;
    tt = d.notify(region, p, pages, tt + pages * d.timing.perPage);
    for (let q = p; q < runEnd; q++) {
      d.setCpuPte(q, CpuPte.Migration);
      d.residency.addDeviceCopy(device, q, runFrames[q - p]);
    }
    tt = d.copyToPeer(from, device, region, (p - region.basePage) * PAGE_BYTES, pages * PAGE_BYTES, tt);
    for (let q = p; q < runEnd; q++) {
      release(q, d.residency.dropDeviceCopy(from, q), tt);
      d.setCpuPte(q, CpuPte.DevicePrivate);
    }
    tt += pages * d.timing.perPage;
    moved += pages;
    if (full) break;
    p = runEnd;
  }
  d.countMigration(device, true, moved);
  return { t: tt, pages: moved };
}

/**
 * Why a migrate op of [first, end) moved nothing: ENOMEM when movable pages found no room
 * in device memory; ENOENT when migrate_vma could collect no page (MAP_SHARED memory, as
 * migrate_shared expects; pages on another device, as migrate_mixed expects; pages pinned
 * long-term).
 */
export function nothingMoved(d: DriverContext, region: Region, first: number, end: number): OpError {
  let anyMovable = false;
  for (let p = first; p < end && !anyMovable; p++)
    anyMovable = movable(d, p) && (d.pageFlags(p) & PAGE_PINNED_HOST) === 0;
  if (anyMovable) return new OpError('ENOMEM', `migrate of ${region.spec.name}: no room in device memory`);
  let shared = false;
  let pageCache = false;
  for (let p = first; p < end && !shared; p++) {
    shared = (d.prot(p) & PROT_SHARED) !== 0;
    pageCache ||= mapsPageCache(d.prot(p), d.cpuPte(p), d.pageFlags(p));
  }
  if ((d.prot(first) & PROT_HUGETLB) !== 0)
    return new OpError('ENOENT', `migrate of ${region.spec.name}: hugetlb pages cannot migrate`);
  return new OpError(
    'ENOENT',
    shared
      ? `migrate of ${region.spec.name}: MAP_SHARED memory cannot migrate`
      : pageCache
        ? `migrate of ${region.spec.name}: page-cache pages of a file mapping cannot migrate (a MAP_PRIVATE page moves once a write has copied it)`
        : `migrate of ${region.spec.name}: no page can move (on another device, or pinned)`,
  );
}

/** Frees the device frames of pages [first, first + pages) being unmapped (their data was in device memory only). */
export function freeDevicePages(d: DriverContext, first: number, pages: number, t: Ps): void {
  for (let p = first; p < first + pages; p++) {
    for (const dev of d.devices) {
      const frame = d.residency.dropDeviceCopy(dev.index, p);
      if (frame >= 0) d.freeFrame(dev.index, frame, t);
    }
    d.residency.setInSystem(p, true);
  }
}

/** Copies pages [first, end) of `region` between system memory and `device`'s frames. */
export function copyPages(
  d: DriverContext,
  device: number,
  toDevice: boolean,
  region: Region,
  first: number,
  end: number,
  t: Ps,
): Ps {
  return d.copy(device, toDevice, region, (first - region.basePage) * PAGE_BYTES, (end - first) * PAGE_BYTES, t);
}

/** Maps page `p` over the link as hmm-mirror does: faults it in, DMA-maps it; returns its bits (0: not mappable) and the time. */
export function mapOverLink(
  d: DriverContext,
  region: Region,
  p: number,
  write: boolean,
  t: Ps,
): { bits: number; t: Ps } {
  const done = d.faultInPage(region, p, write, t);
  if (done < 0) return { bits: 0, t };
  const bits = pagePermission(d, p);
  return { bits, t: bits !== 0 ? d.dmaMap(p, 1, done) : done };
}

const runBits = new Uint8Array(MAX_RUN_PAGES);

/**
 * Maps the pages of [first, end) that `isLocal` selects on `device` with the bits `bitsOf`
 * gives, in runs of at most `runPages` (one PTE write each); leaves the others alone.
 */
export function mapLocalRuns(
  d: DriverContext,
  device: number,
  first: number,
  end: number,
  runPages: number,
  isLocal: (page: number) => boolean,
  bitsOf: (page: number) => number,
  t: Ps,
): { t: Ps; local: number } {
  const maxRun = Math.min(runPages, MAX_RUN_PAGES);
  let tt = t;
  let local = 0;
  for (let p = first; p < end;) {
    if (!isLocal(p)) {
      p++;
      continue;
    }
    let q = p;
    while (q < end && q - p < maxRun && isLocal(q)) {
      runBits[q - p] = bitsOf(q);
      q++;
    }
    tt = d.writeDevicePtes(device, p, runBits, q - p, tt);
    local += q - p;
    p = q;
  }
  return { t: tt, local };
}
