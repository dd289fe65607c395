/**
 * Host operations of scripted workloads: mmap, munmap, mprotect, madvise(MADV_DONTNEED),
 * mremap, fork, file I/O (read, write, msync, fsync), and the HMM test driver's commands
 * (migrate, exclusive, snapshot, release), pinning and peer-to-peer mapping, with Linux's
 * rules for ranges (mm/mmap.c, mm/mprotect.c, mm/madvise.c,
 * mm/mremap.c): an unaligned start is EINVAL, munmap of length 0 is EINVAL, mprotect and
 * madvise over a range with an unmapped page are ENOMEM, mremap of a range that is not
 * wholly mapped is EFAULT, and nothing changes when a call fails. Ranges of hugetlb regions
 * follow hugetlb's rules (hugetlb.ts).
 */
import { OpError, type Errno, type Outcome } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import { PAGE_BYTES, PROT_READ, type PageView } from '../machine/page-state.js';
import { TO_HOST, type HostOp } from '../workload/types.js';
import type { Driver } from './driver.js';
import { grantExclusive } from './exclusive.js';
import { hugetlbRange } from './hugetlb.js';
import { fileRead, fileWrite, fsync, msync } from './file-pages.js';
import { forkProcess } from './fork.js';
import { mapPeerRange } from './peer.js';
import { snapshotViews } from './page-view.js';
import { pinInDevice, pinInSystem, releaseDevice, releaseRange } from './pin.js';
import type { Strategy } from './strategies/types.js';

