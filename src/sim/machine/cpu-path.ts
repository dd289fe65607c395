/** A CPU core's run: STLB, page walk, page fault (the memory manager's), system DRAM. TLB hits stay inline. */
import { errnoOf, OpError } from '../engine/errno.js';
import { cyclesToPs, type Ps } from '../engine/time.js';
import { COMPUTE, DRAM_WAIT, FAULT_SERVICE, TLB_MISS } from './contexts.js';
import { STOPPED } from './device-path.js';
import type { Machine } from './machine.js';
import { CpuPte, PAGE_BYTES, PROT_WRITE } from './page-state.js';

export function cpuRun(m: Machine, c: number, t: Ps): Ps {
  const ctxs = m.contexts;
  const run = ctxs.runs[c];
  const region = m.space.regions[run.region];
  const page = region.basePage + Math.floor(run.offset / PAGE_BYTES);
  const k = m.counters;
  if (!region.mapped || page >= region.basePage + region.pages) {
    ctxs.errors[c] = new OpError(
      'SIGSEGV',
      `CPU access to ${region.spec.name}+0x${run.offset.toString(16)}, which is not mapped`,
    );
    return STOPPED;
  }
  k.cpuTranslations++;
  const lines = ((run.offset & 63) + run.bytes + 63) >> 6;
  k.cpuAccesses += lines;
  k.cpuBytes += run.bytes;

  let tt = t + m.t.cpuTlbHit;
  let flags = m.cpuTlb.lookup(page);
  const need = run.write ? 2 : 1;
  if (flags < 0 || (flags & need) === 0) {
    if (flags < 0) {
      // Eight leaf entries share a cache line: the next seven walks of a stream hit it.
      const line = Math.floor(page / 8);
      tt += m.cpuLastWalkLine[c] === line ? m.t.cpuWalkCached : m.t.cpuWalk;
      m.cpuLastWalkLine[c] = line;
    }
    ctxs.charge(c, TLB_MISS, tt);
    const done = m.mm.cpuFault(region, page, run.write, tt);
    if (done < 0) {
      const what = `CPU ${run.write ? 'write to' : 'read of'} ${m.space.describePage(page)}`;
      ctxs.errors[c] = new OpError(errnoOf(done), what);
      return STOPPED;
    }
    tt = done;
    ctxs.charge(c, FAULT_SERVICE, tt);
    flags = cpuTlbFlags(m, page);
    m.cpuTlb.insert(page, flags);
  }
  // The core has outstandingMisses lines in flight: a run of more lines takes a memory
  // latency per wave of misses beyond the first.
  const waves = Math.ceil(lines / m.cpuOutstandingMisses);
  const end = m.sysmem.access(tt, run.bytes, run.write) + (waves - 1) * m.sysmem.latencyPs;
  ctxs.charge(c, DRAM_WAIT, end);
  const next = end + cyclesToPs(m.cpuClock, run.computeCycles);
  ctxs.charge(c, COMPUTE, next);
  return next;
}

/** CPU TLB permission bits for a present page: 1 read, 2 write. */
export function cpuTlbFlags(m: Machine, page: number): number {
  const writable = m.space.cpuPte.get(page) === CpuPte.Present && (m.space.prot.get(page) & PROT_WRITE) !== 0;
  return writable ? 3 : 1;
}
