/** Host operations of scripted workloads: mmap, munmap, mprotect and the HMM snapshot. */
import type { Ps } from '../engine/time.js';
import { CpuPte, PROT_MAPPED, PROT_READ, PROT_WRITE } from '../mm/page-state.js';
import type { PageView } from '../result/types.js';
import type { HostOp } from '../workload/types.js';
import type { Machine } from './machine.js';

export function runHostOp(m: Machine, op: HostOp, t: Ps, snapshot: (pages: PageView[]) => void): Ps {
  const region = m.space.regions[op.region];
  switch (op.op) {
    case 'mmap':
      if (region.mapped) {
        m.phaseError = `EINVAL: ${region.spec.name} is already mapped`;
        return t;
      }
      m.space.map(region);
      return m.strategy.onMap(m, region, t);
    case 'munmap': {
      const [first, pages] = m.space.pageRange(region, op.offset, op.bytes);
      // The notifier runs before the pages go (mmu_notifier_invalidate_range_start).
      const done = m.strategy.onUnmap(m, region, first, pages, t);
      m.space.unmap(region, first, pages);
      m.cpuTlb.invalidateRange(first, pages);
      return done;
    }
    case 'mprotect': {
      const [first, pages] = m.space.pageRange(region, op.offset, op.bytes);
      if (!region.mapped) {
        m.phaseError = `ENOMEM: mprotect of ${region.spec.name}, which is not mapped`;
        return t;
      }
      m.space.protect(first, pages, op.prot);
      m.cpuTlb.invalidateRange(first, pages);
      return m.strategy.onProtect(m, region, first, pages, op.prot, t);
    }
    case 'snapshot': {
      const [first, pages] = m.space.pageRange(region, op.offset, op.bytes);
      const views: PageView[] = [];
      for (let p = first; p < first + pages; p++) views.push(pageView(m, p));
      snapshot(views);
      return t;
    }
  }
}

/**
 * What hmm_range_fault without faulting reports for a page (the kernel selftests'
 * SNAPSHOT): an error for unmapped or PROT_NONE pages, the zero page, read or write.
 */
export function pageView(m: Machine, page: number): PageView {
  const prot = m.space.prot.data[page];
  if ((prot & PROT_MAPPED) === 0 || (prot & PROT_READ) === 0) return 'error';
  switch (m.space.cpuPte.data[page]) {
    case CpuPte.None:
      return 'none';
    case CpuPte.ReadOnly:
      return 'zero';
    case CpuPte.Present:
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
