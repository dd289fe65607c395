/**
 * Host operations of scripted workloads: mmap, munmap, mprotect and the HMM snapshot,
 * with Linux's rules for ranges (mm/mmap.c, mm/mprotect.c): an unaligned start is EINVAL,
 * munmap of length 0 is EINVAL, mprotect over a range with an unmapped page is ENOMEM,
 * and nothing changes when a call fails.
 */
import { OpError, type Outcome } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import { CpuPte, PAGE_BYTES, PROT_MAPPED, PROT_READ, PROT_WRITE, type PageView } from '../machine/page-state.js';
import { TO_HOST, type HostOp } from '../workload/types.js';
import type { Driver } from './driver.js';
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
  const region = space.regions[op.region];
  const name = region.spec.name;
  switch (op.op) {
    case 'mmap':
      if (region.mapped) return new OpError('EINVAL', `${name} is already mapped`);
      space.map(region);
      return strategy.onMap(d, region, t);
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
      const [first, pages] = space.pageRange(region, op.offset, op.bytes);
      if (pages === 0) return t;
      // The notifier runs before the pages go (mmu_notifier_invalidate_range_start).
      const done = strategy.onUnmap(d, region, first, pages, t);
      space.unmap(region, first, pages);
      m.cpuTlb.invalidateRange(first, pages);
      return done;
    }
    case 'mprotect': {
      if (op.offset % PAGE_BYTES !== 0) return unaligned('mprotect', name, op.offset);
      if (op.bytes === 0) return t;
      const first = region.basePage + op.offset / PAGE_BYTES;
      const pages = Math.ceil(op.bytes / PAGE_BYTES);
      if (first + pages > region.basePage + region.pages || !space.allMapped(first, pages)) {
        return new OpError(
          'ENOMEM',
          `mprotect of ${name}+0x${op.offset.toString(16)}..+0x${(op.offset + pages * PAGE_BYTES).toString(16)}, which has unmapped pages`,
        );
      }
      space.protect(first, pages, op.prot);
      m.cpuTlb.invalidateRange(first, pages);
      return strategy.onProtect(d, region, first, pages, op.prot, t);
    }
    case 'migrate': {
      if (op.offset % PAGE_BYTES !== 0) return unaligned('migrate', name, op.offset);
      if (strategy.migrate === undefined) {
        return new OpError(
          'EINVAL',
          `strategy ${strategy.name} does not migrate pages; use hmm-migrate, gmem or coherent`,
        );
      }
      if (op.device !== TO_HOST && op.device >= d.devices.length) {
        return new OpError('EINVAL', `migrate of ${name} to device ${op.device}: the hardware has ${d.devices.length}`);
      }
      const [first, pages] = space.pageRange(region, op.offset, op.bytes);
      if (pages === 0 || !space.allMapped(first, pages)) {
        return new OpError('EFAULT', `migrate of ${name}+0x${op.offset.toString(16)}: the range has unmapped pages`);
      }
      return strategy.migrate(d, region, first, pages, op.device, t);
    }
    case 'advise':
      if (strategy.advise === undefined) {
        return new OpError('EINVAL', `strategy ${strategy.name} takes no memory advice; use gmem`);
      }
      return strategy.advise(d, region, op.advice, t);
    case 'snapshot': {
      const [first, pages] = space.pageRange(region, op.offset, op.bytes);
      const views: PageView[] = [];
      for (let p = first; p < first + pages; p++) views.push(pageView(d, p));
      snapshot(views);
      return t;
    }
  }
}

function unaligned(call: string, name: string, offset: number): OpError {
  return new OpError('EINVAL', `${call} of ${name}+0x${offset.toString(16)}: the start is not 4 KiB aligned`);
}

/**
 * What hmm_range_fault without faulting reports for a page (the kernel selftests'
 * SNAPSHOT): an error for unmapped or PROT_NONE pages, the zero page, read or write, or
 * where the data lives when it is in device memory.
 */
export function pageView(d: Driver, page: number): PageView {
  const prot = d.prot(page);
  if ((prot & PROT_MAPPED) === 0 || (prot & PROT_READ) === 0) return 'error';
  switch (d.cpuPte(page)) {
    case CpuPte.None:
      return 'none';
    case CpuPte.ReadOnly:
      return 'zero';
    case CpuPte.Present:
      if (!d.residency.inSystem(page)) return 'device-coherent';
      return prot & PROT_WRITE ? 'write' : 'read';
    case CpuPte.DevicePrivate:
      return 'device-private';
    case CpuPte.DeviceExclusive:
      return 'device-exclusive';
    case CpuPte.Pinned:
      return 'pinned';
    default:
      return 'none';
  }
}
