/** Turns a finished machine into a RunResult: metrics, series, histograms, attribution. */
import type { Ps } from '../engine/time.js';
import { CATEGORIES, AGENT_CPU, AGENT_DEVICE } from '../machine/contexts.js';
import type { Machine } from '../machine/machine.js';
import type { RunObservers } from './observers.js';
import { MODEL_VERSION } from '../version.js';
import {
  ATTRIBUTION_CATEGORIES,
  type Attribution,
  type Metrics,
  type OpReport,
  type RunResult,
  type Snapshot,
} from './types.js';

export function collectResult(
  m: Machine,
  observers: RunObservers,
  endPs: Ps,
  ops: OpReport[],
  snapshots: Snapshot[],
): RunResult {
  const cfg = m.config;
  return {
    modelVersion: MODEL_VERSION,
    experimentName: cfg.name,
    strategy: cfg.strategy.impl,
    workload: cfg.workload.impl,
    seed: cfg.seed,
    metrics: metrics(m, observers, endPs),
    series: observers.series(endPs),
    histograms: observers.histograms(),
    attribution: [attribution(m, 'cpu', AGENT_CPU), attribution(m, cfg.hardware.device.name, AGENT_DEVICE)],
    ops,
    snapshots,
  };
}

function metrics(m: Machine, observers: RunObservers, endPs: Ps): Metrics {
  const faultLatency = observers.faultLatency;
  const k = m.counters;
  const ns = endPs / 1000;
  const link = m.link.stats;
  const l1Misses = m.l1Tlbs.reduce((sum, t) => sum + t.misses, 0);
  const rows = m.dram.rowHits + m.dram.rowMisses;
  const out: Metrics = {};
  const put = (name: string, value: number, unit: string) => {
    out[name] = { value, unit };
  };
  put('sim.time_ns', ns, 'ns');
  put('sim.events', m.queue.popped + k.inlineEvents, 'events');
  put('cpu.accesses', k.cpuAccesses, 'lines');
  put('cpu.bytes', k.cpuBytes, 'bytes');
  put('cpu.tlb_misses', m.cpuTlb.misses, 'misses');
  put('cpu.page_faults', k.cpuPageFaults, 'faults');
  put('cpu.cow_faults', k.cpuCowFaults, 'faults');
  put('device.accesses', k.deviceAccesses, 'lines');
  put('device.bytes', k.deviceBytes, 'bytes');
  put('device.local_bytes', k.deviceLocalBytes, 'bytes');
  put('device.remote_bytes', k.deviceRemoteBytes, 'bytes');
  put('device.bandwidth_GBps', ns > 0 ? k.deviceBytes / ns : 0, 'GB/s');
  put('device.l1_tlb_misses', l1Misses, 'misses');
  put('device.tlb_misses', m.l2Tlb.misses, 'misses');
  put('device.page_faults', k.devicePageFaults, 'faults');
  put('device.faults_coalesced', k.deviceFaultsCoalesced, 'faults');
  put('device.fault_batches', k.deviceFaultBatches, 'batches');
  put('device.fault_buffer_full', k.deviceFaultBufferFull, 'faults');
  put('device.fault_latency_mean_ns', faultLatency.count ? faultLatency.sum / faultLatency.count : 0, 'ns');
  put('device.kernel_launches', k.kernelLaunches, 'launches');
  put('device.memory_peak_bytes', m.deviceMemoryPeak, 'bytes');
  put('iommu.iotlb_hits', m.iommu.iotlbHits, 'hits');
  put('iommu.iotlb_misses', m.iommu.iotlbMisses, 'misses');
  put('iommu.walks', m.iommu.walks, 'walks');
  put('iommu.invalidation_commands', m.iommu.invalidationCommands, 'commands');
  put('iommu.invalidation_syncs', m.iommu.invalidations, 'syncs');
  put('iommu.ats_requests', k.atsRequests, 'requests');
  put('link.h2d_bytes', link.payloadBytes[0], 'bytes');
  put('link.d2h_bytes', link.payloadBytes[1], 'bytes');
  put('link.h2d_wire_bytes', link.wireBytes[0], 'bytes');
  put('link.d2h_wire_bytes', link.wireBytes[1], 'bytes');
  put('link.h2d_utilization', ns > 0 ? link.busyPs[0] / endPs : 0, 'fraction');
  put('link.d2h_utilization', ns > 0 ? link.busyPs[1] / endPs : 0, 'fraction');
  put('mm.notifier_invalidations', k.notifierInvalidations, 'callbacks');
  put('mm.tlb_shootdowns', k.tlbShootdowns, 'shootdowns');
  put('mm.hmm_range_fault_retries', k.hmmRangeFaultRetries, 'retries');
  put('mm.fault_batch_retries', k.batchRetries, 'faults');
  put('mm.dma_mapped_pages', k.dmaMappedPages, 'pages');
  put('mm.driver_faulted_pages', k.driverFaultedPages, 'pages');
  put('mm.pinned_pages', k.pinnedPages, 'pages');
  put('copy.count', k.copies, 'copies');
  put('copy.h2d_bytes', k.copyH2DBytes, 'bytes');
  put('copy.d2h_bytes', k.copyD2HBytes, 'bytes');
  put('dram.device.row_hits', m.dram.rowHits, 'accesses');
  put('dram.device.row_misses', m.dram.rowMisses, 'accesses');
  put('dram.device.row_hit_rate', rows > 0 ? m.dram.rowHits / rows : 0, 'fraction');
  put('dram.device.read_bytes', m.dram.readBytes, 'bytes');
  put('dram.device.write_bytes', m.dram.writeBytes, 'bytes');
  put('dram.system.read_bytes', m.sysmem.readBytes, 'bytes');
  put('dram.system.write_bytes', m.sysmem.writeBytes, 'bytes');
  if (cfgIsScripted(m)) put('workload.unexpected_outcomes', k.unexpectedOutcomes, 'ops');
  return out;
}

function cfgIsScripted(m: Machine): boolean {
  return m.config.workload.impl === 'scripted';
}

function attribution(m: Machine, name: string, agent: number): Attribution {
  const ctxs = m.contexts;
  const first = ctxs.firstOf(agent);
  const n = ctxs.sizeOf(agent);
  const sums = new Float64Array(CATEGORIES);
  for (let c = first; c < first + n; c++) {
    for (let k = 0; k < CATEGORIES; k++) sums[k] += ctxs.attribution[c * CATEGORIES + k];
  }
  const result = {} as Attribution['ns'];
  let total = 0;
  ATTRIBUTION_CATEGORIES.forEach((cat, k) => {
    result[cat] = sums[k] / n / 1000;
    total += result[cat];
  });
  return { agent: name, contexts: n, totalNs: total, ns: result };
}
