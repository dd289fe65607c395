/**
 * Page migration between system memory and a device's memory, shared by the strategies
 * that move pages (hmm-migrate to device-private memory, coherent to device-coherent
 * memory): migrate_vma's collect, unmap with migration entries, copy, finalize, run by
 * run of consecutive pages. They differ in which pages may move and in the CPU entry a
 * page gets on the device (a device-private swap entry, or a present entry: a
 * device-coherent page is ordinary memory to the CPU).
 */
import { OpError, type Outcome } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import {
  CpuPte,
  DEV_LOCAL,
  DEV_READ,
  DEV_WRITE,
  PAGE_BYTES,
  PROT_MAPPED,
  PROT_READ,
  PROT_SHARED,
  PROT_WRITE,
} from '../../machine/page-state.js';
import type { DriverContext } from '../driver.js';

export interface PageMover {
  /** Whether the page lives in `device`'s memory, to be moved back by migrateToHost. */
  onDevice(d: DriverContext, device: number, page: number): boolean;
  /** The CPU entry of a page once it lives on a device. */
  readonly deviceEntry: CpuPte;
  /** Scratch: the frames of one run being collected, and PTE bits of a run being mapped (their length bounds a run). */
  readonly frames: Int32Array;
  readonly bits: Uint8Array;
}

/** A PageMover's scratch for runs of up to `pages` pages. */
export function moverScratch(pages: number): { frames: Int32Array; bits: Uint8Array } {
  return { frames: new Int32Array(pages), bits: new Uint8Array(pages) };
}

/**
 * Whether migrate_vma would collect the page for a device: private anonymous memory the
 * VMA lets the device read, in system memory (MAP_SHARED memory is skipped; the HMM
 * selftests expect ENOENT for it).
 */
export function movable(d: DriverContext, page: number): boolean {
  const prot = d.prot(page);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ) || (prot & PROT_SHARED) !== 0) return false;
  const pte = d.cpuPte(page);
  return (pte === CpuPte.None || pte === CpuPte.Present || pte === CpuPte.ReadOnly) && d.residency.inSystem(page);
}

/**
 * Migrates the movable pages of [first, end) to `device` from `t`, while frames last:
 * returns when they are in device memory.
 */
export function migrateToDevice(
  d: DriverContext,
  mover: PageMover,
  device: number,
  region: Region,
  first: number,
  end: number,
  t: Ps,
): Ps {
  const frames = mover.frames;
  const perPage = d.timing.perPage;
  let tt = t;
  let moved = 0;
  let copied = 0;
  let p = first;
  while (p < end) {
    // One run of consecutive movable pages at a time: notify, unmap, copy, finalize.
    if (!movable(d, p)) {
      p++;
      continue;
    }
    // Collect: a frame for each page of the run while there is room. Only pages that will
    // move are unmapped, so a mirror of one that cannot stays valid.
    let runEnd = p;
    let full = false;
    while (runEnd < end && runEnd - p < frames.length && movable(d, runEnd)) {
      const frame = d.allocFrame(device, tt);
      if (frame < 0) {
        full = true;
        break;
      }
      frames[runEnd - p] = frame;
      runEnd++;
    }
    if (runEnd === p) break;
    tt = d.notify(region, p, runEnd - p, tt + (runEnd - p) * perPage);
    let copyFrom = -1;
    for (let q = p; q < runEnd; q++) {
      // A page never touched, or the shared zero page, needs no copy: the new page starts zeroed.
      const hasData = d.cpuPte(q) === CpuPte.Present;
      d.setCpuPte(q, CpuPte.Migration);
      d.residency.addDeviceCopy(device, q, frames[q - p]);
      if (hasData) copied++;
      if (hasData && copyFrom < 0) copyFrom = q;
      if (!hasData && copyFrom >= 0) {
        tt = copyPages(d, device, true, region, copyFrom, q, tt);
        copyFrom = -1;
      }
    }
    if (copyFrom >= 0) tt = copyPages(d, device, true, region, copyFrom, runEnd, tt);
    for (let q = p; q < runEnd; q++) {
      d.setCpuPte(q, mover.deviceEntry);
      d.residency.setInSystem(q, false);
    }
    tt += (runEnd - p) * perPage;
    moved += runEnd - p;
    if (full) break;
    p = runEnd;
  }
  d.countMigration(device, true, moved, copied * PAGE_BYTES);
  return tt;
}

