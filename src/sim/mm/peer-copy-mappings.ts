/**
 * The IOMMU mappings that copies between devices through the root complex use: the source's
 * copy engines write to the destination's BAR pages, which must be DMA-mapped for the
 * source (dma_map_resource) when the IOMMU translates. As CUDA does on
 * cudaDeviceEnablePeerAccess / first use, a page is mapped once per (source, destination)
 * pair the first time a copy writes it, at the driver's per-page DMA-map cost, and kept;
 * the mapping goes (its IOTLB entry invalidated) when the destination frame is freed, so
 * that no entry outlives the memory it maps. Across a switch the peer is reached by bus
 * address: nothing to map.
 */
import type { Ps } from '../engine/time.js';
import type { Machine } from '../machine/machine.js';
import { peerIova } from '../machine/peer-path.js';
import { pageIndexOf } from '../machine/page-state.js';

export class PeerCopyMappings {
  /** Per source device: the IOMMU keys (peerIova) of the destination frames it has mapped. */
  private readonly bySource: Set<number>[];
  private total = 0;
  /** Keys an unmap drops (reused). */
  private readonly keys: number[] = [];

  constructor(
    private readonly m: Machine,
    private readonly dmaMapPerPage: Ps,
  ) {
    this.bySource = m.devices.map(() => new Set<number>());
  }

  /**
   * Before a copy of bytes [offset, offset + bytes) of the region at `basePage` from device
   * `from` to device `to`: maps the destination frames `from` has not mapped yet; returns
   * when done.
   */
  map(from: number, to: number, basePage: number, offset: number, bytes: number, t: Ps): Ps {
    const m = this.m;
    const route = m.peerRoutes[from][to];
    if (route === null || !route.viaHostBridge || m.iommu.passthrough || bytes <= 0) return t;
    const firstPage = basePage + pageIndexOf(offset);
    const endPage = basePage + pageIndexOf(offset + bytes - 1) + 1;
    const mapped = this.bySource[from];
    let n = 0;
    for (let p = firstPage; p < endPage; p++) {
      const key = peerIova(to, m.residency.frame(to, p));
      if (mapped.has(key)) continue;
      mapped.add(key);
      n++;
    }
    this.total += n;
    m.devices[from].counters.peerCopyDmaMappedPages += n;
    return t + n * this.dmaMapPerPage;
  }

  /**
   * Device `owner`'s frames [first, first + count) are being freed: every source's mapping
   * of them goes (dma_unmap_resource), their IOTLB entries invalidated from `t`. The free
   * does not wait for the invalidation (as with Linux's deferred, flush-queue IOMMU
   * invalidation); later invalidations queue behind it.
   */
  unmapFrames(owner: number, first: number, count: number, t: Ps): void {
    if (this.total === 0) return;
    const keys = this.keys;
    keys.length = 0;
    for (let s = 0; s < this.bySource.length; s++) {
      const mapped = this.bySource[s];
      if (mapped.size === 0) continue;
      let n = 0;
      for (let f = first; f < first + count; f++) {
        const key = peerIova(owner, f);
        if (mapped.delete(key)) {
          keys.push(key);
          n++;
        }
      }
      this.m.devices[s].counters.peerCopyDmaUnmappedPages += n;
    }
    this.total -= keys.length;
    if (keys.length > 0) this.m.iommu.invalidateKeys(t, keys);
  }
}
