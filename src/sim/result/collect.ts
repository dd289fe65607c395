/** Turns a finished machine into a RunResult: metrics, series, histograms, attribution. */
import type { Ps } from '../engine/time.js';
import type { DeviceCounters } from '../machine/counters.js';
import type { Device } from '../machine/device.js';
import type { Machine } from '../machine/machine.js';
import type { RunObservers } from './observers.js';
import { runAttribution } from './attribution.js';
import { MODEL_VERSION } from './version.js';
import { type Metrics, type OpReport, type RunResult, type Snapshot } from './types.js';

/** What the result names besides the machine: the experiment's identity. */
export interface RunIdentity {
  name: string;
  strategy: string;
  workload: string;
  seed: number;
}

export function collectResult(
  m: Machine,
  id: RunIdentity,
  observers: RunObservers,
  endPs: Ps,
  ops: OpReport[],
  snapshots: Snapshot[],
): RunResult {
  const metricMap = metrics(m, observers, endPs);
  if (id.workload === 'scripted')
    metricMap['workload.unexpected_outcomes'] = { value: m.counters.unexpectedOutcomes, unit: 'ops' };
  return {
    modelVersion: MODEL_VERSION,
    experimentName: id.name,
    strategy: id.strategy,
    workload: id.workload,
    seed: id.seed,
    metrics: metricMap,
    series: observers.series(endPs),
    histograms: observers.histograms(),
    attribution: runAttribution(m),
    ops,
    snapshots,
  };
}

