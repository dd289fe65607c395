/**
 * Device memory as 2 MiB chunks for strategies that oversubscribe it (gmem, hmm-migrate
 * with eviction), after the UVM driver's PMM: a 2 MiB VA block with pages on a device owns
 * one root chunk (page i of the block in frame i). When no chunk is free, a victim is
 * evicted: its pages go back to system memory. With it, thrashing detection per block: a
 * block whose pages come back `threshold` times, each within the window of the previous,
 * is thrashing, and is mapped over the link or pinned on the device for a while.
 */
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import { VA_BLOCK_PAGES, type DriverContext } from '../driver.js';
import { migrateToHost } from './migration.js';

export interface ChunkedMemoryConfig {
  eviction: 'lru' | 'fifo';
  thrashing: {
    mitigation: 'none' | 'map-remotely' | 'pin-on-device';
    threshold: number;
    windowUs: number;
    pinMs: number;
  };
}

/** The chunks of one device. */
class DeviceChunks {
  readonly chunkOfBlock = new Map<number, number>();
  readonly blockOfChunk: Float64Array;
  readonly regionOfChunk: Int32Array;
  /** Pages of the block held in the chunk. */
  readonly resident: Uint16Array;
  /** The fault batch that last filled the chunk: that batch may not evict it (its mappings are not installed yet). */
  readonly batchOfChunk: Float64Array;
  /** One byte per frame: 1 while the block's page is in it (what the density prefetcher reads). */
  readonly residentMap: Uint8Array;

  constructor(chunks: number) {
    this.residentMap = new Uint8Array(chunks * VA_BLOCK_PAGES);
    this.batchOfChunk = new Float64Array(chunks);
    this.blockOfChunk = new Float64Array(chunks).fill(-1);
    this.regionOfChunk = new Int32Array(chunks).fill(-1);
    this.resident = new Uint16Array(chunks);
  }
}

/** What thrashing detection knows of one 2 MiB block. */
interface BlockHistory {
  /** Pages of the block left a device (evicted, faulted back) since they last came. */
  left: boolean;
  /** The device they left for another device's fault (a bounce through system memory), or -1: for the CPU, or evicted. */
  leftFrom: number;
  events: number;
  lastEvent: Ps;
  /** Whether every event of the current run followed pages leaving a device for another device (not for the CPU, not evicted). */
  betweenDevices: boolean;
  /** The devices of the current run's events. */
  thrashers: number[];
  remoteUntil: Ps;
  /** While remoteUntil lasts: the device the block is pinned on (the others map it peer to peer), or -1: system memory. */
  pinnedOn: number;
  pinnedUntil: Ps;
}

/** The block's pages inside the region: [first, end). */
export function blockRange(region: Region, block: number): [number, number] {
  const first = Math.max(block * VA_BLOCK_PAGES, region.basePage);
  return [first, Math.min((block + 1) * VA_BLOCK_PAGES, region.basePage + region.pages)];
}

export class ChunkedDeviceMemory {
  private readonly pinPs: Ps;
  private readonly windowPs: Ps;
  private readonly history = new Map<number, BlockHistory>();
  private devices: DeviceChunks[] = [];

  constructor(
    private readonly config: ChunkedMemoryConfig,
    /** Blocks of these regions are evicted from this device only when nothing else can go (a preferred location on it). */
    private readonly evictLast: (region: Region, device: number) => boolean = () => false,
    /**
     * Map-remotely between devices only: a block thrashing between devices that can all
     * reach the requester's memory is pinned there, the others map it peer to peer.
     */
    private readonly pinOnPeers = false,
    /** Called once an evicted block's pages [first, end) are back in system memory (at `t`). */
    private readonly afterEviction?: (d: DriverContext, region: Region, first: number, end: number, t: Ps) => void,
  ) {
    this.pinPs = config.thrashing.pinMs * 1e9;
    this.windowPs = config.thrashing.windowUs * 1e6;
  }

  /** Sizes the chunk tables once the devices are known. */
  attach(d: DriverContext): void {
    if (this.devices.length > 0) return;
    this.devices = d.devices.map((dev) => new DeviceChunks(Math.floor(dev.capacityBytes / (VA_BLOCK_PAGES * 4096))));
  }

  /** The frame of `page` in its block's chunk. */
  frameOf(chunk: number, page: number): number {
    return chunk * VA_BLOCK_PAGES + (page % VA_BLOCK_PAGES);
  }

