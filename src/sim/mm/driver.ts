/**
 * The driver context: the operations a kernel driver (and the core MM under it) has, as
 * one interface. Strategies see only this, never the machine: they fault CPU pages in,
 * DMA-map and unmap, write and invalidate device PTEs, allocate and free device frames,
 * copy data, and run the notifier. Each operation returns the simulated time when it is
 * done (or a negative errno code, engine/errno.ts, where it can fail).
 */
import { nsToPs, type Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import type { Device } from '../machine/device.js';
import type { Machine } from '../machine/machine.js';
import { H2D } from '../hw/link/types.js';
import { cpuSidePermission } from '../machine/ats-translation.js';
import { CpuPte, DEV_ACCESS, DEV_WRITE, PAGE_BYTES, PAGE_COW } from '../machine/page-state.js';
import { anyValidDevicePage, dropCachedTranslations, markWholeDevicePages } from './device-pte.js';
import type { Residency } from '../machine/residency.js';
import type { DriverConfig } from './driver-schema.js';
import { copyPeer, copyRegion, pinHostPages } from './copy.js';
import { faultInPage } from './cpu-fault.js';
import { FrameAllocators } from './frame-allocators.js';
import { HugetlbPool } from './hugetlb.js';
import { dmaUnmap, invalidateAts, notifierInvalidate, unmapDevicePages } from './invalidate.js';
import { PeerCopyMappings } from './peer-copy-mappings.js';

/** What a strategy may know of a device. */
export interface DeviceInfo {
  readonly index: number;
  readonly name: string;
  /** log2 of 4 KiB pages per device page. */
  readonly pageShift: number;
  readonly capacityBytes: number;
  readonly memoryUsed: number;
}

/** Driver software costs in ps, converted once. */
export interface DriverTiming {
  perFault: Ps;
  perPage: Ps;
  dmaMapPerPage: Ps;
  invalidate: Ps;
  shootdown: Ps;
  perVaBlock: Ps;
  ptUpdateBytes: number;
  /** A PRI page request: from reaching the IOMMU to the I/O page-fault handler starting (iommu.pri.pageRequestLatencyNs). */
  pageRequest: Ps;
}

export interface DriverContext {
  readonly devices: readonly DeviceInfo[];
  readonly timing: DriverTiming;
  readonly regions: readonly Region[];
  readonly residency: Residency;

  // The CPU page table and VMAs (read), and the core MM's fault handler.
  cpuPte(page: number): CpuPte;
  /** The VMA protection bits of a page (PROT_* in page-state.ts). */
  prot(page: number): number;
  /** The core MM's flags of a page (PAGE_* in page-state.ts: copy-on-write, huge, pinned). */
  pageFlags(page: number): number;
  describePage(page: number): string;
  /** handle_mm_fault on the device's behalf (hmm_range_fault, get_user_pages): the time, or EFAULT/EPERM. */
  faultInPage(region: Region, page: number, write: boolean, t: Ps): Ps;
  /**
   * Replaces a page's CPU page-table entry (a device-private or migration entry when a
   * page migrates, Present when it comes back), dropping the CPU's cached translation.
   * The caller runs the notifier first when a mirror may hold the old page.
   */
  setCpuPte(page: number, entry: CpuPte): void;

  // DMA mapping of system pages for the devices.
  isDmaMapped(page: number): boolean;
  /** dma_map_page for each page of [first, first + pages) not yet mapped; returns when done. */
  dmaMap(firstPage: number, pages: number, t: Ps): Ps;
  dmaUnmap(firstPage: number, pages: number, t: Ps): Ps;
  /** Allocates, faults in and DMA-maps a host buffer's pages (cudaMallocHost-style). */
  pinHostPages(region: Region, t: Ps): Ps;

  // Device page tables.
  /**
   * Writes device `device`'s PTEs for the 4 KiB pages [first, first + bits.length) and
   * drops any TLB entry they replace; a device page whose pages all get the same non-zero
   * bits is mapped whole. Returns when the PTE write has crossed the link.
   */
  writeDevicePtes(device: number, firstPage: number, bits: Uint8Array, count: number, t: Ps): Ps;
  /** What device `device` may do with a page now (DEV_* without DEV_LARGE): its PTE, or with shared virtual addressing the CPU page table's permission. */
  devicePte(device: number, page: number): number;
  /** Clears every device's mappings of the range, shoots down their TLBs, DMA-unmaps. */
  unmapFromDevices(firstPage: number, pages: number, t: Ps): Ps;
  /** The MMU interval notifier of `region`: bumps its sequence and unmaps the range from every device. */
  notify(region: Region, firstPage: number, pages: number, t: Ps): Ps;

  /** Counts one more walk of hmm_range_fault's retry loop (mm.hmm_range_fault_retries). */
  countHmmRangeFaultRetry(): void;
  /**
   * Counts pages migrated to device `device` or back from it (mm.pages_migrated_to_device /
   * _to_host) and the bytes of their data that crossed the link (mm.bytes_to_device /
   * _to_host; default: every page's 4 KiB).
   */
  countMigration(device: number, toDevice: boolean, pages: number, bytes?: number): void;
  /** Counts pages a migrating strategy mapped over the link instead (mm.migration_fallback_pages). */
  countMigrationFallback(device: number, pages: number): void;
  /** Counts what an advised unified-memory driver did: chunks evicted, blocks found thrashing, pages prefetched. */
  countEviction(device: number): void;
  countThrashing(device: number): void;
  countPrefetch(device: number, pages: number): void;
  /** Counts a device address range (a GPU VMA and its notifier) created or destroyed. */
  countDeviceRange(device: number, created: boolean): void;

  // Device memory.
  /** One 4 KiB frame on a device, or -1 when its memory is full. */
  allocFrame(device: number, t: Ps): number;
  freeFrame(device: number, frame: number, t: Ps): void;
  freeBytes(device: number): number;
  /** A whole 2 MiB chunk on a device (frames chunk * 512 to chunk * 512 + 511), or -1 when none is free. */
  allocChunk(device: number, t: Ps): number;
  /** Frees every frame of a chunk. */
  freeChunk(device: number, chunk: number, t: Ps): void;
  /** Marks a chunk used now (the root-chunk LRU list). */
  touchChunk(device: number, chunk: number, t: Ps): void;
  /** Up to n allocated chunks of a device, least recently touched first. */
  leastRecentChunks(device: number, n: number): number[];

  // Peer-to-peer.
  /** Whether device `device` can reach device `owner`'s memory peer to peer (hardware.pcieSwitch, hardware.peerToPeer). */
  canReachPeer(device: number, owner: number): boolean;
  /**
   * Prepares `pages` peer mappings of device `owner`'s memory for device `device` (through
   * the root complex, dma_map_resource of each page in the IOMMU); the caller then writes
   * the PTEs with DEV_PEER. Returns when done.
   */
  mapPeerPages(device: number, owner: number, pages: number, t: Ps): Ps;

  // Data movement.
  /** Copies [offset, offset + bytes) of a region between system memory and the device's copy of it (its frames), on the copy engines. */
  copy(device: number, toDevice: boolean, region: Region, offset: number, bytes: number, t: Ps): Ps;
  /**
   * Copies [offset, offset + bytes) of a region from device `from`'s copy of it to device
   * `to`'s, on `from`'s copy engines across the peer route (canReachPeer(from, to) must hold).
   * Through the root complex, `to`'s pages are first DMA-mapped for `from` where they are not yet (peer-copy-mappings.ts).
   */
  copyToPeer(from: number, to: number, region: Region, offset: number, bytes: number, t: Ps): Ps;
  /** Counts bytes copied from host memory to `device` because the device a peer copy would come from cannot reach it. */
  countNoPeerRouteCopy(device: number, bytes: number): void;
}

/** Bytes of one device page-table entry (NVIDIA's MMU formats since Pascal, open-gpu-doc). */
const PTE_BYTES = 8;
/** 4 KiB pages in a 2 MiB VA block, the UVM driver's unit of fault service. */
export const VA_BLOCK_PAGES = 512;

export class Driver implements DriverContext {
  readonly timing: DriverTiming;
  readonly frames: FrameAllocators;
  /** The hugetlb pool that MAP_HUGETLB regions take their huge pages from (hugetlb.ts). */
  readonly hugetlb: HugetlbPool;
  /** The IOMMU mappings of destination frames that peer copies through the root complex use. */
  readonly peerCopyMappings: PeerCopyMappings;

  constructor(
    readonly m: Machine,
    config: DriverConfig,
    /** Devices translate through the IOMMU and the CPU page table (ATS, PRI): no device page tables. */
    readonly sharedVirtualAddressing: boolean,
    private readonly onCpuPteChange: (region: Region, page: number, t: Ps, pages: number) => Ps,
    private readonly onSpecialCpuFault: (region: Region, page: number, write: boolean, t: Ps) => Ps,
    /** The strategy's placement of newly allocated pages (Strategy.placeNewPages), if it has one. */
    private readonly onNewPages: ((region: Region, firstPage: number, pages: number, t: Ps) => Ps) | null = null,
  ) {
    this.timing = {
      perFault: nsToPs(config.perFaultNs),
      perPage: nsToPs(config.perPageNs),
      // With the IOMMU in passthrough, dma_map_page only computes an address.
      dmaMapPerPage: m.config.iommu.mode === 'translate' ? nsToPs(config.dmaMapPerPageNs) : 0,
      invalidate: nsToPs(config.invalidateNs),
      shootdown: nsToPs(config.shootdownNs),
      perVaBlock: nsToPs(config.perVaBlockNs),
      ptUpdateBytes: config.ptUpdateBytes,
      pageRequest: m.iommu.pageRequestPs,
    };
    this.frames = new FrameAllocators(m.devices.map((d) => d.dram.capacityBytes));
    this.hugetlb = new HugetlbPool(m.config.cpu.memory.hugetlbPool);
    this.peerCopyMappings = new PeerCopyMappings(m, this.timing.dmaMapPerPage);
  }

  get devices(): readonly Device[] {
    return this.m.devices;
  }
  get regions(): readonly Region[] {
    return this.m.space.regions;
  }
  get residency(): Residency {
    return this.m.residency;
  }

  cpuPte(page: number): CpuPte {
    return this.m.space.cpuPte.get(page);
  }
  prot(page: number): number {
    return this.m.space.prot.get(page);
  }
  pageFlags(page: number): number {
    return this.m.space.flags.get(page);
  }
  describePage(page: number): string {
    return this.m.space.describePage(page);
  }

  setCpuPte(page: number, entry: CpuPte): void {
    const m = this.m;
    if (m.space.cpuPte.get(page) === entry) return;
    m.space.cpuPte.set(page, entry);
    m.cpuTlb.invalidatePage(page);
  }

  faultInPage(region: Region, page: number, write: boolean, t: Ps): Ps {
    return faultInPage(this, region, page, write, t, true);
  }

  /** The CPU's own page fault (the machine's MemoryManagerPort). */
  cpuFault(region: Region, page: number, write: boolean, t: Ps): Ps {
    return faultInPage(this, region, page, write, t, false);
  }

  /** Called by the core MM when CPU PTEs change under a mirror (copy-on-write of a page, or of a whole hugetlb page). */
  cpuPteChanged(region: Region, page: number, t: Ps, pages = 1): Ps {
    return this.onCpuPteChange(region, page, t, pages);
  }

  /** Called by the core MM when a fault allocated pages in system memory: the strategy may place them elsewhere. */
  placeNewPages(region: Region, firstPage: number, pages: number, t: Ps): Ps {
    return this.onNewPages === null ? t : this.onNewPages(region, firstPage, pages, t);
  }

  /** Called by the core MM for a CPU fault on a special entry (device-private, -exclusive, migration, pinned). */
  specialCpuFault(region: Region, page: number, write: boolean, t: Ps): Ps {
    this.m.counters.cpuSpecialFaults++;
    return this.onSpecialCpuFault(region, page, write, t);
  }

  countHmmRangeFaultRetry(): void {
    this.m.counters.hmmRangeFaultRetries++;
  }

  countMigration(device: number, toDevice: boolean, pages: number, bytes = pages * PAGE_BYTES): void {
    if (pages === 0) return;
    const k = this.m.devices[device].counters;
    if (toDevice) {
      k.pagesMigratedToDevice += pages;
      k.bytesMigratedToDevice += bytes;
      k.migrationsToDevice++;
    } else {
      k.pagesMigratedToHost += pages;
      k.bytesMigratedToHost += bytes;
      k.migrationsToHost++;
    }
  }

  countEviction(device: number): void {
    this.m.devices[device].counters.evictions++;
  }

  countThrashing(device: number): void {
    this.m.devices[device].counters.thrashingEvents++;
  }

  countPrefetch(device: number, pages: number): void {
    this.m.devices[device].counters.prefetchedPages += pages;
  }

  countDeviceRange(device: number, created: boolean): void {
    const k = this.m.devices[device].counters;
    if (created) k.deviceRangesCreated++;
    else k.deviceRangesDestroyed++;
  }

  countMigrationFallback(device: number, pages: number): void {
    this.m.devices[device].counters.migrationFallbackPages += pages;
  }

  isDmaMapped(page: number): boolean {
    return this.m.dmaMapped.get(page) !== 0;
  }

  dmaMap(firstPage: number, pages: number, t: Ps): Ps {
    const mapped = this.m.dmaMapped;
    let n = 0;
    for (let p = firstPage; p < firstPage + pages; p++) {
      if (mapped.get(p) === 0) {
        mapped.set(p, 1);
        n++;
      }
    }
    this.m.counters.dmaMappedPages += n;
    return t + n * this.timing.dmaMapPerPage;
  }

  dmaUnmap(firstPage: number, pages: number, t: Ps): Ps {
    return dmaUnmap(this.m, firstPage, pages, t);
  }

  pinHostPages(region: Region, t: Ps): Ps {
    return pinHostPages(this, region, t);
  }

  writeDevicePtes(device: number, firstPage: number, bits: Uint8Array, count: number, t: Ps): Ps {
    const changed = this.setDevicePtes(device, firstPage, bits, count);
    const blocks =
      changed === 0
        ? 0
        : Math.floor((firstPage + count - 1) / VA_BLOCK_PAGES) - Math.floor(firstPage / VA_BLOCK_PAGES) + 1;
    return this.pushPteUpdates(device, blocks, changed, t);
  }

  /** Sets PTEs as writeDevicePtes does, without the link write; returns how many device pages changed. */
  setDevicePtes(device: number, firstPage: number, bits: Uint8Array, count: number, bitsOffset = 0): number {
    const dev = this.m.devices[device];
    const pte = dev.pte;
    const shift = dev.pageShift;
    let changed = 0;
    let lastDv = -1;
    let replaced = false;
    const flags = this.m.space.flags;
    // Mapping pages of which nothing was valid (a first fault) has nothing cached to drop.
    const cached = shift > 0 && anyValidDevicePage(pte, firstPage, count, shift);
    for (let i = 0; i < count; i++) {
      const p = firstPage + i;
      let b = bits[bitsOffset + i] & DEV_ACCESS;
      // A page a forked child shares is write-protected for every mapping of it (fork's
      // read-only device-private entries included): a device write must fault and copy it.
      if ((b & DEV_WRITE) !== 0 && (flags.get(p) & PAGE_COW) !== 0) b &= ~DEV_WRITE;
      const old = pte.get(p) & DEV_ACCESS;
      if (old !== b) {
        const dv = Math.floor(p / (1 << shift));
        if (dv !== lastDv) changed++;
        lastDv = dv;
        // TLBs cache valid entries only: an entry that was not valid cannot be cached.
        if (old !== 0) replaced = true;
      }
      pte.set(p, b);
    }
    if (shift > 0) markWholeDevicePages(pte, firstPage, count, shift);
    this.m.hooks.devicePtesWritten?.(device, firstPage, count);
    // A changed entry may be cached with its old permission (a read-only entry before a
    // write upgrade), and a device page that became whole or split changes its tag:
    // drop the device's cached translations of these pages.
    if (replaced || cached) dropCachedTranslations(dev, firstPage, count);
    return changed;
  }

  /**
   * The driver pushes page-table updates to a device in one write: `blocks` 2 MiB VA
   * blocks' update headers and TLB invalidates, and `entries` 8-byte PTEs.
   */
  pushPteUpdates(device: number, blocks: number, entries: number, t: Ps): Ps {
    if (blocks === 0) return t;
    return this.m.devices[device].link.write(t, H2D, blocks * this.timing.ptUpdateBytes + entries * PTE_BYTES);
  }

  devicePte(device: number, page: number): number {
    if (this.sharedVirtualAddressing) return cpuSidePermission(this.m, page);
    return this.m.devices[device].pte.get(page) & DEV_ACCESS;
  }

  unmapFromDevices(firstPage: number, pages: number, t: Ps): Ps {
    // With shared virtual addressing the IOTLB and the ATCs hold translations of the CPU
    // page table itself: the IOMMU's notifier drops them (no DMA mapping is involved).
    if (this.sharedVirtualAddressing) return invalidateAts(this.m, firstPage, pages, t);
    let done = t;
    for (const dev of this.m.devices) done = Math.max(done, unmapDevicePages(this, dev, firstPage, pages, t));
    return dmaUnmap(this.m, firstPage, pages, done);
  }

  notify(region: Region, firstPage: number, pages: number, t: Ps): Ps {
    return notifierInvalidate(this, region, firstPage, pages, t);
  }

  allocFrame(device: number, t: Ps): number {
    const frame = this.frames.of(device).allocFrame();
    if (frame >= 0) this.accountMemory(device, t);
    return frame;
  }

  freeFrame(device: number, frame: number, t: Ps): void {
    this.peerCopyMappings.unmapFrames(device, frame, 1, t);
    this.frames.of(device).freeFrame(frame);
    this.accountMemory(device, t);
  }

  freeBytes(device: number): number {
    return this.frames.of(device).freeBytes;
  }

  allocChunk(device: number, t: Ps): number {
    const chunk = this.frames.of(device).allocChunk(t);
    if (chunk >= 0) this.accountMemory(device, t);
    return chunk;
  }

  freeChunk(device: number, chunk: number, t: Ps): void {
    this.peerCopyMappings.unmapFrames(device, chunk * VA_BLOCK_PAGES, VA_BLOCK_PAGES, t);
    this.frames.of(device).freeChunk(chunk);
    this.accountMemory(device, t);
  }

  touchChunk(device: number, chunk: number, t: Ps): void {
    this.frames.of(device).touch(chunk, t);
  }

  leastRecentChunks(device: number, n: number): number[] {
    return this.frames.of(device).victims(n);
  }

  private accountMemory(device: number, t: Ps): void {
    const dev = this.m.devices[device];
    const used = this.frames.of(device).usedBytes;
    if (used > dev.memoryUsed) this.m.allocateDeviceMemory(dev, t, used - dev.memoryUsed);
    else this.m.freeDeviceMemory(dev, t, dev.memoryUsed - used);
  }

  canReachPeer(device: number, owner: number): boolean {
    return this.m.peerRoutes[device][owner] !== null;
  }

  mapPeerPages(device: number, owner: number, pages: number, t: Ps): Ps {
    this.m.devices[device].counters.p2pMappedPages += pages;
    // Across a switch the peer is reached by bus address: nothing to map in the IOMMU.
    return this.m.peerRoutes[device][owner]?.viaHostBridge ? t + pages * this.timing.dmaMapPerPage : t;
  }

  copy(device: number, toDevice: boolean, region: Region, offset: number, bytes: number, t: Ps): Ps {
    return copyRegion(this.m, this.m.devices[device], toDevice, region, offset, bytes, t);
  }

  copyToPeer(from: number, to: number, region: Region, offset: number, bytes: number, t: Ps): Ps {
    const tt = this.peerCopyMappings.map(from, to, region.basePage, offset, bytes, t);
    return copyPeer(this.m, this.m.devices[from], this.m.devices[to], region, offset, bytes, tt);
  }

  countNoPeerRouteCopy(device: number, bytes: number): void {
    this.m.devices[device].counters.copyNoPeerRouteBytes += bytes;
  }
}
