/**
 * hmm-migrate: hmm-mirror plus migration to device-private memory, as amdgpu's SVM and
 * nouveau's dmem do it with migrate_vma. A device fault migrates the aligned block of
 * `granularityBytes` around the faulting page (clipped to the region):
 *
 * - collect: the block's pages that can move (private anonymous memory the VMA lets the
 *   device read, not already on a device: in a MAP_PRIVATE file mapping only the pages a
 *   write has copied, never a page-cache page); a device frame for each, as long as there
 *   is room;
 * - unmap: the MMU notifier invalidates every mirror of them (MMU_NOTIFY_MIGRATE) and
 *   their CPU entries become migration entries;
 * - copy: pages with data cross the link on the copy engines (a page never touched, or
 *   the shared zero page, needs no copy: the device page starts zeroed);
 * - finalize: the CPU entries become device-private entries, the data is in device memory
 *   only, and the device maps the pages locally.
 *
 * A scripted `migrate` op runs the same migration on request and maps what moved, or
 * migrates the range back to system memory.
 *
 * A page in another device's private memory is faulted back to system memory first, as
 * hmm_range_fault does for another owner's page (a bounce), unless `peerToPeer`: then the
 * device maps it where it is and reaches it peer to peer (peer.ts), with the block's other
 * pages on that peer.
 *
 * A CPU touch of a device-private page migrates its block back (migrate_to_ram): the
 * device mappings go, the data crosses the link, the frames are freed, the CPU entries are
 * present again; the device faults again on its next touch. Pages that cannot migrate
 * (MAP_SHARED: migrate_vma skips them, the HMM selftests expect ENOENT; page-cache pages
 * of a file mapping; device memory full) are mirrored over the link as hmm-mirror maps
 * them. Writeback of a file never meets a device page: page-cache pages stay in system
 * memory, and a migrated MAP_PRIVATE copy is the process's own (mm/file-pages.ts).
 */
