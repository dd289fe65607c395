/**
 * gmem: advised unified memory in the manner of GMEM (the generalized memory management
 * proposal for accelerators) and of the NVIDIA UVM driver it generalizes. Only regions the
 * program opts in are shared with the devices. A device fault migrates pages into device
 * memory, 2 MiB VA block by block:
 *
 * - the faulting device page, plus what the prefetcher adds in its block (none; the aligned
 *   64 KiB around it; or the UVM density tree: the largest subregion whose resident and
 *   faulting pages exceed the threshold);
 * - each block that has pages on a device owns one 2 MiB chunk of its memory (page i of the
 *   block in frame i of the chunk, as the UVM driver backs a VA block with a root chunk);
 * - when no chunk is free, the least recently used (or first allocated) chunk is evicted:
 *   its pages go back to system memory. Chunks pinned by thrashing mitigation and the chunk
 *   being filled are never evicted; when nothing can be evicted the fault maps the pages
 *   over the link instead (an eviction policy that finds nothing never loops);
 * - a block whose pages come back to a device `threshold` times, each within `windowUs` of
 *   the previous, is thrashing: for `pinMs` it is mapped over the link instead
 *   ("map-remotely"), or its chunk is kept ("pin-on-device"). A block thrashing between
 *   devices that can all reach the detecting device's memory (`peerToPeer`) is pinned
 *   there instead, and the other devices map it peer to peer (the UVM driver's pin hint).
 *
 * Advice per region: preferred location host (map over the link, never migrate on fault),
 * or a device (its faults migrate there; another device that can reach its memory moves
 * the pages there and maps them peer to peer), accessed-by, for every device or for some
 * (map where the page is: over the link, or peer to peer in another device's memory with
 * `peerToPeer` and a route; a page it cannot reach there comes to it, or to a preferred
 * location it can reach; and once pages move, by a fault, a prefetch, a CPU fault or an
 * eviction, or another device's fault maps them where they are, and when the advice is
 * given, map them there if they can reach it), read-mostly (a device read copies the pages and keeps the
 * system copy write-protected; a CPU write collapses the copies through copy-on-write, a
 * device write moves the page). A CPU touch of a page on a device migrates the aligned
 * 64 KiB around it back.
 */
import type { z } from 'zod';
import { ERR_EFAULT, ERR_EPERM, ERR_SIGBUS, OpError } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import {
  CpuPte,
  DEV_LOCAL,
  DEV_READ,
  DEV_WRITE,
  PROT_FILE,
  PROT_HUGETLB,
  PROT_MAPPED,
  PROT_READ,
  PROT_SHARED,
  PROT_WRITE,
  mapsPageCache,
} from '../../machine/page-state.js';
import { accessedByDevice, LAST_DEVICE } from '../../workload/advice.js';
import { VA_BLOCK_PAGES, type DriverContext } from '../driver.js';
import { mapPeerRuns, peerBits, peerHolder } from '../peer.js';
import { mapAccessedBy, type AccessedByMapping } from './accessed-by.js';
import { blockRange, ChunkedDeviceMemory } from './chunked-memory.js';
import {
  copyPages,
  mapLocalRuns,
  mapOverLink,
  migrateBetweenDevices,
  migrateToDevice,
  migrateToHost,
} from './migration.js';
import type { gmemAdviceSchema, gmemSchema } from './schema.js';
import { TO_HOST, type DeviceFault, type Strategy } from './types.js';

type GmemConfig = z.output<typeof gmemSchema>;
type Advice = z.output<typeof gmemAdviceSchema>;

/** Pages of the sequential prefetcher's unit and of a CPU fault-back: a 64 KiB big page. */
const BIG_PAGE_PAGES = 16;
const NO_ADVICE: Advice = { region: '', preferredLocation: 'none', accessedBy: false, readMostly: false };

/**
 * The density prefetcher's choice in a block (slots 0 .. VA_BLOCK_PAGES - 1): the size of
 * the largest aligned subregion around slot `at` (2, 4, ... VA_BLOCK_PAGES slots) in which
 * more than `thresholdPercent` of the slots are present, or 0 when none is. A slot is
 * present when it is in the region's part of the block [regionLo, regionHi) and resident
 * on the device (`resident`, 0 or 1 per slot) or faulting ([faultLo, faultHi)).
 */
