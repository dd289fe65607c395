/**
 * coherent: device memory on a cache-coherent link (CAPI/OpenCAPI, CXL.mem, NVLink-C2C),
 * as Linux's MEMORY_DEVICE_COHERENT pages and a CPU-less NUMA node give it: device pages
 * with a struct page that the CPU maps with ordinary present entries.
 *
 * - The CPU reads and writes a page that lives in device memory by cache line across the
 *   link, without a fault (the access path sees the residency record; cpu-path.ts). A CPU
 *   touch never migrates the page back, unlike a device-private page.
 * - The device maps every page through its page table, filled on device faults as
 *   hmm-mirror fills it: pages in its own memory locally, system memory over the link,
 *   where it reads and writes by cache line.
 * - A new page is placed by the placement policy: on the node of whoever touches it first,
 *   on the device whoever touches it, or in system memory.
 * - Pages move only when migrated: a migrate op (either way), or, optionally, an access
 *   counter's notification (remote accesses to a chunk past a threshold move the chunk to
 *   whoever accesses it, as NVIDIA's access counters and Linux NUMA balancing do).
 * - Copy-on-write of a device-coherent page (after fork) copies it straight from device
 *   memory into a new page in system memory (wp_page_copy: the page allocator never hands
 *   out device memory); the old page is the child's, which the model does not run, so its
 *   frame is freed.
 */
import type { z } from 'zod';
import { ERR_SIGBUS } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import { CpuPte, DEV_LOCAL, DEV_PEER, PAGE_BYTES } from '../../machine/page-state.js';
import type { DriverContext } from '../driver.js';
import { pagePermission, resolveFault } from './hmm-mirror.js';
import {
  copyPages,
  freeDevicePages,
  mapLocalRuns,
  migrateToDevice,
  migrateToHost,
  movable,
  nothingMoved,
} from './migration.js';
import type { coherentSchema } from './schema.js';
import { TO_HOST, type Strategy } from './types.js';

/** Pages migrated or mapped in one run (a 2 MiB VA block). */
const RUN_PAGES = 512;

export function createCoherent(config: z.output<typeof coherentSchema>): Strategy {
  const chunkPages = config.accessCounterGranularityBytes / PAGE_BYTES;
  /** The device on whose behalf a fault is being resolved (hmm_range_fault), or -1 for the CPU's own. */
  let toucher = -1;

  function onDevice(d: DriverContext, device: number, page: number): boolean {
    return d.residency.frame(device, page) >= 0 && !d.residency.inSystem(page);
  }

  /**
   * migrate_vma of [first, end) to `device`, then maps there what is there. The pages end
   * present to the CPU: device-coherent memory is ordinary memory on another node.
   */
  function toDevice(d: DriverContext, device: number, region: Region, first: number, end: number, t: Ps) {
    const isMovable = (p: number) => movable(d, p);
    const frameFor = (_p: number, at: Ps) => d.allocFrame(device, at);
    const moved = migrateToDevice(d, device, region, first, end, isMovable, frameFor, RUN_PAGES, t, CpuPte.Present);
    const local = (p: number) => onDevice(d, device, p);
    const bits = (p: number) => permission(d, device, p);
    return mapLocalRuns(d, device, first, end, RUN_PAGES, local, bits, moved.t);
  }

  /** Every device's pages of [first, end) back to system memory, their frames freed. */
  function toHost(d: DriverContext, region: Region, first: number, end: number, t: Ps): Ps {
    let done = t;
    for (const dev of d.devices) {
      const local = (p: number) => onDevice(d, dev.index, p);
      const release = (_p: number, frame: number, at: Ps) => d.freeFrame(dev.index, frame, at);
      done = migrateToHost(d, dev.index, region, first, end, local, release, done).t;
    }
    return done;
  }

  /**
   * The device-PTE bits of a page for `device`: the CPU side's permission, local when it
   * lives in the device's memory, peer to peer when it lives in another's that the
   * device can reach (else across the link, as system memory).
   */
  function permission(d: DriverContext, device: number, page: number): number {
    const bits = pagePermission(d, page);
    if (bits === 0 || d.residency.inSystem(page)) return bits;
    if (onDevice(d, device, page)) return bits | DEV_LOCAL;
    const owner = d.residency.holderOtherThan(page, device);
    return owner >= 0 && d.canReachPeer(device, owner) ? bits | DEV_PEER : bits;
  }

  /** The node a new page goes to: a device index, or -1 for system memory. */
  function placementOf(): number {
    switch (config.placement) {
      case 'host':
        return -1;
      case 'device-preferred':
        return toucher >= 0 ? toucher : 0;
      case 'first-touch':
        return toucher;
    }
  }

  const placeNewPages: NonNullable<Strategy['placeNewPages']> = (d, _region, firstPage, pages, t) => {
    const device = placementOf();
    if (device < 0) return t;
    // A fresh page holds no data: it is allocated on the device instead, with no copy. When
    // the device is full the rest stay in system memory (a preferred node falls back).
    for (let p = firstPage; p < firstPage + pages; p++) {
      const frame = d.allocFrame(device, t);
      if (frame < 0) break;
      d.residency.addDeviceCopy(device, p, frame);
      d.residency.setInSystem(p, false);
    }
    return t;
  };

  /** An access counter's notification: `agent` (a device, or TO_HOST for the CPU) used [first, end) remotely. */
  function onAccessCounter(d: DriverContext, agent: number, region: Region, first: number, end: number, t: Ps): void {
    const tt = t + d.timing.perFault;
    if (agent === TO_HOST) toHost(d, region, first, end, tt);
    else toDevice(d, agent, region, first, end, tt);
  }

  return {
    name: 'coherent',
    translation: 'device-page-table',
    accessCounters:
      config.accessCounterMigration === 'off'
        ? undefined
        : {
            chunkPages,
            threshold: config.accessCounterThreshold,
            countsCpu: config.accessCounterMigration === 'both',
          },
    onAccessCounter,
    onMap: (_d, _region, t) => t,
    onUnmap(d, region, firstPage, pages, t) {
      // The device mappings go first, then the memory they mapped.
      const done = d.notify(region, firstPage, pages, t);
      freeDevicePages(d, firstPage, pages, done);
      return done;
    },
    onProtect: (d, region, firstPage, pages, _prot, t) => d.notify(region, firstPage, pages, t),
    beforePhase: (_d, _phase, t) => t,
    afterPhase: (_d, _phase, t) => t,
    resolveDeviceFault(d, f, t) {
      toucher = f.device;
      resolveFault(d, f, t, permission);
      toucher = -1;
    },
    onCpuPteChange(d, region, first, t, pages) {
      let tt = d.notify(region, first, pages, t);
      for (let page = first; page < first + pages; page++) {
        for (const dev of d.devices) {
          if (!onDevice(d, dev.index, page)) continue;
          tt = copyPages(d, dev.index, false, region, page, page + 1, tt);
          d.freeFrame(dev.index, d.residency.dropDeviceCopy(dev.index, page), tt);
          d.residency.setInSystem(page, true);
        }
      }
      return tt;
    },
    // A device-coherent page is present to the CPU: no special entry outlives a migration.
    onSpecialCpuFault: () => ERR_SIGBUS,
    migrate(d, region, firstPage, pages, device, t) {
      const end = firstPage + pages;
      if (device === TO_HOST) return toHost(d, region, firstPage, end, t);
      const moved = toDevice(d, device, region, firstPage, end, t);
      return moved.local > 0 ? moved.t : nothingMoved(d, region, firstPage, end);
    },
    placeNewPages,
  };
}
