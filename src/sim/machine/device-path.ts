/**
 * A device context's run: L1 TLB, shared L2 TLB, page walk, then the data in device DRAM
 * or across the link in system memory (through the IOMMU, or the ATC with ATS). A miss in
 * the device page table (or a write to a read-only entry) files a fault and stalls the
 * context until the batch that resolves it is replayed.
 */
import { cyclesToPs, type Ps } from '../engine/time.js';
import { D2H, H2D } from '../hw/link/types.js';
import { DEV_LOCAL, DEV_READ, DEV_WRITE, PAGE_BYTES } from '../mm/page-state.js';
import { COMPUTE, DRAM_WAIT, LINK_WAIT, TLB_MISS } from './contexts.js';
import type { Machine } from './machine.js';
import { STOPPED } from './cpu-path.js';
import { fileFault } from './fault-service.js';

/** Bytes of an ATS translation request or completion message. */
const ATS_MESSAGE_BYTES = 16;

export function deviceRun(m: Machine, c: number, t: Ps): Ps {
  const ctxs = m.contexts;
  const run = ctxs.runs[c];
  const region = m.space.regions[run.region];
  const page = region.basePage + Math.floor(run.offset / PAGE_BYTES);
  if (!region.mapped || page >= region.basePage + region.pages) {
    ctxs.errors[c] = `EFAULT: device access to ${region.spec.name}+0x${run.offset.toString(16)}, which is not mapped`;
    return STOPPED;
  }
  const k = m.counters;
  const dvpn = page >> m.devPageShift;
  const cu = (c - ctxs.cpuContexts) % m.l1Tlbs.length;
  const l1 = m.l1Tlbs[cu];

  let tt = t + m.t.l1Hit;
  let flags = l1.lookup(dvpn);
  if (flags < 0) {
    tt += m.t.l2Hit;
    flags = m.l2Tlb.lookup(dvpn);
    if (flags < 0) {
      tt += m.t.deviceWalk;
      flags = m.devPte.data[dvpn];
      if (flags !== 0) m.l2Tlb.insert(dvpn, flags);
    }
    if (flags > 0) l1.insert(dvpn, flags);
    ctxs.charge(c, TLB_MISS, tt);
  }
  if ((flags & (run.write ? DEV_WRITE : DEV_READ)) === 0) {
    fileFault(m, c, page, run.write, tt);
    return STOPPED;
  }

  k.deviceAccesses += ((run.offset & 63) + run.bytes + 63) >> 6;
  k.deviceBytes += run.bytes;
  let end: Ps;
  if (flags & DEV_LOCAL) {
    k.deviceLocalBytes += run.bytes;
    end = m.dram.access(tt, region.deviceBase + run.offset, run.bytes, run.write);
    ctxs.charge(c, DRAM_WAIT, end);
  } else {
    k.deviceRemoteBytes += run.bytes;
    end = remoteAccess(m, c, page, run.bytes, run.write, tt);
  }
  m.hooks.deviceAccess?.(end, end - t);
  const next = end + cyclesToPs(m.deviceClock, run.computeCycles);
  ctxs.charge(c, COMPUTE, next);
  return next;
}

/**
 * A DMA of `bytes` in system memory page `page`, issued by the device at `t`: the request
 * crosses the link, the IOMMU translates it at the root complex (unless the device holds
 * a translation from ATS), system DRAM serves it, and read data comes back.
 */
function remoteAccess(m: Machine, c: number, page: number, bytes: number, write: boolean, t: Ps): Ps {
  const ctxs = m.contexts;
  const translated = atsTranslate(m, c, page, t);
  let tt = translated;
  if (write) {
    tt = m.link.write(tt, D2H, bytes);
    m.hooks.transfer?.(tt, D2H, bytes);
    ctxs.charge(c, LINK_WAIT, tt);
  } else {
    tt = m.link.readRequest(tt, D2H, bytes);
    ctxs.charge(c, LINK_WAIT, tt);
  }
  if (m.atc === null) {
    tt = m.iommu.translate(tt, page);
    ctxs.charge(c, TLB_MISS, tt);
  }
  tt = m.sysmem.access(tt, bytes, write);
  ctxs.charge(c, DRAM_WAIT, tt);
  if (!write) {
    tt = m.link.readCompletion(tt, H2D, bytes);
    m.hooks.transfer?.(tt, H2D, bytes);
    ctxs.charge(c, LINK_WAIT, tt);
  }
  return tt;
}

/** With ATS, the device looks up its ATC and on a miss asks the IOMMU over the link. */
function atsTranslate(m: Machine, c: number, page: number, t: Ps): Ps {
  const atc = m.atc;
  if (atc === null || atc.lookup(page) >= 0) return t;
  m.counters.atsRequests++;
  let tt = m.link.message(t, D2H, ATS_MESSAGE_BYTES);
  tt = m.iommu.translate(tt, page);
  tt = m.link.message(tt, H2D, ATS_MESSAGE_BYTES);
  atc.insert(page, 1);
  m.contexts.charge(c, TLB_MISS, tt);
  return tt;
}