/** The device-scoped metrics of some devices together: one device's, or all devices' sums. */
function deviceMetrics(
  devs: readonly Device[],
  endPs: Ps,
  put: (name: string, value: number, unit: string) => void,
  peerCopies: boolean,
): void {
  const ns = endPs / 1000;
  const sum = (f: (k: DeviceCounters) => number) => devs.reduce((a, d) => a + f(d.counters), 0);
  const over = (f: (d: Device) => number) => devs.reduce((a, d) => a + f(d), 0);
  const bytes = sum((k) => k.bytes);
  put(
    'device.translations',
    sum((k) => k.translations),
    'translations',
  );
  put(
    'device.accesses',
    sum((k) => k.accesses),
    'lines',
  );
  put('device.bytes', bytes, 'bytes');
  put(
    'device.local_bytes',
    sum((k) => k.localBytes),
    'bytes',
  );
  put(
    'device.remote_bytes',
    sum((k) => k.remoteBytes),
    'bytes',
  );
  put(
    'p2p.bytes',
    sum((k) => k.p2pBytes),
    'bytes',
  );
  put(
    'p2p.mapped_pages',
    sum((k) => k.p2pMappedPages),
    'pages',
  );
  put(
    'p2p.unmapped_pages',
    sum((k) => k.p2pUnmappedPages),
    'pages',
  );
  put('device.bandwidth_GBps', ns > 0 ? bytes / ns : 0, 'GB/s');
  // Over the phases the device worked in: a run with long CPU phases is not a slow device.
  const activeNs = devs.reduce((a, d) => Math.max(a, d.counters.activePs), 0) / 1000;
  put('device.active_time_ns', activeNs, 'ns');
  put('device.bandwidth_active_GBps', activeNs > 0 ? bytes / activeNs : 0, 'GB/s');
  put(
    'device.l1_tlb_misses',
    over((d) => d.l1Tlbs.reduce((a, t) => a + t.misses, 0)),
    'misses',
  );
  put(
    'device.tlb_misses',
    over((d) => d.l2Tlb.misses),
    'misses',
  );
  put(
    'device.page_faults',
    sum((k) => k.pageFaults),
    'faults',
  );
  put(
    'device.faults_coalesced',
    sum((k) => k.faultsCoalesced),
    'faults',
  );
  put(
    'device.fault_batches',
    sum((k) => k.faultBatches),
    'batches',
  );
  put(
    'device.fault_buffer_full',
    sum((k) => k.faultBufferFull),
    'faults',
  );
  const remoteReads = sum((k) => k.remoteReads);
  put(
    'device.remote_read_latency_mean_ns',
    remoteReads > 0 ? sum((k) => k.remoteReadPs) / remoteReads / 1000 : 0,
    'ns',
  );
  put(
    'device.tag_stalls',
    over((d) => d.tags.stalls),
    'requests',
  );
  put('device.tag_wait_ns', over((d) => d.tags.waitPs) / 1000, 'ns');
  put(
    'device.kernel_launches',
    sum((k) => k.kernelLaunches),
    'launches',
  );
  put(
    'device.memory_peak_bytes',
    over((d) => d.memoryPeak),
    'bytes',
  );
  put(
    'iommu.ats_requests',
    sum((k) => k.atsRequests),
    'requests',
  );
  put(
    'iommu.ats_huge_translations',
    sum((k) => k.atsHugeTranslations),
    'requests',
  );
  const stat = (f: (d: Device) => number) => over(f);
  put(
    'link.h2d_bytes',
    stat((d) => d.link.stats.payloadBytes[0]),
    'bytes',
  );
  put(
    'link.d2h_bytes',
    stat((d) => d.link.stats.payloadBytes[1]),
    'bytes',
  );
  put(
    'link.h2d_wire_bytes',
    stat((d) => d.link.stats.wireBytes[0]),
    'bytes',
  );
  put(
    'link.d2h_wire_bytes',
    stat((d) => d.link.stats.wireBytes[1]),
    'bytes',
  );
  // Utilisation of the busiest link: with one device, its link's.
  const busiest = (dir: 0 | 1) => devs.reduce((a, d) => Math.max(a, d.link.stats.busyPs[dir]), 0);
  put('link.h2d_utilization', endPs > 0 ? busiest(0) / endPs : 0, 'fraction');
  put('link.d2h_utilization', endPs > 0 ? busiest(1) / endPs : 0, 'fraction');
  put(
    'mm.tlb_shootdowns',
    sum((k) => k.tlbShootdowns),
    'shootdowns',
  );
  put(
    'mm.fault_batch_retries',
    sum((k) => k.batchRetries),
    'faults',
  );
  const batches = sum((k) => k.faultBatches);
  put('mm.fault_batch_service_mean_ns', batches > 0 ? sum((k) => k.batchServicePs) / batches / 1000 : 0, 'ns');
  put(
    'mm.faults_already_serviced',
    sum((k) => k.faultsAlreadyServiced),
    'faults',
  );
  put(
    'mm.va_blocks_serviced',
    sum((k) => k.vaBlocksServiced),
    'blocks',
  );
  put(
    'mm.pages_migrated_to_device',
    sum((k) => k.pagesMigratedToDevice),
    'pages',
  );
  put(
    'mm.pages_migrated_to_host',
    sum((k) => k.pagesMigratedToHost),
    'pages',
  );
  put(
    'mm.bytes_to_device',
    sum((k) => k.bytesMigratedToDevice),
    'bytes',
  );
  put(
    'mm.bytes_to_host',
    sum((k) => k.bytesMigratedToHost),
    'bytes',
  );
  put(
    'mm.migration_fallback_pages',
    sum((k) => k.migrationFallbackPages),
    'pages',
  );
  put(
    'mm.migrations_to_device',
    sum((k) => k.migrationsToDevice),
    'migrations',
  );
  put(
    'mm.migrations_to_host',
    sum((k) => k.migrationsToHost),
    'migrations',
  );
  put(
    'mm.evictions',
    sum((k) => k.evictions),
    'chunks',
  );
  put(
    'mm.thrashing_events',
    sum((k) => k.thrashingEvents),
    'blocks',
  );
  put(
    'mm.prefetched_pages',
    sum((k) => k.prefetchedPages),
    'pages',
  );
  put(
    'mm.device_ranges_created',
    sum((k) => k.deviceRangesCreated),
    'ranges',
  );
  put(
    'mm.device_ranges_destroyed',
    sum((k) => k.deviceRangesDestroyed),
    'ranges',
  );
  put(
    'copy.count',
    sum((k) => k.copies),
    'copies',
  );
  put(
    'copy.h2d_bytes',
    sum((k) => k.copyH2DBytes),
    'bytes',
  );
  put(
    'copy.d2h_bytes',
    sum((k) => k.copyD2HBytes),
    'bytes',
  );
  // Bytes over the time the copies took, launch included: what cudaMemcpy timing reports.
  const rate = (bytes: number, ps: number) => (ps > 0 ? (bytes * 1000) / ps : 0);
  put(
    'copy.h2d_GBps',
    rate(
      sum((k) => k.copyH2DBytes),
      sum((k) => k.copyH2DPs),
    ),
    'GB/s',
  );
  put(
    'copy.d2h_GBps',
    rate(
      sum((k) => k.copyD2HBytes),
      sum((k) => k.copyD2HPs),
    ),
    'GB/s',
  );
  // Only runs that copied between devices (explicit-copy's peerCopies, gmem's migrations between devices) have these: others keep their metric set.
  if (peerCopies) {
    put(
      'copy.peer_bytes',
      sum((k) => k.copyPeerBytes),
      'bytes',
    );
    put(
      'copy.peer_GBps',
      rate(
        sum((k) => k.copyPeerBytes),
        sum((k) => k.copyPeerPs),
      ),
      'GB/s',
    );
    put(
      'copy.no_peer_route_h2d_bytes',
      sum((k) => k.copyNoPeerRouteBytes),
      'bytes',
    );
    put(
      'copy.peer_dma_mapped_pages',
      sum((k) => k.peerCopyDmaMappedPages),
      'pages',
    );
    put(
      'copy.peer_dma_unmapped_pages',
      sum((k) => k.peerCopyDmaUnmappedPages),
      'pages',
    );
  }
  const rowHits = over((d) => d.dram.rowHits);
  const rows = rowHits + over((d) => d.dram.rowMisses);
  put('dram.device.row_hits', rowHits, 'accesses');
  put('dram.device.row_misses', rows - rowHits, 'accesses');
  put('dram.device.row_hit_rate', rows > 0 ? rowHits / rows : 0, 'fraction');
  put(
    'dram.device.read_bytes',
    over((d) => d.dram.readBytes),
    'bytes',
  );
  put(
    'dram.device.write_bytes',
    over((d) => d.dram.writeBytes),
    'bytes',
  );
  const reads = over((d) => d.dram.reads);
  put('dram.device.read_latency_mean_ns', reads > 0 ? over((d) => d.dram.readLatencyPs) / reads / 1000 : 0, 'ns');
  // Over the span the DRAM was in use, from the first access's issue to the last one's data.
  const first = devs.reduce((a, d) => Math.min(a, d.dram.firstIssuePs), Infinity);
  const last = devs.reduce((a, d) => Math.max(a, d.dram.lastDonePs), 0);
  const dramBytes = over((d) => d.dram.readBytes + d.dram.writeBytes);
  put('dram.device.bandwidth_GBps', last > first ? (dramBytes * 1000) / (last - first) : 0, 'GB/s');
}

