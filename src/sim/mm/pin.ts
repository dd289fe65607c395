/**
 * Pinning, and the test driver's release of a device's memory.
 *
 * - Long-term pin in system memory (pin_user_pages with FOLL_LONGTERM, the gup_test
 *   module the HMM selftests use): each page is faulted in (writable where the VMA allows
 *   it); a device-private page is not long-term pinnable, so it migrates back first, and
 *   so does a device-coherent one (folio_is_longterm_pinnable() is false for device
 *   memory; check_and_migrate_movable_pages). A pinned page never migrates to a device, and
 *   fork copies it for the child at once.
 * - Pin in device memory: the range migrates to the device and stays there; the device
 *   keeps using it, and a CPU touch cannot bring it back: SIGBUS, reported as the op's
 *   error. Releasing the device's memory unpins it.
 * - Release (lib/test_hmm.c's HMM_DMIRROR_RELEASE, dmirror_device_evict_chunk): every
 *   device-private or device-coherent page of the device migrates back to system memory,
 *   pinned or not.
 */
import { OpError, errnoOf, type Outcome } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import {
  CpuPte,
  PAGE_PINNED_DEVICE,
  PAGE_PINNED_HOST,
  PROT_FILE,
  PROT_SHARED,
  PROT_WRITE,
} from '../machine/page-state.js';
import { afterMigrateBack } from './cpu-fault.js';
import type { Driver } from './driver.js';
import { TO_HOST, type Strategy } from './strategies/types.js';

/**
 * Device-coherent: present to the CPU (a present or write-protected entry) with its data
 * only in a device's memory on a coherent link, as the coherent strategy leaves a page it
 * migrated. No other strategy leaves a present page out of system memory.
 */
export function isDeviceCoherent(d: Driver, page: number): boolean {
  const entry = d.m.space.cpuPte.get(page);
  return (entry === CpuPte.Present || entry === CpuPte.ReadOnly) && !d.residency.inSystem(page);
}

/**
 * Migrates the device-coherent pages of [first, first + pages) (on `device`, or on any
 * device when -1) back to system memory through the strategy, run by run.
 */
function coherentToHost(
  d: Driver,
  strategy: Strategy,
  region: Region,
  first: number,
  pages: number,
  device: number,
  t: Ps,
): Outcome {
  const selected = (p: number) => isDeviceCoherent(d, p) && (device < 0 || d.residency.frame(device, p) >= 0);
  let tt = t;
  for (let p = first; p < first + pages; p++) {
    if (!selected(p) || strategy.migrate === undefined) continue;
    let end = p + 1;
    while (end < first + pages && selected(end)) end++;
    const back = strategy.migrate(d, region, p, end - p, TO_HOST, tt);
    if (typeof back !== 'number') return back;
    tt = back;
    p = end - 1;
  }
  return tt;
}

/** Long-term pins pages [first, first + pages) in system memory. */
export function pinInSystem(
  d: Driver,
  strategy: Strategy,
  region: Region,
  first: number,
  pages: number,
  t: Ps,
): Outcome {
  const space = d.m.space;
  // check_vma_flags -> writable_file_mapping_allowed: no long-term writable pin of a
  // MAP_SHARED file mapping, whose pages need dirty tracking.
  const sharedFile = PROT_FILE | PROT_SHARED | PROT_WRITE;
  for (let p = first; p < first + pages; p++) {
    if ((space.prot.get(p) & sharedFile) === sharedFile) {
      return new OpError(
        'EFAULT',
        `long-term pin of ${d.describePage(p)}: a writable MAP_SHARED file mapping (FOLL_LONGTERM writes to pages that need dirty tracking are refused)`,
      );
    }
  }
  const back = coherentToHost(d, strategy, region, first, pages, -1, t);
  if (typeof back !== 'number') return back;
  let tt = back;
  for (let p = first; p < first + pages; p++) {
    const done = d.faultInPage(region, p, (space.prot.get(p) & PROT_WRITE) !== 0, tt);
    if (done < 0) return new OpError(errnoOf(done), `long-term pin of ${d.describePage(p)}`);
    tt = done;
  }
  for (let p = first; p < first + pages; p++) {
    if ((space.flags.get(p) & PAGE_PINNED_HOST) === 0) d.m.counters.longtermPins++;
    space.flags.set(p, space.flags.get(p) | PAGE_PINNED_HOST);
  }
  return tt + pages * d.timing.perPage;
}

/** Migrates pages [first, first + pages) to `device` and pins them there. */
export function pinInDevice(
  d: Driver,
  strategy: Strategy,
  region: Region,
  first: number,
  pages: number,
  device: number,
  t: Ps,
): Outcome {
  if (strategy.migrate === undefined) {
    return new OpError(
      'EINVAL',
      `pin of ${region.spec.name} to device memory: strategy ${strategy.name} does not migrate pages`,
    );
  }
  const moved = strategy.migrate(d, region, first, pages, device, t);
  if (typeof moved !== 'number') return moved;
  const space = d.m.space;
  let left = 0;
  for (let p = first; p < first + pages; p++) {
    // A device-private page, or a device-coherent one (present to the CPU, its data on the device only).
    const pte = space.cpuPte.get(p);
    const onDevice = pte === CpuPte.DevicePrivate || (pte !== CpuPte.None && !d.residency.inSystem(p));
    if (!onDevice || d.residency.frame(device, p) < 0) {
      left++;
      continue;
    }
    if ((space.flags.get(p) & PAGE_PINNED_DEVICE) === 0) d.m.counters.devicePins++;
    space.flags.set(p, space.flags.get(p) | PAGE_PINNED_DEVICE);
  }
  if (left > 0) {
    return new OpError(
      'EBUSY',
      `pin of ${region.spec.name} to device ${device}: ${left} of ${pages} pages could not move to its memory and are not pinned`,
    );
  }
  return moved;
}

/** Migrates every device-private or device-coherent page of `device` back to system memory, unpinning it. */
export function releaseDevice(d: Driver, strategy: Strategy, device: number, t: Ps): Outcome {
  let tt = t;
  for (const region of d.m.space.regions) {
    if (!region.mapped) continue;
    const back = releaseRange(d, strategy, region, region.basePage, region.pages, device, tt);
    if (typeof back !== 'number') return back;
    tt = back;
  }
  return tt;
}

/**
 * Migrates the device-private and device-coherent pages of [first, first + pages) on
 * `device` (-1: on any device) back to system memory, unpinning them.
 */
export function releaseRange(
  d: Driver,
  strategy: Strategy,
  region: Region,
  first: number,
  pages: number,
  device: number,
  t: Ps,
): Outcome {
  const space = d.m.space;
  let tt = t;
  for (let p = first; p < first + pages; p++) {
    if (space.cpuPte.get(p) !== CpuPte.DevicePrivate) continue;
    if (device >= 0 && d.residency.frame(device, p) < 0) continue;
    space.flags.set(p, space.flags.get(p) & ~PAGE_PINNED_DEVICE);
    const back = strategy.onSpecialCpuFault(d, region, p, false, tt);
    if (back < 0) return new OpError(errnoOf(back), `${d.describePage(p)} could not come back from device memory`);
    afterMigrateBack(d, p);
    tt = back;
  }
  return coherentToHost(d, strategy, region, first, pages, device, tt);
}
