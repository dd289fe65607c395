/**
 * Explicit copies on the device's copy engines. A copy is split into chunks spread over
 * the engines; each chunk streams in 4 KiB blocks so that requests, system DRAM, the
 * link and device DRAM overlap as a DMA pipeline does. Host buffers are pinned when they
 * are allocated (`pinHostPages`, cudaMallocHost-style), so a copy needs no staging
 * buffer; each 4 KiB host page is translated by the IOMMU.
 */
import type { Ps } from '../engine/time.js';
import { D2H, H2D } from '../hw/link/types.js';
import type { Region } from '../machine/address-space.js';
import type { Device } from '../machine/device.js';
import type { Machine } from '../machine/machine.js';
import { peerWrite } from '../machine/peer-path.js';
import { PAGE_BYTES, pageIndexOf, PROT_READ, PROT_WRITE } from '../machine/page-state.js';
import type { Driver } from './driver.js';

/** When each copy engine is next free, during one copy (reused: a copy allocates nothing). */
let engineFreeScratch = new Float64Array(8);

/**
 * Moves one block of at most 4 KiB, `n` bytes at `inPage` in 4 KiB page `page`, issued at
 * `issue`; returns when it is done.
 */
type CopyBlock = (page: number, inPage: number, n: number, issue: Ps) => Ps;

/**
 * Runs a copy of [offset, offset + bytes) of `region` on device `dev`'s copy engines from
 * `t`: chunks go to the engine free soonest, and every block of a chunk is issued when the
 * engine starts it (the link, DRAM and IOMMU servers queue them, which is the pipelining
 * of a DMA engine with many requests in flight). Returns when the last block is done.
 */
function onCopyEngines(
  m: Machine,
  dev: Device,
  region: Region,
  offset: number,
  bytes: number,
  t: Ps,
  block: CopyBlock,
): Ps {
  const cfg = dev.config.copyEngines;
  const start = t + dev.t.copyLaunch;
  if (engineFreeScratch.length < cfg.count) engineFreeScratch = new Float64Array(cfg.count);
  const engineFree = engineFreeScratch;
  engineFree.fill(start, 0, cfg.count);
  let done = start;
  for (let chunk = 0; chunk < bytes; chunk += cfg.chunkBytes) {
    let e = 0;
    for (let i = 1; i < cfg.count; i++) if (engineFree[i] < engineFree[e]) e = i;
    const end = Math.min(bytes, chunk + cfg.chunkBytes);
    const issue = engineFree[e];
    let chunkDone = issue;
    for (let off = offset + chunk; off < offset + end;) {
      const pageInRegion = pageIndexOf(off);
      const inPage = off - pageInRegion * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, offset + end - off);
      const tt = block(region.basePage + pageInRegion, inPage, n, issue);
      if (tt > chunkDone) chunkDone = tt;
      off += n;
    }
    engineFree[e] = chunkDone;
    m.hooks.copyChunk?.(dev.index, e, issue, chunkDone, end - chunk);
    if (chunkDone > done) done = chunkDone;
  }
  return done;
}

/**
 * Copies [offset, offset + bytes) of `region` between system memory and the device's
 * frames of the same pages (residency), on the device's copy engines.
 */
export function copyRegion(
  m: Machine,
  dev: Device,
  toDevice: boolean,
  region: Region,
  offset: number,
  bytes: number,
  t: Ps,
): Ps {
  const k = dev.counters;
  k.copies++;
  if (toDevice) k.copyH2DBytes += bytes;
  else k.copyD2HBytes += bytes;
  const link = dev.link;
  const done = onCopyEngines(m, dev, region, offset, bytes, t, (page, inPage, n, issue) => {
    const devAddr = m.residency.deviceAddress(dev.index, page, inPage);
    let tt: Ps;
    if (toDevice) {
      // The engine's reads hold the device's tags until their data is back.
      const requests = link.requestsFor(n);
      tt = dev.tags.acquire(issue, requests);
      tt = link.readRequest(tt, D2H, n);
      tt = m.iommu.translate(tt, page);
      tt = m.sysmem.access(tt, n, false);
      tt = link.readCompletion(tt, H2D, n);
      dev.tags.hold(tt, requests);
      m.hooks.transfer?.(tt, H2D, n);
      return dev.dram.access(tt, devAddr, n, true);
    }
    tt = dev.dram.access(issue, devAddr, n, false);
    tt = link.write(tt, D2H, n);
    m.hooks.transfer?.(tt, D2H, n);
    tt = m.iommu.translate(tt, page);
    return m.sysmem.access(tt, n, true);
  });
  if (toDevice) k.copyH2DPs += done - t;
  else k.copyD2HPs += done - t;
  return done;
}

/**
 * Copies [offset, offset + bytes) of `region` from device `from`'s frames to device `to`'s
 * frames of the same pages, as cudaMemcpyPeer does: `from`'s copy engines read their own
 * memory and post writes into `to`'s across the peer route (machine/peer-path.ts). The
 * caller checks that the route exists.
 */
export function copyPeer(
  m: Machine,
  from: Device,
  to: Device,
  region: Region,
  offset: number,
  bytes: number,
  t: Ps,
): Ps {
  const k = from.counters;
  k.copies++;
  k.copyPeerBytes += bytes;
  k.p2pBytes += bytes;
  const done = onCopyEngines(m, from, region, offset, bytes, t, (page, inPage, n, issue) => {
    const read = from.dram.access(issue, m.residency.deviceAddress(from.index, page, inPage), n, false);
    return peerWrite(m, from, to, m.residency.frame(to.index, page), inPage, n, read);
  });
  k.copyPeerPs += done - t;
  return done;
}

/**
 * Allocates and pins a host buffer's pages, as cudaMallocHost does: each page the VMA
 * lets the CPU read is faulted in (writable where the VMA allows writes) and DMA-mapped.
 * Returns when done.
 */
export function pinHostPages(d: Driver, region: Region, t: Ps): Ps {
  const m = d.m;
  const prot = m.space.prot;
  let tt = t;
  for (let p = region.basePage; p < region.basePage + region.pages; p++) {
    if ((prot.get(p) & PROT_READ) === 0) continue;
    const done = d.faultInPage(region, p, (prot.get(p) & PROT_WRITE) !== 0, tt);
    if (done > tt) tt = done;
    if (!d.isDmaMapped(p)) {
      m.counters.pinnedPages++;
      tt = d.dmaMap(p, 1, tt);
    }
  }
  return tt;
}
