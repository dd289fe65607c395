/**
 * hmm-mirror: the device page table mirrors the CPU's. A device fault runs
 * hmm_range_fault over the device page (faulting CPU pages in as needed), DMA-maps the
 * pages and writes the device PTE; the data stays in system memory and every device
 * access crosses the link. An MMU interval notifier per region invalidates the device's
 * view whenever the CPU page table changes (munmap, mprotect, copy-on-write).
 */
import type { z } from 'zod';
import { faultInPage, ERR_EFAULT, ERR_EPERM } from '../../machine/cpu-mm.js';
import { notifierInvalidate } from '../../machine/invalidate.js';
import type { Machine } from '../../machine/machine.js';
import { CpuPte, DEV_READ, DEV_WRITE, PROT_WRITE } from '../page-state.js';
import type { hmmMirrorSchema } from './schema.js';
import type { Strategy } from './types.js';

export function createHmmMirror(_config: z.output<typeof hmmMirrorSchema>): Strategy {
  return {
    name: 'hmm-mirror',
    onMap: (_m, _region, t) => t,
    onUnmap: (m, region, firstPage, pages, t) => notifierInvalidate(m, region, firstPage, pages, t),
    // change_protection() notifies for any protection change (MMU_NOTIFY_PROTECTION_VMA).
    onProtect: (m, region, firstPage, pages, _prot, t) => notifierInvalidate(m, region, firstPage, pages, t),
    beforePhase: (_m, _phase, t) => t,
    afterPhase: (_m, _phase, t) => t,
    resolveDeviceFault: resolveMirrorFault,
    onCpuPteChange: (m, region, page, t) => notifierInvalidate(m, region, page, 1, t),
  };
}

/**
 * hmm_range_fault over the 4 KiB pages of one device page (clipped to the region). The
 * device page gets the permission all its pages allow. Simplification: if some other
 * page in a large device page forbids the access the faulting page allows (a partial
 * mprotect inside one device page), the device page takes the faulting page's
 * permission.
 */
const resolveMirrorFault: Strategy['resolveDeviceFault'] = (m, region, devicePage, accessedPage, write, t) => {
  const first = Math.max(devicePage << m.devPageShift, region.basePage);
  const end = Math.min((devicePage + 1) << m.devPageShift, region.basePage + region.pages);
  let tt = t + m.t.perFault;
  const own = faultInPage(m, region, accessedPage, write, tt, true);
  if (own === ERR_EFAULT || own === ERR_EPERM)
    return { error: own === ERR_EFAULT ? 'EFAULT' : 'EPERM', pte: 0, costPs: tt - t };
  tt = own;

  const seqBefore = region.seq;
  let pte = DEV_READ | DEV_WRITE;
  let mixed = false;
  for (let p = first; p < end; p++) {
    if (p === accessedPage) continue;
    const done = faultInPage(m, region, p, write, tt, true);
    if (done < 0) mixed = true;
    else tt = done;
  }
  const mapped = m.dmaMapped.data;
  let newlyMapped = 0;
  for (let p = first; p < end; p++) {
    if (!mixed || p === accessedPage) pte &= pagePermission(m, p);
    if (mapped[p] === 0 && m.space.cpuPte.data[p] !== CpuPte.None) {
      mapped[p] = 1;
      newlyMapped++;
    }
  }
  if (mixed) pte = pagePermission(m, accessedPage);
  const pages = end - first;
  tt += pages * m.t.perPage + newlyMapped * m.t.dmaMapPerPage;
  if (region.seq !== seqBefore) {
    // Our own copy-on-write invalidated the interval: the driver's loop sees
    // mmu_interval_read_retry() and walks the range again.
    m.counters.hmmRangeFaultRetries++;
    tt += pages * m.t.perPage;
  }
  m.counters.dmaMappedPages += newlyMapped;
  return { pte, costPs: tt - t };
};

/** What the device may do with a 4 KiB page as the CPU page table now stands. */
function pagePermission(m: Machine, page: number): number {
  const pte = m.space.cpuPte.data[page];
  if (pte === CpuPte.Present && (m.space.prot.data[page] & PROT_WRITE) !== 0) return DEV_READ | DEV_WRITE;
  if (pte === CpuPte.Present || pte === CpuPte.ReadOnly) return DEV_READ;
  return 0;
}
