/** Event counts of a run, as plain number fields (fast to bump on the hot path). */
export class Counters {
  /** CPU runs translated (one STLB lookup each; a run is up to 4 KiB in one page). */
  cpuTranslations = 0;
  cpuAccesses = 0;
  cpuBytes = 0;
  cpuPageFaults = 0;
  /** Faults (CPU or driver) that mapped a 2 MiB transparent huge page. */
  hugePageFaults = 0;
  cpuCowFaults = 0;
  /** CPU faults on special entries (device-private, device-exclusive, migration, pinned) handed to the strategy. */
  cpuSpecialFaults = 0;
  /** The CPU's own faults on pages whose data lives in device memory (device-private entries). */
  cpuFaultsOnDevicePages = 0;
  /** Bytes CPU runs read or wrote in device memory across a coherent link (device-coherent pages). */
  cpuDeviceMemoryBytes = 0;
  /** CPU page faults the driver took on the device's behalf (hmm_range_fault, pinning host buffers). */
  driverFaultedPages = 0;
  notifierInvalidations = 0;
  hmmRangeFaultRetries = 0;
  dmaMappedPages = 0;
  pinnedPages = 0;
  /** Device accesses the IOMMU refused because the page was not DMA-mapped. */
  iommuFaults = 0;
  /** Context steps taken inline instead of through the heap (events all the same). */
  inlineEvents = 0;
  unexpectedOutcomes = 0;
  /** Device-exclusive grants (make_device_exclusive, per page) and their revocations by a CPU touch, fork or another device. */
  exclusiveGrants = 0;
  exclusiveRevocations = 0;
  /** Pages long-term pinned in system memory (FOLL_LONGTERM GUP) and pinned in device memory. */
  longtermPins = 0;
  devicePins = 0;
  plannedBytes = 0;
  doneBytes = 0;
}

/** Counts of one device; the `device.*` metrics are their sums over devices. */
export class DeviceCounters {
  /** Device runs translated (one TLB lookup each; a run is up to 4 KiB in one page). */
  translations = 0;
  accesses = 0;
  bytes = 0;
  localBytes = 0;
  remoteBytes = 0;
  /** Bytes this device read or wrote in another device's memory, peer to peer. */
  p2pBytes = 0;
  /** Pages this device mapped peer to peer, and peer mappings torn down (by the notifier, before the memory went). */
  p2pMappedPages = 0;
  p2pUnmappedPages = 0;
  /** Simulated time of the phases in which the device worked (the span its active-time metrics are over). */
  activePs = 0;
  /** Reads of remote memory by compute units, and their latency without the wait for a tag (from the unit and back). */
  remoteReads = 0;
  remoteReadPs = 0;
  pageFaults = 0;
  faultsCoalesced = 0;
  faultBatches = 0;
  faultBufferFull = 0;
  /** Device faults whose resolution a notifier invalidated before the batch installed it (mmu_interval_read_retry). */
  batchRetries = 0;
  /** Fault entries whose page an earlier batch had already mapped for the access: replayed without service. */
  faultsAlreadyServiced = 0;
  /** 2 MiB VA blocks serviced, summed over batches. */
  vaBlocksServiced = 0;
  /** Driver time of fault batches, from fetch to replay, summed. */
  batchServicePs = 0;
  atsRequests = 0;
  /** ATS translation completions that covered 2 MiB (a page the CPU maps with a PMD entry, under shared virtual addressing). */
  atsHugeTranslations = 0;
  /** 4 KiB pages migrated into this device's memory (migrate_vma) and back to system memory. */
  pagesMigratedToDevice = 0;
  pagesMigratedToHost = 0;
  /** Bytes of page data those migrations copied across the link (a page with no data yet moves without a copy). */
  bytesMigratedToDevice = 0;
  bytesMigratedToHost = 0;
  /** Pages a migrating strategy mapped over the link instead (shared memory, device memory full). */
  migrationFallbackPages = 0;
  /** Migration operations (a run of pages moved in one go) to this device and back. */
  migrationsToDevice = 0;
  migrationsToHost = 0;
  /** 2 MiB chunks of this device's memory evicted to make room (gmem oversubscription). */
  evictions = 0;
  /** 2 MiB blocks detected thrashing (gmem). */
  thrashingEvents = 0;
  /** Pages a prefetcher migrated besides the faulting device pages (gmem). */
  prefetchedPages = 0;
  /** Device address ranges (a GPU VMA with its interval notifier) the driver created and destroyed (hmm-mirror ad-hoc ranges). */
  deviceRangesCreated = 0;
  deviceRangesDestroyed = 0;
  tlbShootdowns = 0;
  kernelLaunches = 0;
  copies = 0;
  copyH2DBytes = 0;
  copyD2HBytes = 0;
  /** Time from each copy's launch to its last byte, summed per direction (copies that overlap count twice). */
  copyH2DPs = 0;
  copyD2HPs = 0;
  /** Bytes this device's copy engines wrote into another device's memory (explicit-copy's peerCopies), and the time those copies took. */
  copyPeerBytes = 0;
  copyPeerPs = 0;
  /** Bytes peerCopies copied from host memory to this device instead, for want of a peer route from the first device. */
  copyNoPeerRouteBytes = 0;
  /** Destination pages this device's peer copies through the root complex DMA-mapped in the IOMMU (once per page and destination), and those mappings dropped when the destination frame was freed. */
  peerCopyDmaMappedPages = 0;
  peerCopyDmaUnmappedPages = 0;
}