  /** `page` took its frame in `chunk`. */
  addPage(device: number, chunk: number, page: number): void {
    const dc = this.devices[device];
    dc.resident[chunk]++;
    dc.residentMap[this.frameOf(chunk, page)] = 1;
  }

  /** Which pages of the block are on the device (one byte per page of the 2 MiB block), or undefined when none is. */
  residentPages(device: number, block: number): Uint8Array | undefined {
    const chunk = this.devices[device].chunkOfBlock.get(block);
    if (chunk === undefined) return undefined;
    return this.devices[device].residentMap.subarray(chunk * VA_BLOCK_PAGES, (chunk + 1) * VA_BLOCK_PAGES);
  }

  /** A page left `device` (faulted back, unmapped, a copy dropped): its chunk holds one page fewer, and goes when empty. */
  release(d: DriverContext, device: number, page: number, t: Ps): void {
    const block = Math.floor(page / VA_BLOCK_PAGES);
    const chunk = this.devices[device].chunkOfBlock.get(block);
    if (chunk === undefined) return;
    this.devices[device].resident[chunk]--;
    this.devices[device].residentMap[this.frameOf(chunk, page)] = 0;
    this.freeIfEmpty(d, device, block, t);
  }

  /** After filling a chunk: frees it if nothing moved in, else marks it used now (LRU). */
  filled(d: DriverContext, device: number, block: number, t: Ps): void {
    this.freeIfEmpty(d, device, block, t);
    const chunk = this.devices[device].chunkOfBlock.get(block);
    if (chunk !== undefined && this.config.eviction === 'lru') d.touchChunk(device, chunk, t);
  }

  /**
   * The block's chunk on `device`, allocated (evicting if need be) when it has none;
   * chunk -1 when nothing can be evicted. `batch` is the fault batch filling it (0 for
   * none): chunks that batch filled are not evicted.
   */
  chunkFor(
    d: DriverContext,
    device: number,
    region: Region,
    block: number,
    batch: number,
    t: Ps,
  ): { chunk: number; t: Ps } {
    const dc = this.devices[device];
    const have = dc.chunkOfBlock.get(block);
    if (have !== undefined) {
      dc.batchOfChunk[have] = batch;
      return { chunk: have, t };
    }
    let tt = t;
    for (;;) {
      const chunk = d.allocChunk(device, tt);
      if (chunk >= 0) {
        dc.chunkOfBlock.set(block, chunk);
        dc.blockOfChunk[chunk] = block;
        dc.regionOfChunk[chunk] = region.index;
        dc.resident[chunk] = 0;
        dc.batchOfChunk[chunk] = batch;
        return { chunk, t: tt };
      }
      // Each eviction frees a chunk, so the next allocation succeeds: no loop.
      const c = this.victim(d, device, block, batch, tt);
      if (c < 0) return { chunk: -1, t: tt };
      tt = this.evict(d, device, c, tt);
    }
  }

  /**
   * The block's pages left a device: a CPU fault brought them back, or they left device
   * `leftFrom` for another device's fault. The next return is a thrashing event.
   */
  markLeft(block: number, leftFrom = -1): void {
    const h = this.historyOf(block);
    h.left = true;
    h.leftFrom = leftFrom;
  }

  /**
   * Counts a thrashing event when the block's pages come back after leaving; returns true
   * when `device` must not migrate the block's pages now (detected, or still within
   * map-remotely): it maps them over the link, or peer to peer where pinnedDevice says.
   */
  mapRemotely(d: DriverContext, device: number, block: number, t: Ps): boolean {
    const h = this.history.get(block);
    if (h === undefined) return false;
    if (h.remoteUntil > t) return h.pinnedOn !== device;
    if (!h.left) return false;
    h.left = false;
    const sameRun = t - h.lastEvent <= this.windowPs;
    h.events = sameRun ? h.events + 1 : 1;
    h.betweenDevices = (sameRun ? h.betweenDevices : true) && h.leftFrom >= 0;
    if (!sameRun) h.thrashers.length = 0;
    addThrasher(h, device);
    addThrasher(h, h.leftFrom);
    h.lastEvent = t;
    const thrashing = this.config.thrashing;
    if (h.events < thrashing.threshold) return false;
    h.events = 0;
    d.countThrashing(device);
    if (thrashing.mitigation === 'pin-on-device') h.pinnedUntil = t + this.pinPs;
    if (thrashing.mitigation !== 'map-remotely') return false;
    h.remoteUntil = t + this.pinPs;
    // As the UVM driver's thrashing hint: pin on the requester when every processor
    // thrashing on the block can access its memory; else in system memory.
    h.pinnedOn = this.pinOnPeers && h.betweenDevices && this.allReach(d, h.thrashers, device) ? device : -1;
    return h.pinnedOn !== device;
  }

