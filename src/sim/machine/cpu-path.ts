/** A CPU core's run: STLB, page walk, page fault, system DRAM. TLB hits stay inline. */
import { cyclesToPs, type Ps } from '../engine/time.js';
import { PAGE_BYTES } from '../mm/page-state.js';
import { COMPUTE, DRAM_WAIT, FAULT_SERVICE, TLB_MISS } from './contexts.js';
import { cpuTlbFlags, errorName, faultInPage } from './cpu-mm.js';
import type { Machine } from './machine.js';

/** Returned instead of a time when the context stopped (an error) or stalled (a fault). */
export const STOPPED = -1;

export function cpuRun(m: Machine, c: number, t: Ps): Ps {
  const ctxs = m.contexts;
  const run = ctxs.runs[c];
  const region = m.space.regions[run.region];
  const page = region.basePage + Math.floor(run.offset / PAGE_BYTES);
  const k = m.counters;
  if (!region.mapped || page >= region.basePage + region.pages) {
    ctxs.errors[c] = `SIGSEGV: CPU access to ${region.spec.name}+0x${run.offset.toString(16)}, which is not mapped`;
    return STOPPED;
  }
  k.cpuAccesses += ((run.offset & 63) + run.bytes + 63) >> 6;
  k.cpuBytes += run.bytes;

  let tt = t + m.t.cpuTlbHit;
  let flags = m.cpuTlb.lookup(page);
  const need = run.write ? 2 : 1;
  if (flags < 0 || (flags & need) === 0) {
    if (flags < 0) tt += m.t.cpuWalk;
    ctxs.charge(c, TLB_MISS, tt);
    const done = faultInPage(m, region, page, run.write, tt, false);
    if (done < 0) {
      ctxs.errors[c] = `${errorName(done)}: CPU ${run.write ? 'write to' : 'read of'} ${m.space.describePage(page)}`;
      return STOPPED;
    }
    tt = done;
    ctxs.charge(c, FAULT_SERVICE, tt);
    flags = cpuTlbFlags(m, page);
    m.cpuTlb.insert(page, flags);
  }
  const end = m.sysmem.access(tt, run.bytes, run.write);
  ctxs.charge(c, DRAM_WAIT, end);
  const next = end + cyclesToPs(m.cpuClock, run.computeCycles);
  ctxs.charge(c, COMPUTE, next);
  return next;
}