/** Migrates `device`'s pages in [first, end) back to system memory: returns when the data is there. */
export function migrateToHost(
  d: DriverContext,
  mover: PageMover,
  device: number,
  region: Region,
  first: number,
  end: number,
  t: Ps,
): Ps {
  let tt = t;
  let moved = 0;
  let p = first;
  while (p < end) {
    if (!mover.onDevice(d, device, p)) {
      p++;
      continue;
    }
    let runEnd = p;
    while (runEnd < end && mover.onDevice(d, device, runEnd)) runEnd++;
    const pages = runEnd - p;
    tt = d.notify(region, p, pages, tt + pages * d.timing.perPage);
    for (let q = p; q < runEnd; q++) d.setCpuPte(q, CpuPte.Migration);
    tt = copyPages(d, device, false, region, p, runEnd, tt);
    for (let q = p; q < runEnd; q++) {
      d.freeFrame(device, d.residency.dropDeviceCopy(device, q), tt);
      d.residency.setInSystem(q, true);
      d.setCpuPte(q, CpuPte.Present);
    }
    tt += pages * d.timing.perPage;
    moved += pages;
    p = runEnd;
  }
  d.countMigration(device, false, moved, moved * PAGE_BYTES);
  return tt;
}

/** A migrate op to system memory: every device's pages of [first, end) come back; returns when done. */
export function migrateAllToHost(
  d: DriverContext,
  mover: PageMover,
  region: Region,
  first: number,
  end: number,
  t: Ps,
): Ps {
  let done = t;
  for (const dev of d.devices) done = migrateToHost(d, mover, dev.index, region, first, end, done);
  return done;
}

/** The device-PTE bits of a page that lives in the device's memory. */
export function localBits(d: DriverContext, page: number): number {
  return DEV_LOCAL | DEV_READ | ((d.prot(page) & PROT_WRITE) !== 0 ? DEV_WRITE : 0);
}

/** Maps the pages of [first, end) that live in `device`'s memory on it, run by run; leaves the others alone. */
export function mapLocalRuns(
  d: DriverContext,
  mover: PageMover,
  device: number,
  first: number,
  end: number,
  t: Ps,
): { t: Ps; local: number } {
  const bits = mover.bits;
  let tt = t;
  let local = 0;
  for (let p = first; p < end;) {
    if (!mover.onDevice(d, device, p)) {
      p++;
      continue;
    }
    let q = p;
    while (q < end && q - p < bits.length && mover.onDevice(d, device, q)) {
      bits[q - p] = localBits(d, q);
      q++;
    }
    tt = d.writeDevicePtes(device, p, bits, q - p, tt);
    local += q - p;
    p = q;
  }
  return { t: tt, local };
}

/**
 * A migrate op (the HMM test driver's MIGRATE): migrate_vma over the range to `device`,
 * then map what is there; or, with TO_HOST, every device's pages back to system memory.
 */
export function migrateOp(
  d: DriverContext,
  mover: PageMover,
  region: Region,
  firstPage: number,
  pages: number,
  device: number,
  t: Ps,
): Outcome {
  const end = firstPage + pages;
  if (device < 0) return migrateAllToHost(d, mover, region, firstPage, end, t);
  const moved = mapLocalRuns(
    d,
    mover,
    device,
    firstPage,
    end,
    migrateToDevice(d, mover, device, region, firstPage, end, t),
  );
  if (moved.local > 0) return moved.t;
  let shared = false;
  for (let p = firstPage; p < end && !shared; p++) shared = (d.prot(p) & PROT_SHARED) !== 0;
  return shared
    ? new OpError('ENOENT', `migrate of ${region.spec.name}: MAP_SHARED memory cannot migrate`)
    : new OpError(
        'ENOMEM',
        `migrate of ${region.spec.name}: no page could move (device memory full, or no page movable)`,
      );
}

/** Frees the device frames of pages [first, first + pages) being unmapped; their data was in device memory only. */
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
function copyPages(
  d: DriverContext,
  device: number,
  toDevice: boolean,
  region: Region,
  first: number,
  end: number,
  t: Ps,
) {
  return d.copy(device, toDevice, region, (first - region.basePage) * PAGE_BYTES, (end - first) * PAGE_BYTES, t);
}