  /** The device a block thrashing between devices is pinned on now (the others map it peer to peer), or -1. */
  pinnedDevice(block: number, t: Ps): number {
    const h = this.history.get(block);
    return h === undefined || h.remoteUntil <= t ? -1 : h.pinnedOn;
  }

  private allReach(d: DriverContext, thrashers: readonly number[], owner: number): boolean {
    let others = 0;
    for (const x of thrashers) {
      if (x === owner) continue;
      if (!d.canReachPeer(x, owner)) return false;
      others++;
    }
    return others > 0;
  }

  private historyOf(block: number): BlockHistory {
    let h = this.history.get(block);
    if (h === undefined) {
      h = {
        left: false,
        leftFrom: -1,
        events: 0,
        lastEvent: -Infinity,
        betweenDevices: false,
        thrashers: [],
        remoteUntil: -Infinity,
        pinnedOn: -1,
        pinnedUntil: -Infinity,
      };
      this.history.set(block, h);
    }
    return h;
  }

  private freeIfEmpty(d: DriverContext, device: number, block: number, t: Ps): void {
    const dc = this.devices[device];
    const chunk = dc.chunkOfBlock.get(block);
    if (chunk === undefined || dc.resident[chunk] > 0) return;
    this.forget(dc, block, chunk);
    d.freeChunk(device, chunk, t);
  }

  private forget(dc: DeviceChunks, block: number, chunk: number): void {
    dc.chunkOfBlock.delete(block);
    dc.blockOfChunk[chunk] = -1;
    dc.regionOfChunk[chunk] = -1;
    dc.resident[chunk] = 0;
    dc.residentMap.fill(0, chunk * VA_BLOCK_PAGES, (chunk + 1) * VA_BLOCK_PAGES);
  }

  /** Evicts a chunk: the block's pages go back to system memory (copies that system memory also holds are dropped); returns when done. */
  private evict(d: DriverContext, device: number, chunk: number, t: Ps): Ps {
    const dc = this.devices[device];
    const block = dc.blockOfChunk[chunk];
    const region = d.regions[dc.regionOfChunk[chunk]];
    const [first, end] = blockRange(region, block);
    const here = (p: number) => d.residency.frame(device, p) >= 0;
    const onlyHere = (p: number) => here(p) && !d.residency.inSystem(p);
    let tt = migrateToHost(d, device, region, first, end, onlyHere, noRelease, t).t;
    for (let p = first; p < end; p++) {
      if (!here(p)) continue;
      tt = d.notify(region, p, 1, tt);
      d.residency.dropDeviceCopy(device, p);
    }
    this.forget(dc, block, chunk);
    d.freeChunk(device, chunk, tt);
    d.countEviction(device);
    this.markLeft(block);
    this.afterEviction?.(d, region, first, end, tt);
    return tt;
  }

  /** The chunk to evict for `block`, or -1 when none may go (pinned, filled by this batch; evict-last blocks last). */
  private victim(d: DriverContext, device: number, block: number, batch: number, t: Ps): number {
    const dc = this.devices[device];
    // The first few least recent chunks nearly always hold a victim; the whole list only when they do not.
    for (const n of [16, dc.resident.length]) {
      let fallback = -1;
      for (const c of d.leastRecentChunks(device, n)) {
        const b = dc.blockOfChunk[c];
        const busy = b === block || (batch > 0 && dc.batchOfChunk[c] === batch);
        if (busy || (this.history.get(b)?.pinnedUntil ?? -Infinity) > t) continue;
        if (!this.evictLast(d.regions[dc.regionOfChunk[c]], device)) return c;
        if (fallback < 0) fallback = c;
      }
      if (fallback >= 0 || n >= dc.resident.length) return fallback;
    }
    return -1;
  }
}

function addThrasher(h: BlockHistory, device: number): void {
  if (device >= 0 && !h.thrashers.includes(device)) h.thrashers.push(device);
}

/** Frames of an evicted chunk are freed with the chunk, not one by one. */
function noRelease(): void {}