export function densestSubregion(
  resident: Uint8Array | undefined,
  regionLo: number,
  regionHi: number,
  faultLo: number,
  faultHi: number,
  at: number,
  thresholdPercent: number,
): number {
  // The subregion of `size` around `at` is the one of size / 2 around it plus its sibling,
  // so each count adds the sibling's: the block's slots are each read once.
  let count = presentIn(resident, regionLo, regionHi, faultLo, faultHi, at, at + 1);
  let largest = 0;
  for (let size = 2; size <= VA_BLOCK_PAGES; size *= 2) {
    const start = Math.floor(at / size) * size;
    const half = size / 2;
    const sibling = at < start + half ? start + half : start;
    count += presentIn(resident, regionLo, regionHi, faultLo, faultHi, sibling, sibling + half);
    if (count * 100 > thresholdPercent * size) largest = size;
  }
  return largest;
}

/** densestSubregion's present slots in [from, to). */
function presentIn(
  resident: Uint8Array | undefined,
  regionLo: number,
  regionHi: number,
  faultLo: number,
  faultHi: number,
  from: number,
  to: number,
): number {
  const lo = from > regionLo ? from : regionLo;
  const hi = to < regionHi ? to : regionHi;
  let n = 0;
  if (resident !== undefined) for (let i = lo; i < hi; i++) n += resident[i];
  // Faulting slots count once, resident or not.
  const fLo = faultLo > lo ? faultLo : lo;
  const fHi = faultHi < hi ? faultHi : hi;
  for (let i = fLo; i < fHi; i++) if (resident === undefined || resident[i] === 0) n++;
  return n;
}