import type { z } from 'zod';
import { ERR_EFAULT, ERR_EPERM, ERR_SIGBUS } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import {
  CpuPte,
  DEV_LOCAL,
  DEV_READ,
  DEV_WRITE,
  PAGE_BYTES,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../../machine/page-state.js';
import { VA_BLOCK_PAGES, type DriverContext } from '../driver.js';
import { mapPeerRuns, peerBits, peerHolder } from '../peer.js';
import { ChunkedDeviceMemory } from './chunked-memory.js';
import { mapLocalRuns, mapOverLink, migrateToDevice, migrateToHost, movable, nothingMoved } from './migration.js';
import type { hmmMigrateSchema } from './schema.js';
import { TO_HOST, type Strategy } from './types.js';

export function createHmmMigrate(config: z.output<typeof hmmMigrateSchema>): Strategy {
  const blockPages = config.granularityBytes / PAGE_BYTES;
  /** With eviction: device memory in 2 MiB chunks, evicted when full (see chunked-memory.ts). */
  const memory =
    config.eviction === 'none' ? undefined : new ChunkedDeviceMemory({ ...config, eviction: config.eviction });

  /** The aligned migration block around `page`, clipped to the region. */
  function blockOf(region: Region, page: number): { first: number; end: number } {
    const first = Math.max(region.basePage, Math.floor(page / blockPages) * blockPages);
    const end = Math.min(region.basePage + region.pages, first + blockPages);
    return { first, end };
  }

  /** The device-PTE bits of a page that lives in `device`'s memory. */
  function localBits(d: DriverContext, page: number): number {
    return DEV_LOCAL | DEV_READ | ((d.prot(page) & PROT_WRITE) !== 0 ? DEV_WRITE : 0);
  }

  function isLocal(d: DriverContext, device: number, page: number): boolean {
    return d.cpuPte(page) === CpuPte.DevicePrivate && d.residency.frame(device, page) >= 0;
  }

  /** The peer whose private memory holds `page`, when `device` may map it there (peerToPeer, a route), else -1. */
  function reachablePeer(d: DriverContext, device: number, page: number, write: boolean): number {
    if (!config.peerToPeer || d.cpuPte(page) !== CpuPte.DevicePrivate) return -1;
    const owner = peerHolder(d, device, page, write);
    return owner >= 0 && d.canReachPeer(device, owner) ? owner : -1;
  }

  /**
   * migrate_vma of [first, end) to `device`: the pages that can move (see movable), while
   * frames last. With eviction, frames come from each 2 MiB VA block's chunk (evicting to
   * get one), and a block found thrashing may be left in system memory for a while.
   */
  function toDevice(
    d: DriverContext,
    device: number,
    region: Region,
    first: number,
    end: number,
    batch: number,
    t: Ps,
  ): Ps {
    const isMovable = (p: number) => movable(d, p);
    if (memory === undefined) {
      const frameFor = (_p: number, at: Ps) => d.allocFrame(device, at);
      return migrateToDevice(d, device, region, first, end, isMovable, frameFor, blockPages, t).t;
    }
    let tt = t;
    for (let p = first; p < end;) {
      const block = Math.floor(p / VA_BLOCK_PAGES);
      const stop = Math.min(end, (block + 1) * VA_BLOCK_PAGES);
      if (!memory.mapRemotely(d, device, block, tt)) {
        const got = memory.chunkFor(d, device, region, block, batch, tt);
        tt = got.t;
        if (got.chunk < 0) break;
        const frameFor = (q: number) => {
          memory.addPage(device, got.chunk, q);
          return memory.frameOf(got.chunk, q);
        };
        tt = migrateToDevice(d, device, region, p, stop, isMovable, frameFor, blockPages, tt).t;
        memory.filled(d, device, block, tt);
      }
      p = stop;
    }
    return tt;
  }

  /** migrate_to_ram of `device`'s pages in [first, end), freeing their frames. */
  function toHost(d: DriverContext, device: number, region: Region, first: number, end: number, t: Ps): Ps {
    const local = (p: number) => isLocal(d, device, p);
    memory?.markLeft(Math.floor(first / VA_BLOCK_PAGES));
    return migrateToHost(d, device, region, first, end, local, (p, frame, at) => freePage(d, device, p, frame, at), t)
      .t;
  }

  /** A page's frame goes back: to the allocator, or to its chunk's count when chunks are evicted. */
  function freePage(d: DriverContext, device: number, page: number, frame: number, t: Ps): void {
    if (memory === undefined) d.freeFrame(device, frame, t);
    else memory.release(d, device, page, t);
  }

  const resolve: Strategy['resolveDeviceFault'] = (d, f, t) => {
    const region = f.region;
    const prot = d.prot(f.accessedPage);
    if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) {
      f.error = ERR_EFAULT;
      return;
    }
    if (f.write && (prot & PROT_WRITE) === 0) {
      f.error = ERR_EPERM;
      return;
    }
    let tt = t + d.timing.perFault;
    const onFault = config.migrateOnFault;
    // Without migration on fault the device page is mirrored as hmm-mirror does it.
    const block = onFault ? blockOf(region, f.accessedPage) : { first: f.firstPage, end: f.firstPage + f.pages };
    if (onFault) tt = toDevice(d, f.device, region, block.first, block.end, f.batch, tt);

    // The faulting device page: local pages map locally; the rest of the block (pages that
    // could not move) is mirrored over the link; pages outside the block stay unmapped.
    let fallback = 0;
    for (let i = 0; i < f.pages; i++) {
      const p = f.firstPage + i;
      const peer = reachablePeer(d, f.device, p, f.write && p === f.accessedPage);
      if (isLocal(d, f.device, p)) f.bits[i] = localBits(d, p);
      else if (peer >= 0) {
        // Mapped at once (the batch's install finds it done): a page is mapped, and paid for, once.
        tt = mapPeerRuns(d, f.device, p, p + 1, tt).t;
        f.bits[i] = peerBits(d, p);
      } else if (p >= block.first && p < block.end) {
        const m = mapOverLink(d, region, p, f.write && (p === f.accessedPage || !onFault), tt);
        f.bits[i] = m.bits;
        tt = m.t;
        if (m.bits !== 0) fallback++;
      }
    }
    if (onFault) d.countMigrationFallback(f.device, fallback);
    if (f.bits[f.accessedPage - f.firstPage] === 0) f.error = ERR_EFAULT;

    // The block's local pages outside the faulting device page are mapped now, as the
    // driver maps the whole migrated range.
    tt = mapLocal(d, f.device, block.first, Math.min(block.end, f.firstPage), tt).t;
    tt = mapLocal(d, f.device, Math.max(block.first, f.firstPage + f.pages), block.end, tt).t;
    if (config.peerToPeer) {
      // So are its pages in a peer's memory.
      tt = mapPeerRuns(d, f.device, block.first, Math.min(block.end, f.firstPage), tt).t;
      tt = mapPeerRuns(d, f.device, Math.max(block.first, f.firstPage + f.pages), block.end, tt).t;
    }
    f.costPs = tt - t;
  };

  /** Maps the pages of [first, end) that live in `device`'s memory on it, a block at most per PTE write. */
  function mapLocal(d: DriverContext, device: number, first: number, end: number, t: Ps): { t: Ps; local: number } {
    const local = (p: number) => isLocal(d, device, p);
    const bits = (p: number) => localBits(d, p);
    return mapLocalRuns(d, device, first, end, blockPages, local, bits, t);
  }

  /**
   * A migrate op (the HMM test driver's MIGRATE): migrate_vma over the range, then map what
   * moved; or, to the host, migrate_to_ram of every device's pages of the range.
   */
  const migrate: NonNullable<Strategy['migrate']> = (d, region, firstPage, pages, device, t) => {
    const end = firstPage + pages;
    if (device === TO_HOST) {
      let done = t;
      for (const dev of d.devices) done = toHost(d, dev.index, region, firstPage, end, done);
      return done;
    }
    const moved = mapLocal(d, device, firstPage, end, toDevice(d, device, region, firstPage, end, 0, t));
    return moved.local > 0 ? moved.t : nothingMoved(d, region, firstPage, end);
  };

  return {
    name: 'hmm-migrate',
    translation: 'device-page-table',
    framesByAddress: memory !== undefined,
    onMap(d, _region, t) {
      memory?.attach(d);
      return t;
    },
    onUnmap(d, region, firstPage, pages, t) {
      // Unmapping a device-private page frees it in device memory, once no device maps it.
      const done = d.notify(region, firstPage, pages, t);
      for (let p = firstPage; p < firstPage + pages; p++) {
        for (const dev of d.devices) {
          const frame = d.residency.dropDeviceCopy(dev.index, p);
          if (frame >= 0) freePage(d, dev.index, p, frame, done);
        }
        d.residency.setInSystem(p, true);
      }
      return done;
    },
    onProtect: (d, region, firstPage, pages, _prot, t) => d.notify(region, firstPage, pages, t),
    beforePhase: (_d, _phase, t) => t,
    afterPhase: (_d, _phase, t) => t,
    resolveDeviceFault: resolve,
    migrate,
    onCpuPteChange: (d, region, page, t, pages) => d.notify(region, page, pages, t),
    onSpecialCpuFault(d, region, page, _write, t) {
      if (d.cpuPte(page) !== CpuPte.DevicePrivate) return ERR_SIGBUS;
      const owner = d.devices.find((dev) => d.residency.frame(dev.index, page) >= 0);
      if (owner === undefined) return ERR_SIGBUS;
      const block = blockOf(region, page);
      return toHost(d, owner.index, region, block.first, block.end, t);
    },
  };
}
