/** A CPU core's run: STLB, page walk, page fault (the memory manager's), system DRAM. TLB hits stay inline. */
import { errnoOf, OpError } from '../engine/errno.js';
import { cyclesToPs, type Ps } from '../engine/time.js';
import { D2H, H2D } from '../hw/link/types.js';
import { COMPUTE, DRAM_WAIT, FAULT_SERVICE, LINK_WAIT, TLB_MISS } from './contexts.js';
import { STOPPED } from './device-path.js';
import type { Machine } from './machine.js';
import { CpuPte, PAGE_BYTES, pageIndexOf, PROT_WRITE } from './page-state.js';

export function cpuRun(m: Machine, c: number, t: Ps): Ps {
  const ctxs = m.contexts;
  const run = ctxs.runs[c];
  const region = m.space.regions[run.region];
  const page = region.basePage + pageIndexOf(run.offset);
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
  let end: Ps;
  if ((flags & CPU_TLB_DEVICE_MEMORY) !== 0) {
    end = deviceMemoryAccess(m, c, page, lines, tt);
    ctxs.charge(c, LINK_WAIT, end);
  } else {
    // The core has outstandingMisses lines in flight: a run of more lines takes a memory
    // latency per wave of misses beyond the first.
    const waves = Math.ceil(lines / m.cpuOutstandingMisses);
    end = m.sysmem.access(tt, run.bytes, run.write) + (waves - 1) * m.sysmem.latencyPs;
    ctxs.charge(c, DRAM_WAIT, end);
  }
  const next = end + cyclesToPs(m.cpuClock, run.computeCycles);
  ctxs.charge(c, COMPUTE, next);
  return next;
}

/** CPU TLB flag of a page whose data is in a device's memory (device-coherent, reached across the link). */
export const CPU_TLB_DEVICE_MEMORY = 4;

/** CPU TLB bits for a present page: 1 read, 2 write, CPU_TLB_DEVICE_MEMORY. */
export function cpuTlbFlags(m: Machine, page: number): number {
  const writable = m.space.cpuPte.get(page) === CpuPte.Present && (m.space.prot.get(page) & PROT_WRITE) !== 0;
  return (writable ? 3 : 1) | (m.residency.inSystem(page) ? 0 : CPU_TLB_DEVICE_MEMORY);
}

/**
 * A CPU run to a page that lives in a device's memory on a coherent link: the core's
 * loads go across the link by cache line and device DRAM serves them; stores cross as
 * line writes and complete when they reach device DRAM (no CPU caches: see the CPU
 * section of docs/model.md). The core keeps outstandingMisses lines in flight, so the run
 * goes in waves of that many lines. No fault, no IOMMU: the page is system memory to the
 * CPU.
 */
function deviceMemoryAccess(m: Machine, c: number, page: number, lines: number, t: Ps): Ps {
  const run = m.contexts.runs[c];
  let dev = m.devices[0];
  for (const d of m.devices) if (m.residency.frame(d.index, page) >= 0) dev = d;
  const link = dev.link;
  m.counters.cpuDeviceMemoryBytes += run.bytes;
  const wave = m.cpuOutstandingMisses * 64;
  let tt = t;
  for (let off = run.offset, left = run.bytes; left > 0;) {
    // A wave: at most outstandingMisses lines, not crossing a wave boundary of the page.
    const n = Math.min(left, wave - (off % wave));
    const addr = m.residency.deviceAddress(dev.index, page, off % PAGE_BYTES);
    if (run.write) {
      const arrival = link.write(tt, H2D, n);
      m.hooks.transfer?.(arrival, H2D, n);
      tt = dev.dram.access(arrival, addr, n, true);
    } else {
      tt = link.readCompletion(dev.dram.access(link.readRequest(tt, H2D, n), addr, n, false), D2H, n);
      m.hooks.transfer?.(tt, D2H, n);
    }
    off += n;
    left -= n;
  }
  const counters = m.accessCounters;
  if (counters !== null && counters.countsCpu) counters.count(m.devices.length, page, lines, tt);
  return tt;
}