export function createGmem(config: GmemConfig): Strategy {
  const adviceByName = new Map(config.advice.map((a) => [a.region, a]));
  const shared = config.sharedRegions === 'all' ? undefined : new Set(config.sharedRegions);

  const adviceOf = (region: Region): Advice => adviceByName.get(region.spec.name) ?? NO_ADVICE;
  /** Chunks of a region whose preferred location is this device (or any device, "device") are evicted last. */
  const prefersDevice = (region: Region, device: number): boolean => {
    const where = adviceOf(region).preferredLocation;
    return where === 'device' || (typeof where === 'object' && where.device === device);
  };
  // After an eviction the driver re-establishes the accessed-by mappings from a work item
  // (uvm_va_block.c, block_add_eviction_mappings): the fault that evicted does not wait for it.
  const afterEviction = (d: DriverContext, region: Region, first: number, end: number, t: Ps) => {
    mapAccessedAfterMove(d, region, first, end, TO_HOST, TO_HOST, t, false);
  };
  const memory = new ChunkedDeviceMemory(config, prefersDevice, config.peerToPeer, afterEviction);
  const isLocal = (d: DriverContext, device: number, p: number) => d.residency.frame(device, p) >= 0;
  /** A page on a device and in system memory: a read-mostly copy. */
  const isReplica = (d: DriverContext, device: number, p: number) => isLocal(d, device, p) && d.residency.inSystem(p);

  /** The device-PTE bits of a page in `device`'s memory: read-only while it is a read-mostly copy. */
  function localBits(d: DriverContext, device: number, p: number): number {
    const writable = (d.prot(p) & PROT_WRITE) !== 0 && !isReplica(d, device, p);
    return DEV_LOCAL | DEV_READ | (writable ? DEV_WRITE : 0);
  }

  /**
   * After the pages of [first, end) moved to `residence` (a device, or TO_HOST: system
   * memory) for `caller` (the faulting or prefetching device, or TO_HOST for the CPU), the
   * region's other accessed-by devices map them there (accessed-by.ts: locally, peer to
   * peer, over the link), as the UVM driver does after a migration
   * (uvm_va_block_add_mappings_after_migration): not under read-mostly advice (read
   * duplication takes precedence), not the caller (already mapped), and not the preferred
   * location when the pages went elsewhere (`exceptPreferred`: it gets no remote mappings).
   * Returns when done.
   */
  function mapAccessedAfterMove(
    d: DriverContext,
    region: Region,
    first: number,
    end: number,
    residence: number,
    caller: number,
    t: Ps,
    exceptPreferred = true,
    by: Advice['accessedBy'] = adviceOf(region).accessedBy,
  ): Ps {
    const advice = adviceOf(region);
    if (!mapsAccessedBy(advice, by)) return t;
    const where = advice.preferredLocation;
    const notMapped = exceptPreferred && typeof where === 'object' && where.device !== residence ? where.device : -1;
    const how: AccessedByMapping = {
      maps: (device) => device !== caller && device !== notMapped && accessedByDevice(by, device),
      peerToPeer: config.peerToPeer,
      localBits,
    };
    return mapAccessedBy(d, first, end, residence, how, t);
  }

  /** Whether accessed-by devices get mappings: some are named, and read duplication does not take precedence. */
  const mapsAccessedBy = (advice: Advice, by: Advice['accessedBy']) =>
    !advice.readMostly && by !== false && !(Array.isArray(by) && by.length === 0);

  /** Where a page lives: TO_HOST (system memory, or nowhere yet), else the device whose memory holds it. */
  function residenceOf(d: DriverContext, p: number): number {
    if (d.residency.inSystem(p)) return TO_HOST;
    for (const dev of d.devices) if (isLocal(d, dev.index, p)) return dev.index;
    return TO_HOST;
  }

  /**
   * mapAccessedAfterMove for pages that may live in different places: each run of [first,
   * end) with one residency is mapped there. A page in system memory that was never
   * touched is mapped by no one (it is resident nowhere yet). Returns when done.
   */
  function mapAccessedWhereTheyAre(
    d: DriverContext,
    region: Region,
    first: number,
    end: number,
    caller: number,
    t: Ps,
    exceptPreferred = true,
    by: Advice['accessedBy'] = adviceOf(region).accessedBy,
  ): Ps {
    const advice = adviceOf(region);
    if (!mapsAccessedBy(advice, by)) return t;
    let tt = t;
    for (let p = first; p < end;) {
      const residence = residenceOf(d, p);
      let q = p + 1;
      while (q < end && residenceOf(d, q) === residence) q++;
      tt = mapAccessedAfterMove(d, region, p, q, residence, caller, tt, exceptPreferred, by);
      p = q;
    }
    return tt;
  }

  /** Whether `device` can map `page`, which lives in another device's memory only, peer to peer (a write: unless copy-on-write). */
  function reachablePeer(d: DriverContext, device: number, page: number, write: boolean): boolean {
    if (d.cpuPte(page) !== CpuPte.DevicePrivate) return false;
    const owner = peerHolder(d, device, page, write);
    return owner >= 0 && d.canReachPeer(device, owner);
  }

  /** Whether a page can move to a device: private anonymous memory in system memory only (no device holds a copy; not a file's page-cache page; not hugetlb memory). */
  function movable(d: DriverContext, p: number): boolean {
    const prot = d.prot(p);
    if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ) || (prot & (PROT_SHARED | PROT_HUGETLB)) !== 0)
      return false;
    const pte = d.cpuPte(p);
    if (pte !== CpuPte.None && pte !== CpuPte.Present && pte !== CpuPte.ReadOnly) return false;
    if ((prot & PROT_FILE) !== 0 && mapsPageCache(prot, pte, d.pageFlags(p))) return false;
    for (const dev of d.devices) if (isLocal(d, dev.index, p)) return false;
    return true;
  }

  /** The pages a fault migrates: its device page, grown by the prefetcher inside the block. */
  function prefetchRange(d: DriverContext, f: DeviceFault, block: number): [number, number] {
    const [bFirst, bEnd] = blockRange(f.region, block);
    let lo = f.firstPage;
    let hi = f.firstPage + f.pages;
    const base = block * VA_BLOCK_PAGES;
    const at = f.accessedPage - base;
    if (config.prefetcher === 'sequential') {
      const start = base + Math.floor(at / BIG_PAGE_PAGES) * BIG_PAGE_PAGES;
      lo = Math.min(lo, start);
      hi = Math.max(hi, start + BIG_PAGE_PAGES);
    } else if (config.prefetcher === 'density') {
      // The UVM driver's bitmap tree: resident or faulting pages per subregion.
      const resident = memory.residentPages(f.device, block);
      const size = densestSubregion(
        resident,
        bFirst - base,
        bEnd - base,
        f.firstPage - base,
        hi - base,
        at,
        config.densityThresholdPercent,
      );
      if (size > 0) {
        const start = Math.floor(at / size) * size;
        lo = Math.min(lo, base + start);
        hi = Math.max(hi, base + start + size);
      }
    }
    return [Math.max(lo, bFirst), Math.min(hi, bEnd)];
  }

  /**
   * Migrates the movable pages of [lo, hi) (one block) to the device; returns the time and
   * the pages moved. Pages in device `keep`'s memory stay there.
   */
  function migrateIn(d: DriverContext, f: DeviceFault, block: number, lo: number, hi: number, t: Ps, keep = -1): Ps {
    const device = f.device;
    const { chunk, t: tt } = memory.chunkFor(d, device, f.region, block, f.batch, t);
    if (chunk < 0) return tt;
    let prefetched = 0;
    const frameFor = (p: number) => {
      memory.addPage(device, chunk, p);
      if (p < f.firstPage || p >= f.firstPage + f.pages) prefetched++;
      return memory.frameOf(chunk, p);
    };
    const isMovable = (p: number) => movable(d, p);
    const direct = fromPeers(d, device, f.region, block, lo, hi, frameFor, tt, keep);
    const done = migrateToDevice(d, device, f.region, lo, hi, isMovable, frameFor, VA_BLOCK_PAGES, direct).t;
    d.countPrefetch(device, prefetched);
    memory.filled(d, device, block, done);
    return done;
  }

  /** Whether device `from` can push its pages straight into `device`'s memory (peerToPeer and a route). */
  const directRoute = (d: DriverContext, from: number, device: number) =>
    config.peerToPeer && from !== device && d.canReachPeer(from, device);

  /**
   * With peerToPeer: the pages of [lo, hi) (one block) that live in another device's memory
   * only and that device can reach `device`'s memory move device to device (the UVM
   * driver's make_resident between GPUs with peer access), into the block's chunk; the
   * block left that device for this one (a thrashing event if it goes on). Device `keep`'s
   * pages stay. Returns the time.
   */
  function fromPeers(
    d: DriverContext,
    device: number,
    region: Region,
    block: number,
    lo: number,
    hi: number,
    frameFor: (p: number) => number,
    t: Ps,
    keep: number,
  ): Ps {
    let tt = t;
    for (const dev of d.devices) {
      const from = dev.index;
      if (from === keep || !directRoute(d, from, device)) continue;
      // Readable, on `from` only, device-private, not shared copy-on-write with a forked child.
      const onSource = (p: number) => peerHolder(d, device, p, true) === from && d.cpuPte(p) === CpuPte.DevicePrivate;
      const release = (p: number, _frame: number, at: Ps) => memory.release(d, from, p, at);
      const moved = migrateBetweenDevices(d, from, device, region, lo, hi, onSource, frameFor, release, tt);
      tt = moved.t;
      if (moved.pages > 0) memory.markLeft(block, from);
    }
    return tt;
  }

  /** Read-mostly: copies the pages of [lo, hi) that are in system memory to the device, keeping them there write-protected. */
  function replicate(d: DriverContext, f: DeviceFault, block: number, lo: number, hi: number, t: Ps): Ps {
    const device = f.device;
    const got = memory.chunkFor(d, device, f.region, block, f.batch, t);
    const chunk = got.chunk;
    let tt = got.t;
    if (chunk < 0) return tt;
    for (let p = lo; p < hi; p++) {
      if (!movable(d, p)) continue;
      // The system copy must be write-protected for a CPU write to collapse the copies.
      if (d.cpuPte(p) !== CpuPte.ReadOnly) {
        const faulted = d.faultInPage(f.region, p, false, tt);
        if (faulted < 0) continue;
        tt = faulted;
        d.setCpuPte(p, CpuPte.ReadOnly);
      }
      d.residency.addDeviceCopy(device, p, memory.frameOf(chunk, p));
      memory.addPage(device, chunk, p);
      tt = copyPages(d, device, true, f.region, p, p + 1, tt);
    }
    memory.filled(d, device, block, tt);
    return tt;
  }

  /** A device write to a read-mostly copy: the other copies go and the page lives on this device only. */
  function collapse(d: DriverContext, f: DeviceFault, t: Ps): Ps {
    let tt = t;
    for (let i = 0; i < f.pages; i++) {
      const p = f.firstPage + i;
      if (!isReplica(d, f.device, p)) continue;
      tt = d.notify(f.region, p, 1, tt);
      for (const dev of d.devices) {
        if (dev.index === f.device || !isLocal(d, dev.index, p)) continue;
        d.residency.dropDeviceCopy(dev.index, p);
        memory.release(d, dev.index, p, tt);
      }
      d.setCpuPte(p, CpuPte.DevicePrivate);
      d.residency.setInSystem(p, false);
    }
    return tt;
  }

  /** Per page of the fault being resolved: 1 when its device cannot access it where it is (markUnreachable). */
  let unreachable = new Uint8Array(VA_BLOCK_PAGES);

  /**
   * Marks the fault's pages that `f.device` cannot access where they are: in another
   * device's memory only, with no peer route to it or peerToPeer false (the driver's
   * accessible_from); returns how many.
   */
  function markUnreachable(d: DriverContext, f: DeviceFault): number {
    if (unreachable.length < f.pages) unreachable = new Uint8Array(f.pages);
    let n = 0;
    for (let i = 0; i < f.pages; i++) {
      const p = f.firstPage + i;
      const owner = d.cpuPte(p) === CpuPte.DevicePrivate ? peerHolder(d, f.device, p) : -1;
      const cannot = owner >= 0 && !(config.peerToPeer && d.canReachPeer(f.device, owner));
      unreachable[i] = cannot ? 1 : 0;
      if (cannot) n++;
    }
    return n;
  }

  /**
   * Runs `move` over [lo, hi) at once, or with `onlyUnreachable` over each run of the
   * fault's pages markUnreachable marked (inside the block); returns the time.
   */
  function eachRun(
    region: Region,
    block: number,
    lo: number,
    hi: number,
    onlyUnreachable: boolean,
    t: Ps,
    move: (first: number, end: number, t: Ps) => Ps,
  ): Ps {
    if (!onlyUnreachable) return move(lo, hi, t);
    const [bFirst, bEnd] = blockRange(region, block);
    const first = Math.max(lo, bFirst);
    const end = Math.min(hi, bEnd);
    let tt = t;
    for (let p = first; p < end;) {
      if (unreachable[p - lo] === 0) {
        p++;
        continue;
      }
      let q = p + 1;
      while (q < end && unreachable[q - lo] === 1) q++;
      tt = move(p, q, tt);
      p = q;
    }
    return tt;
  }

  const resolve: Strategy['resolveDeviceFault'] = (d, f, t) => {
    const region = f.region;
    const prot = d.prot(f.accessedPage);
    if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ) || (shared && !shared.has(region.spec.name))) {
      f.error = ERR_EFAULT;
      return;
    }
    if (f.write && (prot & PROT_WRITE) === 0) {
      f.error = ERR_EPERM;
      return;
    }
    let tt = t + d.timing.perFault;
    const advice = adviceOf(region);
    const block = Math.floor(f.accessedPage / VA_BLOCK_PAGES);
    let lo = f.firstPage;
    let hi = f.firstPage;
    const where = advice.preferredLocation;
    // "device": every device is its own preferred location, so the faulting device is this one's.
    const preferred = where === 'device' ? f.device : typeof where === 'object' ? where.device : -1;
    const accessed = accessedByDevice(advice.accessedBy, f.device);
    // The UVM driver's residency choice (uvm_va_block.c, block_select_processor_residency):
    // read-mostly first; a fault by the preferred location migrates there, accessed-by
    // advice notwithstanding; an accessed-by device keeps each page where it can access it
    // (system memory over its link, another device's memory peer to peer) and maps it
    // there; a block pinned against thrashing stays pinned; else a device that can reach
    // the preferred location's memory moves the page there and maps it remotely (peer to
    // peer); else the faulting device gets it. So a page an accessed-by device cannot reach
    // (in another device's memory without a route, or peerToPeer false) falls through to
    // the preferred location it can reach, else to this device.
    const keeps = accessed && preferred !== f.device;
    const moving = keeps ? markUnreachable(d, f) : 0;
    const keepsAll = keeps && moving === 0;
    // Some pages stay and some move: the driver prefetches only when every faulting page
    // of the block goes to one processor (uvm_va_block_get_prefetch_hint).
    const partly = moving > 0 && moving < f.pages;
    const toPreferred =
      preferred >= 0 &&
      preferred !== f.device &&
      !advice.readMostly &&
      !keepsAll &&
      config.peerToPeer &&
      d.canReachPeer(f.device, preferred) &&
      memory.pinnedDevice(block, tt) < 0;
    // Where the fault's pages go: a return there after they left is a thrashing event.
    const target = toPreferred ? preferred : f.device;
    const remote = where === 'host' || keepsAll || memory.mapRemotely(d, target, block, tt);
    const pinned = memory.pinnedDevice(block, tt);
    if (!remote && toPreferred) {
      // Batch 0: the record is for another device, whose batches are numbered on their own.
      const pf: DeviceFault = { ...f, device: preferred, batch: 0 };
      [lo, hi] = partly ? [f.firstPage, f.firstPage + f.pages] : prefetchRange(d, pf, block);
      // Pages in a third device's memory that cannot reach the preferred one's come through system memory.
      tt = eachRun(region, block, lo, hi, partly, tt, (a, b, at) => {
        const staged = fromOtherDevices(d, preferred, region, a, b, true, at, f.device);
        return migrateIn(d, pf, block, a, b, staged, f.device);
      });
    } else if (!remote) {
      const replicating = advice.readMostly && !f.write;
      if (pinned === f.device) {
        // Pinned here against thrashing between devices: the whole block comes here.
        [lo, hi] = blockRange(region, block);
        tt = fromOtherDevices(d, f.device, region, lo, hi, !replicating, tt);
      } else [lo, hi] = partly ? [f.firstPage, f.firstPage + f.pages] : prefetchRange(d, f, block);
      if (replicating) tt = replicate(d, f, block, lo, hi, tt);
      else if (moving > 0 && pinned !== f.device) {
        // An accessed-by device's pages it cannot reach: made resident here, through
        // system memory from a device without a direct route (the driver's copy through a
        // staging page), device to device from one with a route; the pages it can
        // reach stay where they are unless the prefetcher adds them.
        tt = eachRun(region, block, lo, hi, partly, collapse(d, f, tt), (a, b, at) => {
          const staged = fromOtherDevices(d, f.device, region, a, b, true, at);
          return migrateIn(d, f, block, a, b, staged);
        });
      } else tt = migrateIn(d, f, block, lo, hi, collapse(d, f, tt));
    }

    // The faulting device page: pages on the device map locally; pages in a peer's memory
    // peer to peer with accessed-by advice, while the block is pinned on a peer, or in the
    // preferred location's memory; the others over the link (a page in another device's
    // memory bounces to system memory).
    const peerMaps = config.peerToPeer && ((remote && (accessed || pinned >= 0)) || keeps || (toPreferred && !remote));
    let overLink = 0;
    for (let i = 0; i < f.pages; i++) {
      const p = f.firstPage + i;
      const write = f.write && p === f.accessedPage;
      if (isLocal(d, f.device, p)) {
        f.bits[i] = localBits(d, f.device, p);
        continue;
      }
      if (peerMaps && reachablePeer(d, f.device, p, write)) {
        // Mapped at once (the batch's install finds it done): a page is mapped, and paid for, once.
        tt = mapPeerRuns(d, f.device, p, p + 1, tt).t;
        f.bits[i] = peerBits(d, p);
        continue;
      }
      const from = d.residency.inSystem(p) ? -1 : d.residency.holderOtherThan(p, f.device);
      const m = mapOverLink(d, region, p, write, tt);
      f.bits[i] = m.bits;
      tt = m.t;
      // The block left the other device for this one: thrashing between devices if it goes on.
      if (from >= 0) memory.markLeft(Math.floor(p / VA_BLOCK_PAGES), from);
      // A page an accessed-by device keeps in system memory is where it should be, not a fallback.
      if (m.bits !== 0 && !remote && !(partly && unreachable[i] === 0)) overLink++;
    }
    d.countMigrationFallback(f.device, overLink);
    if (f.bits[f.accessedPage - f.firstPage] === 0) f.error = ERR_EFAULT;
    // Prefetched pages outside the faulting device page are mapped now, as the driver maps
    // the whole serviced region of the block (uvm_va_block_service_finish): in the
    // preferred location's memory, peer to peer.
    const mapPrefetched = toPreferred && !remote ? mapPeer : mapLocal;
    tt = mapPrefetched(d, f.device, lo, Math.min(hi, f.firstPage), tt);
    tt = mapPrefetched(d, f.device, Math.max(lo, f.firstPage + f.pages), hi, tt);
    // Then the other accessed-by devices that can reach the pages map every serviced page
    // where it now is, whether it moved or was mapped where it was (an accessed-by fault,
    // preferred location host, a block mapped remotely against thrashing): the driver's
    // uvm_va_block_service_finish maps them for each new residency's pages, moved or not
    // (block_service_finish_map_accessed_by -> uvm_va_block_add_mappings_after_migration).
    tt = mapAccessedWhereTheyAre(
      d,
      region,
      Math.min(lo, f.firstPage),
      Math.max(hi, f.firstPage + f.pages),
      f.device,
      tt,
    );
    f.costPs = tt - t;
  };

  function mapPeer(d: DriverContext, device: number, first: number, end: number, t: Ps): Ps {
    return first >= end ? t : mapPeerRuns(d, device, first, end, t).t;
  }

  function mapLocal(d: DriverContext, device: number, first: number, end: number, t: Ps): Ps {
    if (first >= end) return t;
    const local = (p: number) => isLocal(d, device, p);
    const bits = (p: number) => localBits(d, device, p);
    return mapLocalRuns(d, device, first, end, VA_BLOCK_PAGES, local, bits, t).t;
  }

  /** Every device's own pages of [first, end) back to system memory (a prefetch to the CPU). */
  function toHost(d: DriverContext, region: Region, first: number, end: number, t: Ps): Ps {
    let tt = t;
    for (const dev of d.devices) {
      const onlyHere = (p: number) => isLocal(d, dev.index, p) && !d.residency.inSystem(p);
      const release = (p: number, _frame: number, at: Ps) => memory.release(d, dev.index, p, at);
      tt = migrateToHost(d, dev.index, region, first, end, onlyHere, release, tt).t;
    }
    return tt;
  }

  /**
   * Other devices' own pages of [first, end) back to system memory, on the way to `device`;
   * with `direct`, those of devices with a direct route stay for migrateIn to move device to
   * device; device `keep`'s stay too.
   */
  function fromOtherDevices(
    d: DriverContext,
    device: number,
    region: Region,
    first: number,
    end: number,
    direct: boolean,
    t: Ps,
    keep = -1,
  ): Ps {
    let tt = t;
    for (const dev of d.devices) {
      if (dev.index === device || dev.index === keep || (direct && directRoute(d, dev.index, device))) continue;
      const onlyThere = (p: number) => isLocal(d, dev.index, p) && !d.residency.inSystem(p);
      const release = (p: number, _frame: number, at: Ps) => memory.release(d, dev.index, p, at);
      tt = migrateToHost(d, dev.index, region, first, end, onlyThere, release, tt).t;
    }
    return tt;
  }

  /**
   * Explicit prefetch (cudaMemPrefetchAsync, the scripted migrate op): to a device block
   * by block, then mapped; or to the CPU (TO_HOST).
   */
  const migrate: NonNullable<Strategy['migrate']> = (d, region, firstPage, pages, device, t) => {
    if (shared && !shared.has(region.spec.name)) {
      return new OpError('EFAULT', `migrate of ${region.spec.name}: the region is not in strategy.sharedRegions`);
    }
    if (device === TO_HOST) {
      // The accessed-by devices then map the pages over their links (uvm_migrate.c, block_migrate_map_unmapped_pages).
      const back = toHost(d, region, firstPage, firstPage + pages, t);
      return mapAccessedAfterMove(d, region, firstPage, firstPage + pages, TO_HOST, TO_HOST, back);
    }
    let tt = t;
    let moved = 0;
    const end = firstPage + pages;
    const fault = { device, batch: 0, region, firstPage: 0, pages: 0, accessedPage: 0 } as DeviceFault;
    for (let p = firstPage; p < end;) {
      const block = Math.floor(p / VA_BLOCK_PAGES);
      const stop = Math.min(end, (block + 1) * VA_BLOCK_PAGES);
      fault.firstPage = p;
      fault.pages = stop - p;
      tt = migrateIn(d, fault, block, p, stop, tt);
      tt = mapLocal(d, device, p, stop, tt);
      // Then the accessed-by devices that can reach it (uvm_migrate.c, block_migrate_map_unmapped_pages).
      tt = mapAccessedAfterMove(d, region, p, stop, device, device, tt);
      for (let q = p; q < stop; q++) if (isLocal(d, device, q)) moved++;
      p = stop;
    }
    if (moved > 0) return tt;
    return new OpError(
      'ENOMEM',
      `migrate of ${region.spec.name}: no page could move (device memory full, or no page movable)`,
    );
  };

  /**
   * The devices an advise op maps where the region's pages are now, as the driver's
   * cudaMemAdvise does: each device it sets accessed-by for (uvm_va_range_set_accessed_by
   * -> uvm_va_block_set_accessed_by), and, when the preferred location changes, the old
   * one if it is accessed-by (uvm_va_range_set_preferred_location). An empty list: none.
   */
  function mappedOnAdvice(change: Partial<Advice>, before: Advice, after: Advice): number[] {
    const devices: number[] = [];
    const by = after.accessedBy;
    if (change.accessedBy !== undefined && by !== false) {
      for (let i = 0; i <= LAST_DEVICE; i++) if (accessedByDevice(by, i)) devices.push(i);
    }
    const old = before.preferredLocation;
    const moved =
      change.preferredLocation !== undefined && JSON.stringify(change.preferredLocation) !== JSON.stringify(old);
    if (moved && typeof old === 'object' && accessedByDevice(by, old.device) && !devices.includes(old.device))
      devices.push(old.device);
    return devices;
  }

  /**
   * A scripted advise op: the given fields change; unsetting read-mostly drops the device
   * copies; devices given accessed-by map the pages where they are now (mappedOnAdvice),
   * in the op's time.
   */
  const advise: NonNullable<Strategy['advise']> = (d, region, change, t) => {
    const before = adviceOf(region);
    const after: Advice = { ...before, region: region.spec.name };
    if (change.preferredLocation !== undefined) after.preferredLocation = change.preferredLocation;
    if (change.accessedBy !== undefined) after.accessedBy = change.accessedBy;
    if (change.readMostly !== undefined) after.readMostly = change.readMostly;
    adviceByName.set(region.spec.name, after);
    let tt = t;
    if (before.readMostly && !after.readMostly) {
      for (let p = region.basePage; p < region.basePage + region.pages; p++) {
        for (const dev of d.devices) {
          if (!isReplica(d, dev.index, p)) continue;
          tt = d.notify(region, p, 1, tt);
          d.residency.dropDeviceCopy(dev.index, p);
          memory.release(d, dev.index, p, tt);
        }
      }
    }
    // Every page of the region that is resident somewhere (uvm_va_block_set_accessed_by ->
    // uvm_va_block_add_mappings: each page where it is, if the device can access it; the
    // preferred location is not left out; not under read-mostly advice).
    const by = mappedOnAdvice(change, before, after);
    const end = region.basePage + region.pages;
    return mapAccessedWhereTheyAre(d, region, region.basePage, end, TO_HOST, tt, false, by);
  };

  return {
    name: 'gmem',
    translation: 'device-page-table',
    framesByAddress: true,
    onMap(d, _region, t) {
      memory.attach(d);
      return t;
    },
    onUnmap(d, region, firstPage, pages, t) {
      // The device mappings go first, then the memory they mapped.
      const done = d.notify(region, firstPage, pages, t);
      for (let p = firstPage; p < firstPage + pages; p++) {
        for (const dev of d.devices) {
          if (d.residency.dropDeviceCopy(dev.index, p) >= 0) memory.release(d, dev.index, p, done);
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
    advise,
    onCpuPteChange(d, region, first, t, pages) {
      // A CPU write to a read-mostly page (copy-on-write of its write-protected system copy) drops the device copies.
      const tt = d.notify(region, first, pages, t);
      for (let page = first; page < first + pages; page++) {
        for (const dev of d.devices) {
          if (d.residency.dropDeviceCopy(dev.index, page) >= 0) memory.release(d, dev.index, page, tt);
        }
      }
      return tt;
    },
    onSpecialCpuFault(d, region, page, _write, t) {
      if (d.cpuPte(page) !== CpuPte.DevicePrivate) return ERR_SIGBUS;
      const owner = d.devices.find((dev) => isLocal(d, dev.index, page));
      if (owner === undefined) return ERR_SIGBUS;
      const device = owner.index;
      const start = page - (page % BIG_PAGE_PAGES);
      const first = Math.max(start, region.basePage);
      const end = Math.min(start + BIG_PAGE_PAGES, region.basePage + region.pages);
      const onlyHere = (p: number) => isLocal(d, device, p) && !d.residency.inSystem(p);
      const back = migrateToHost(
        d,
        device,
        region,
        first,
        end,
        onlyHere,
        (p, _frame, at) => memory.release(d, device, p, at),
        t,
      );
      memory.markLeft(Math.floor(page / VA_BLOCK_PAGES));
      // The accessed-by devices map the pages back in system memory over their links, as
      // the driver's CPU fault service does (uvm_va_block_cpu_fault -> uvm_va_block_service_locked
      // -> uvm_va_block_service_finish).
      return mapAccessedAfterMove(d, region, first, end, TO_HOST, TO_HOST, back.t);
    },
  };
}