export function runHostOp(
  d: Driver,
  strategy: Strategy,
  op: HostOp,
  t: Ps,
  snapshot: (pages: PageView[]) => void,
): Outcome {
  const m = d.m;
  const space = m.space;
  if (op.op === 'fork') return forkProcess(d, t);
  if (op.op === 'release') {
    if (op.device >= d.devices.length) return noDevice('release', op.device, d);
    return releaseDevice(d, strategy, op.device, t);
  }
  if (op.op === 'file.write') return fileWrite(d, op.file, op.offset, op.bytes, t);
  if (op.op === 'file.read') return fileRead(d, op.file, op.offset, op.bytes, t);
  if (op.op === 'fsync') return fsync(d, op.file, t);
  const region = space.regions[op.region];
  const name = region.spec.name;
  switch (op.op) {
    case 'mmap': {
      if (region.mapped) return new OpError('EINVAL', `${name} is already mapped`);
      const hugetlb = region.spec.hugetlbPageBytes !== undefined ? d.hugetlb.reserve(region) : null;
      if (hugetlb !== null) return hugetlb;
      space.map(region);
      return strategy.onMap(d, region, t);
    }
    case 'mmap-fixed': {
      if (op.offset % PAGE_BYTES !== 0) return unaligned('mmap', name, op.offset);
      const [first, pages] = space.pageRange(region, op.offset, op.bytes);
      if (pages === 0) return new OpError('EINVAL', `mmap of ${name}+0x${op.offset.toString(16)} with length 0`);
      // MAP_FIXED replaces what is mapped there: those pages are unmapped first (with the notifier).
      let t0 = t;
      if (!space.noneMapped(first, pages)) {
        t0 = strategy.onUnmap(d, region, first, pages, t);
        space.unmap(region, first, pages);
        m.cpuTlb.invalidateRange(first, pages);
      }
      space.mapRange(region, first, pages);
      return t0;
    }
    case 'munmap': {
      if (op.offset % PAGE_BYTES !== 0) return unaligned('munmap', name, op.offset);
      if (op.bytes === 0) return new OpError('EINVAL', `munmap of ${name}+0x${op.offset.toString(16)} with length 0`);
      // Linux rounds the length up to whole pages and unmaps whatever is mapped in the range.
      const huge = isHugetlb(region) ? hugetlbRange(region, 'munmap', op.offset, op.bytes, 'aligned') : null;
      if (huge instanceof OpError) return huge;
      const [first, pages] = huge ?? space.pageRange(region, op.offset, op.bytes);
      if (pages === 0) return t;
      // The notifier runs before the pages go (mmu_notifier_invalidate_range_start).
      const done = strategy.onUnmap(d, region, first, pages, t);
      if (huge !== null) d.hugetlb.release(d, region, first, pages, true);
      space.unmap(region, first, pages);
      m.cpuTlb.invalidateRange(first, pages);
      return done;
    }
    case 'mprotect': {
      if (op.bytes === 0 && op.offset % PAGE_BYTES === 0) return t;
      const range = mappedRange(d, region, 'mprotect', op, 'ENOMEM');
      if (range instanceof OpError) return range;
      const huge = isHugetlb(region) ? hugetlbRange(region, 'mprotect', op.offset, op.bytes, 'aligned') : null;
      if (huge instanceof OpError) return huge;
      const [first, pages] = range;
      space.splitHuge(first, pages);
      space.protect(first, pages, op.prot);
      m.cpuTlb.invalidateRange(first, pages);
      return strategy.onProtect(d, region, first, pages, op.prot, t);
    }
    case 'madvise': {
      if (op.bytes === 0 && op.offset % PAGE_BYTES === 0) return t;
      const range = mappedRange(d, region, 'madvise', op, 'ENOMEM');
      if (range instanceof OpError) return range;
      const huge = isHugetlb(region) ? hugetlbRange(region, 'madvise', op.offset, op.bytes, 'down') : null;
      if (huge instanceof OpError) return huge;
      const [first, pages] = huge ?? range;
      if (pages === 0) return t;
      // MADV_DONTNEED zaps the range (zap_page_range_single): the notifier runs, the pages
      // and device frames are freed, the VMA stays; the next touch faults in a zero page
      // (in a hugetlb region, a new huge page from the pool, outside the reservations).
      space.splitHuge(first, pages);
      const done = strategy.onUnmap(d, region, first, pages, t);
      if (huge !== null) d.hugetlb.release(d, region, first, pages, false);
      space.zap(first, pages);
      m.cpuTlb.invalidateRange(first, pages);
      return done;
    }
    case 'mremap':
      return mremap(d, strategy, region, op, t);
    case 'msync': {
      if (op.offset % PAGE_BYTES !== 0) return unaligned('msync', name, op.offset);
      const [first, pages] = space.pageRange(region, op.offset, op.bytes);
      return msync(d, region, first, pages, t);
    }
    case 'migrate': {
      if (strategy.migrate === undefined) {
        return new OpError(
          'EINVAL',
          `strategy ${strategy.name} does not migrate pages; use hmm-migrate, gmem or coherent`,
        );
      }
      if (op.device !== TO_HOST && op.device >= d.devices.length) return noDevice('migrate', op.device, d);
      // The test driver looks the VMA up first: a hole or an unreadable VMA is EINVAL (migrate_mixed).
      const range = mappedRange(d, region, 'migrate', op, 'EINVAL');
      if (range instanceof OpError) return range;
      // migrate_vma_setup refuses a hugetlb VMA; a prefetch just leaves the pages where they are.
      if (isHugetlb(region)) {
        return op.prefetch
          ? t
          : new OpError('EINVAL', `migrate of ${name}: hugetlb pages cannot migrate (migrate_vma_setup)`);
      }
      const [first, pages] = range;
      for (let p = first; p < first + pages; p++) {
        if ((space.prot.get(p) & PROT_READ) === 0) {
          return new OpError('EINVAL', `migrate of ${d.describePage(p)}: the VMA is not readable`);
        }
      }
      space.splitHuge(first, pages);
      if (op.failHugeAlloc) space.splitFirstWholeHuge(first, pages);
      const moved = strategy.migrate(d, region, first, pages, op.device, t);
      return op.prefetch && moved instanceof OpError && moved.errno === 'ENOENT' ? t : moved;
    }
    case 'advise':
      if (strategy.advise === undefined) {
        return new OpError('EINVAL', `strategy ${strategy.name} takes no memory advice; use gmem`);
      }
      return strategy.advise(d, region, op.advice, t);
    case 'exclusive': {
      if (op.device >= d.devices.length) return noDevice('exclusive access', op.device, d);
      if (op.ifNoAtomics && linkHasAtomics(d, op.device)) return t;
      if (strategy.translation !== 'device-page-table' || strategy.name === 'explicit-copy') {
        return new OpError(
          'EINVAL',
          `exclusive access needs a device page table mirroring the CPU's; strategy ${strategy.name} has none`,
        );
      }
      const range = mappedRange(d, region, 'exclusive access', op, 'EFAULT');
      if (range instanceof OpError) return range;
      // folio_make_device_exclusive refuses hugetlb folios; the test driver reports EBUSY
      // (Linux 6.15 returns EOPNOTSUPP, which the model does not have).
      if (isHugetlb(region)) {
        return new OpError('EBUSY', `exclusive access to ${name}: hugetlb pages cannot be made device-exclusive`);
      }
      return grantExclusive(d, region, range[0], range[1], op.device, t);
    }
    case 'pin': {
      if (op.device >= d.devices.length) return noDevice('pin', op.device, d);
      const range = mappedRange(d, region, 'pin', op, 'EFAULT');
      if (range instanceof OpError) return range;
      const [first, pages] = range;
      // Pinning in device memory migrates the pages there, which migrate_vma_setup refuses for hugetlb.
      if (op.target === 'device' && isHugetlb(region)) {
        return new OpError(
          'EINVAL',
          `pin of ${name} to device memory: hugetlb pages cannot migrate (migrate_vma_setup)`,
        );
      }
      return op.target === 'host'
        ? pinInSystem(d, strategy, region, first, pages, t)
        : pinInDevice(d, strategy, region, first, pages, op.device, t);
    }
    case 'p2p.map': {
      if (op.device >= d.devices.length) return noDevice('p2p.map', op.device, d);
      if (strategy.translation !== 'device-page-table') {
        return new OpError(
          'EINVAL',
          `p2p.map writes device page tables; strategy ${strategy.name} has none (its devices translate through the IOMMU)`,
        );
      }
      const range = mappedRange(d, region, 'p2p.map', op, 'EFAULT');
      if (range instanceof OpError) return range;
      return mapPeerRange(d, region, range[0], range[1], op.device, t);
    }
    case 'snapshot': {
      if (op.device >= d.devices.length) return noDevice('snapshot', op.device, d);
      const [first, pages] = space.pageRange(region, op.offset, op.bytes);
      snapshot(snapshotViews(d, first, pages, op.device));
      return t;
    }
  }
}

