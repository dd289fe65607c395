/**
 * Explicit copies on the device's copy engines. A copy is split into chunks spread over
 * the engines; each chunk streams in 4 KiB blocks so that requests, system DRAM, the
 * link and device DRAM overlap as a DMA pipeline does. Host buffers are pinned (no
 * staging copy); each 4 KiB host page is translated by the IOMMU.
 */
import type { Ps } from '../engine/time.js';
import { D2H, H2D } from '../hw/link/types.js';
import type { Region } from '../mm/address-space.js';
import { PAGE_BYTES } from '../mm/page-state.js';
import { faultInPage } from './cpu-mm.js';
import type { Machine } from './machine.js';

export function copyRegion(m: Machine, toDevice: boolean, region: Region, offset: number, bytes: number, t: Ps): Ps {
  const k = m.counters;
  k.copies++;
  if (toDevice) k.copyH2DBytes += bytes;
  else k.copyD2HBytes += bytes;
  const cfg = m.config.hardware.device.copyEngines;
  const start = pinHostPages(m, toDevice, region, offset, bytes, t + m.t.copyLaunch);
  const engineFree = new Float64Array(cfg.count).fill(start);
  let done = start;
  for (let chunk = 0; chunk < bytes; chunk += cfg.chunkBytes) {
    let e = 0;
    for (let i = 1; i < engineFree.length; i++) if (engineFree[i] < engineFree[e]) e = i;
    const end = Math.min(bytes, chunk + cfg.chunkBytes);
    // Every block is issued when the engine starts the chunk; the link, DRAM and IOMMU
    // servers queue them, which is the pipelining of a DMA engine with many reads in flight.
    const issue = engineFree[e];
    let chunkDone = issue;
    for (let off = offset + chunk; off < offset + end; off += PAGE_BYTES - (off % PAGE_BYTES)) {
      const n = Math.min(PAGE_BYTES - (off % PAGE_BYTES), offset + end - off);
      const page = region.basePage + Math.floor(off / PAGE_BYTES);
      const devAddr = region.deviceBase + off;
      let tt: Ps;
      if (toDevice) {
        tt = m.link.readRequest(issue, D2H, n);
        tt = m.iommu.translate(tt, page);
        tt = m.sysmem.access(tt, n, false);
        tt = m.link.readCompletion(tt, H2D, n);
        m.series.h2d.add(tt, n);
        tt = m.dram.access(tt, devAddr, n, true);
      } else {
        tt = m.dram.access(issue, devAddr, n, false);
        tt = m.link.write(tt, D2H, n);
        m.series.d2h.add(tt, n);
        tt = m.iommu.translate(tt, page);
        tt = m.sysmem.access(tt, n, true);
      }
      if (tt > chunkDone) chunkDone = tt;
    }
    engineFree[e] = chunkDone;
    if (chunkDone > done) done = chunkDone;
  }
  return done;
}

/**
 * Pins the copy's host pages, as get_user_pages does for a DMA: an absent page is faulted
 * in (writable when the device writes it), and each page is DMA-mapped the first time.
 * The caller has checked the range's protection.
 */
function pinHostPages(m: Machine, toDevice: boolean, region: Region, offset: number, bytes: number, t: Ps): Ps {
  const [first, count] = m.space.pageRange(region, offset, bytes);
  const mapped = m.dmaMapped.data;
  let tt = t;
  for (let p = first; p < first + count; p++) {
    const done = faultInPage(m, region, p, !toDevice, tt, true);
    if (done > tt) tt = done;
    if (mapped[p] === 0) {
      mapped[p] = 1;
      m.counters.pinnedPages++;
      tt += m.t.dmaMapPerPage;
    }
  }
  return tt;
}
