/**
 * A device context's run: translation (the strategy's choice, translation.ts), then the
 * data in the device's DRAM, in another device's memory (peer-path.ts), or across its link
 * in system memory (through the IOMMU, or the ATC with ATS). No valid entry (or a write to a read-only one) files a fault and
 * stalls the context until the batch that resolves it is replayed.
 */
import { OpError } from '../engine/errno.js';
import { cyclesToPs, type Ps } from '../engine/time.js';
import { D2H, H2D } from '../hw/link/types.js';
import { COMPUTE, DRAM_WAIT, LINK_WAIT, TLB_MISS } from './contexts.js';
import { ATS_MESSAGE_BYTES } from './ats-translation.js';
import type { Device } from './device.js';
import { EV_BATCH_START } from './events.js';
import type { Machine } from './machine.js';
import { DEV_LOCAL, DEV_PEER, DEV_READ, DEV_WRITE, PAGE_BYTES, pageIndexOf } from './page-state.js';
import { peerData } from './peer-path.js';

/** Returned instead of a time when the context stopped (an error) or stalled (a fault). */
export const STOPPED = -1;
/** Returned when the context waits for device memory: an EV_DRAM_DONE event continues it (deviceAccessDone). */
export const WAITING = -2;

export function deviceRun(m: Machine, c: number, t: Ps): Ps {
  const ctxs = m.contexts;
  const run = ctxs.runs[c];
  const region = m.space.regions[run.region];
  const pageInRegion = pageIndexOf(run.offset);
  const page = region.basePage + pageInRegion;
  if (!region.mapped || page >= region.basePage + region.pages) {
    ctxs.errors[c] = new OpError(
      'EFAULT',
      `device access to ${region.spec.name}+0x${run.offset.toString(16)}, which is not mapped`,
    );
    return STOPPED;
  }
  const dev = m.deviceOf(c);
  dev.counters.translations++;
  const tr = m.translation;
  const tt = tr.translate(m, dev, c, page, t);
  const flags = tr.flags;
  if ((flags & (run.write ? DEV_WRITE : DEV_READ)) === 0) {
    fileFault(m, dev, c, page, run.write, tt);
    return STOPPED;
  }

  const k = dev.counters;
  k.accesses += ((run.offset & 63) + run.bytes + 63) >> 6;
  k.bytes += run.bytes;
  let end: Ps;
  if (flags & DEV_LOCAL) {
    k.localBytes += run.bytes;
    const addr = m.residency.deviceAddress(dev.index, page, run.offset - pageInRegion * PAGE_BYTES);
    end = dev.memory.submit(tt, c, addr, run.bytes, run.write, false);
    if (end === WAITING) {
      ctxs.waitingSince[c] = t;
      return WAITING;
    }
    ctxs.charge(c, DRAM_WAIT, end);
  } else if (flags & DEV_PEER) {
    end = peerData(m, dev, c, page, run.offset, run.bytes, run.write, tt);
  } else if (tr.viaIommu) {
    // Shared virtual addressing: the request carries the address ATS translated.
    k.remoteBytes += run.bytes;
    end = remoteData(m, dev, c, page, run.offset, run.bytes, run.write, tt, false);
  } else {
    if (m.dmaMapped.get(page) === 0) {
      // The IOMMU refuses DMA to a page the driver has not mapped for the device.
      m.counters.iommuFaults++;
      ctxs.errors[c] = new OpError(
        'EFAULT',
        `IOMMU fault: ${dev.name} DMA to ${m.space.describePage(page)}, which is not DMA-mapped`,
      );
      return STOPPED;
    }
    k.remoteBytes += run.bytes;
    end = remoteAccess(m, dev, c, page, run.offset, run.bytes, run.write, tt);
    const counters = m.accessCounters;
    if (counters !== null) counters.count(dev.index, page, ((run.offset & 63) + run.bytes + 63) >> 6, end);
  }
  return accessDone(m, dev, c, page, t, end);
}

/** The access context `c` began at `t` has its data at `end`: it computes, then takes its next step. */
function accessDone(m: Machine, dev: Device, c: number, page: number, t: Ps, end: Ps): Ps {
  const run = m.contexts.runs[c];
  m.hooks.deviceAccess?.(end, end - t, dev.index, page, run.write);
  const next = end + cyclesToPs(dev.clock, run.computeCycles);
  m.contexts.charge(c, COMPUTE, next);
  return next;
}