/**
 * Metrics: machine-wide names (`device.*` are totals over devices), then each device's
 * own breakdown under its name (`gpu0.device.page_faults`, `gpu0.link.h2d_bytes`).
 */
function metrics(m: Machine, observers: RunObservers, endPs: Ps): Metrics {
  const faultLatency = observers.faultLatency;
  const k = m.counters;
  const ns = endPs / 1000;
  const out: Metrics = {};
  const put = (name: string, value: number, unit: string) => {
    out[name] = { value, unit };
  };
  put('sim.time_ns', ns, 'ns');
  put('sim.events', m.queue.popped + k.inlineEvents, 'events');
  put('cpu.translations', k.cpuTranslations, 'translations');
  put('cpu.accesses', k.cpuAccesses, 'lines');
  put('cpu.bytes', k.cpuBytes, 'bytes');
  put('cpu.tlb_misses', m.cpuTlb.misses, 'misses');
  put('cpu.page_faults', k.cpuPageFaults, 'faults');
  put('cpu.cow_faults', k.cpuCowFaults, 'faults');
  put('cpu.huge_page_faults', k.hugePageFaults, 'faults');
  put('cpu.special_entry_faults', k.cpuSpecialFaults, 'faults');
  put('mm.exclusive_grants', k.exclusiveGrants, 'pages');
  put('mm.exclusive_revocations', k.exclusiveRevocations, 'pages');
  put('mm.longterm_pins', k.longtermPins, 'pages');
  put('mm.device_pins', k.devicePins, 'pages');
  put('cpu.device_memory_bytes', k.cpuDeviceMemoryBytes, 'bytes');
  const peerCopies = m.devices.some((d) => d.counters.copyPeerBytes + d.counters.copyNoPeerRouteBytes > 0);
  deviceMetrics(m.devices, endPs, put, peerCopies);
  put('device.fault_latency_mean_ns', faultLatency.count ? faultLatency.sum / faultLatency.count : 0, 'ns');
  put('iommu.iotlb_hits', m.iommu.iotlbHits, 'hits');
  put('iommu.iotlb_misses', m.iommu.iotlbMisses, 'misses');
  put('iommu.walks', m.iommu.walks, 'walks');
  put('iommu.invalidation_commands', m.iommu.invalidationCommands, 'commands');
  put('iommu.invalidation_syncs', m.iommu.invalidations, 'syncs');
  put('iommu.faults', k.iommuFaults, 'faults');
  // Under shared virtual addressing every device fault is a PRI page request, unless the
  // device had its Outstanding Page Request Allocation in flight and held it back.
  const pri = m.translation.viaIommu
    ? m.devices.reduce((a, d) => a + d.counters.pageFaults - d.counters.faultBufferFull, 0)
    : 0;
  put('iommu.pri_requests', pri, 'requests');
  if (m.switchUpstream !== null) {
    const up = m.switchUpstream.stats;
    put('switch.upstream_h2d_bytes', up.payloadBytes[0], 'bytes');
    put('switch.upstream_d2h_bytes', up.payloadBytes[1], 'bytes');
    put('switch.upstream_h2d_utilization', endPs > 0 ? up.busyPs[0] / endPs : 0, 'fraction');
    put('switch.upstream_d2h_utilization', endPs > 0 ? up.busyPs[1] / endPs : 0, 'fraction');
  }
  put('mm.notifier_invalidations', k.notifierInvalidations, 'callbacks');
  put('mm.hmm_range_fault_retries', k.hmmRangeFaultRetries, 'retries');
  put('mm.dma_mapped_pages', k.dmaMappedPages, 'pages');
  put('mm.driver_faulted_pages', k.driverFaultedPages, 'pages');
  put('mm.pinned_pages', k.pinnedPages, 'pages');
  put('mm.cpu_faults_on_device_pages', k.cpuFaultsOnDevicePages, 'faults');
  put('mm.access_counter_notifications', m.accessCounters?.notifications ?? 0, 'events');
  put('dram.system.read_bytes', m.sysmem.readBytes, 'bytes');
  put('dram.system.write_bytes', m.sysmem.writeBytes, 'bytes');
  const cache = m.pageCache;
  // Only runs with files have page-cache metrics: runs without keep their metric set.
  if (cache.files.length > 0) {
    put('file.pages_dirtied', cache.pagesDirtied, 'pages');
    put('file.pages_written_back', cache.pagesWrittenBack, 'pages');
    put('file.dirty_pages', cache.dirtyPages, 'pages');
    put('file.fault_around_pages', cache.faultAroundPages, 'pages');
    put('file.read_bytes', cache.readBytes, 'bytes');
    put('file.write_bytes', cache.writeBytes, 'bytes');
  }
  for (const dev of m.devices)
    deviceMetrics([dev], endPs, (name, value, unit) => put(`${dev.name}.${name}`, value, unit), peerCopies);
  return out;
}