/**
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of a range to a new region: the notifier runs for
 * the old range (move_page_tables), then every page moves with its entry, its flags and
 * its residency, device-private pages included (their data stays in device memory).
 */
function mremap(d: Driver, strategy: Strategy, region: Region, op: HostOp & { op: 'mremap' }, t: Ps): Outcome {
  const space = d.m.space;
  const name = region.spec.name;
  if (op.bytes === 0) return new OpError('EINVAL', `mremap of ${name}+0x${op.offset.toString(16)} with length 0`);
  const hp = region.spec.hugetlbPageBytes;
  if (hp !== undefined) {
    // mremap aligns a hugetlb range's length up to whole huge pages; its start must be
    // aligned, and the VMA has VM_DONTEXPAND, which MREMAP_DONTUNMAP refuses.
    if (op.offset % hp !== 0) return hugetlbRange(region, 'mremap', op.offset, op.bytes, 'down') as OpError;
    if (op.keepOld)
      return new OpError('EINVAL', `mremap of ${name} with MREMAP_DONTUNMAP: a hugetlb VMA cannot keep its old range`);
  }
  const range = mappedRange(d, region, 'mremap', { offset: op.offset, bytes: roundUp(op.bytes, hp ?? 1) }, 'EFAULT');
  if (range instanceof OpError) return range;
  const [first, pages] = range;
  const target = space.regions[op.to];
  if (target.mapped) return new OpError('EINVAL', `mremap of ${name} to ${target.spec.name}, which is already mapped`);
  let tt = t;
  if (strategy.framesByAddress) {
    const back = releaseRange(d, strategy, region, first, pages, -1, tt);
    if (typeof back !== 'number') return back;
    tt = back;
  }
  tt = d.notify(region, first, pages, tt + pages * d.timing.perPage);
  for (let i = 0; i < pages; i++) {
    const p = first + i;
    const q = target.basePage + i;
    for (const dev of d.devices) {
      const frame = d.residency.dropDeviceCopy(dev.index, p);
      if (frame >= 0) d.residency.addDeviceCopy(dev.index, q, frame);
    }
    d.residency.setInSystem(q, d.residency.inSystem(p));
    d.residency.setInSystem(p, true);
  }
  if (hp !== undefined) d.hugetlb.move(region, first, pages, target);
  space.moveRange(region, first, pages, target, op.keepOld);
  d.m.cpuTlb.invalidateRange(first, pages);
  tt = strategy.onMap(d, target, tt) as Ps;
  return tt;
}

/**
 * The pages [first, first + pages) of a call's range, or its error: EINVAL at a start
 * that is not 4 KiB aligned; `holes`, the call's own errno, when a page of the range is
 * not mapped (Linux rounds the length up to whole pages).
 */
function mappedRange(
  d: Driver,
  region: Region,
  call: string,
  range: { offset: number; bytes: number },
  holes: Errno,
): [number, number] | OpError {
  const name = region.spec.name;
  if (range.offset % PAGE_BYTES !== 0) return unaligned(call, name, range.offset);
  const [first, pages] = d.m.space.pageRange(region, range.offset, range.bytes);
  if (pages > 0 && d.m.space.allMapped(first, pages)) return [first, pages];
  const end = range.offset + Math.ceil(range.bytes / PAGE_BYTES) * PAGE_BYTES;
  return new OpError(
    holes,
    `${call} of ${name}+0x${range.offset.toString(16)}..+0x${end.toString(16)}, which has unmapped pages`,
  );
}

function isHugetlb(region: Region): boolean {
  return region.spec.hugetlbPageBytes !== undefined;
}

function roundUp(bytes: number, unit: number): number {
  return Math.ceil(bytes / unit) * unit;
}

function noDevice(call: string, device: number, d: Driver): OpError {
  return new OpError('EINVAL', `${call} on device ${device}: the hardware has ${d.devices.length}`);
}

function unaligned(call: string, name: string, offset: number): OpError {
  return new OpError('EINVAL', `${call} of ${name}+0x${offset.toString(16)}: the start is not 4 KiB aligned`);
}

/** Whether device `device`'s link carries its atomics to system memory: a coherent link, or PCIe with AtomicOps. */
function linkHasAtomics(d: Driver, device: number): boolean {
  const link = d.m.devices[device].config.link ?? d.m.config.link;
  return link.impl === 'coherent' || (link.impl === 'pcie' && link.atomicOps);
}