/** Device memory has served the access context `c` waited for (WAITING) at `end`: when its next step is due. */
export function deviceAccessDone(m: Machine, c: number, end: Ps): Ps {
  const ctxs = m.contexts;
  ctxs.charge(c, DRAM_WAIT, end);
  const run = ctxs.runs[c];
  const region = m.space.regions[run.region];
  const page = region.basePage + pageIndexOf(run.offset);
  return accessDone(m, m.deviceOf(c), c, page, ctxs.waitingSince[c], end);
}

/** Files a fault in the device's fault buffer; the first one in an empty buffer raises the interrupt. */
function fileFault(m: Machine, dev: Device, c: number, page: number, write: boolean, t: Ps): void {
  const fb = dev.faults;
  dev.counters.pageFaults++;
  m.hooks.fault?.(t);
  // A full buffer drops the fault: the context waits for the next replay and retries.
  if (!fb.push(c, page, write, t)) dev.counters.faultBufferFull++;
  if (!fb.driverBusy) {
    fb.driverBusy = true;
    m.queue.push(t + fb.interruptPs, EV_BATCH_START, dev.index);
  }
}

/**
 * A DMA of `bytes` at `offset` in system memory page `page`, issued by the device at `t`
 * through a DMA-mapped address: with ATS the device first translates it in its ATC; then
 * the data moves (remoteData).
 */
function remoteAccess(
  m: Machine,
  dev: Device,
  c: number,
  page: number,
  offset: number,
  bytes: number,
  write: boolean,
  t: Ps,
): Ps {
  const tt = atsTranslate(m, dev, c, page, t);
  return remoteData(m, dev, c, page, offset, bytes, write, tt, dev.atc === null);
}

/**
 * The data of a remote access by a compute unit. It crosses the chip to the host
 * interface, then the link; the IOMMU translates it at the root complex when it arrives
 * untranslated and system DRAM serves it. A write is posted: the context goes on once its
 * last byte has left the device, while the link, IOMMU and host memory still carry it. A
 * read is rounded out to whole sectors, holds a tag per request until its data is back
 * (waiting for one when all are in flight) and returns across the chip.
 */
function remoteData(
  m: Machine,
  dev: Device,
  c: number,
  page: number,
  offset: number,
  bytes: number,
  write: boolean,
  t: Ps,
  translateAtRoot: boolean,
): Ps {
  const ctxs = m.contexts;
  const link = dev.link;
  let tt = t + dev.t.onChip;
  if (write) {
    const arrival = link.write(tt, D2H, bytes);
    const sent = link.sentPs;
    m.hooks.transfer?.(arrival, D2H, bytes);
    const translated = translateAtRoot ? m.iommu.translate(arrival, page) : arrival;
    m.sysmem.access(translated, bytes, true);
    ctxs.charge(c, LINK_WAIT, sent);
    return sent;
  }
  const sector = dev.sectorBytes;
  const lead = offset & (sector - 1);
  const wire = Math.ceil((lead + bytes) / sector) * sector;
  const requests = link.requestsFor(wire);
  const granted = dev.tags.acquire(tt, requests);
  tt = link.readRequest(granted, D2H, wire);
  ctxs.charge(c, LINK_WAIT, tt);
  if (translateAtRoot) {
    tt = m.iommu.translate(tt, page);
    ctxs.charge(c, TLB_MISS, tt);
  }
  tt = m.sysmem.access(tt, wire, false);
  ctxs.charge(c, DRAM_WAIT, tt);
  tt = link.readCompletion(tt, H2D, wire);
  dev.tags.hold(tt, requests);
  m.hooks.transfer?.(tt, H2D, wire);
  tt += dev.t.onChip;
  ctxs.charge(c, LINK_WAIT, tt);
  dev.counters.remoteReads++;
  dev.counters.remoteReadPs += tt - granted + dev.t.onChip; // all but the wait for a tag
  return tt;
}

/**
 * With ATS, the device looks up its ATC and on a miss asks the IOMMU over the link. These
 * are DMA-API addresses, which the driver maps with dma_map_page 4 KiB by 4 KiB (IOMMU
 * mappings are 4 KiB here): the translation completion covers 4 KiB whatever the CPU's
 * page size, so a transparent huge page does not widen this ATC's reach (only shared
 * virtual addressing's, ats-translation.ts).
 */
function atsTranslate(m: Machine, dev: Device, c: number, page: number, t: Ps): Ps {
  const atc = dev.atc;
  if (atc === null || atc.lookup(page) >= 0) return t;
  dev.counters.atsRequests++;
  let tt = dev.link.message(t, D2H, ATS_MESSAGE_BYTES);
  tt = m.iommu.translate(tt, page);
  tt = dev.link.message(tt, H2D, ATS_MESSAGE_BYTES);
  atc.insert(page, 1);
  m.contexts.charge(c, TLB_MISS, tt);
  return tt;
}
