/**
 * The topology builder: it creates every component from its config slice and wires them.
 * Components never hold each other; the machine holds them all, and the access paths
 * (cpu-path.ts, device-path.ts) walk through them. Reading this file tells you the whole
 * machine.
 */
import type { Experiment } from '../config/experiment.js';
import { EventQueue } from '../engine/event-queue.js';
import { clockFromMHz, cyclesToPs, nsToPs, type Clock, type Ps } from '../engine/time.js';
import { Dram } from '../hw/dram.js';
import { createAtc, Iommu } from '../hw/iommu.js';
import { createLink } from '../hw/link/index.js';
import type { Link } from '../hw/link/types.js';
import { SystemMemory } from '../hw/system-memory.js';
import { Tlb } from '../hw/tlb.js';
import { AddressSpace } from '../mm/address-space.js';
import { ByteTable, PAGE_BYTES } from '../mm/page-state.js';
import type { Strategy } from '../mm/strategies/types.js';
import type { WorkloadPlan } from '../workload/types.js';
import { Contexts } from './contexts.js';
import { FaultBuffer } from './fault-buffer.js';
import { Counters } from './counters.js';
import type { MachineHooks } from './hooks.js';

export class Machine {
  readonly queue = new EventQueue(4096);
  readonly counters = new Counters();

  // CPU side
  readonly cpuClock: Clock;
  readonly cpuTlb: Tlb;
  readonly sysmem: SystemMemory;
  readonly space: AddressSpace;

  // Link and IOMMU
  readonly link: Link;
  readonly iommu: Iommu;
  /** The device's address translation cache for ATS; null when ATS is off. */
  readonly atc: Tlb | null;

  // Device
  readonly deviceClock: Clock;
  readonly l1Tlbs: Tlb[];
  readonly l2Tlb: Tlb;
  readonly dram: Dram;
  /** Device page-table entries (DEV_* bits), one byte per device page. */
  readonly devPte = new ByteTable(1 << 12);
  /** log2 of 4 KiB pages per device page. */
  readonly devPageShift: number;
  readonly faults: FaultBuffer;
  /** Bytes of device memory allocated (buffer objects, device pages). */
  deviceMemoryUsed = 0;
  /** Next free device-memory address for buffer objects (a bump allocator). */
  deviceMemoryTop = 0;
  /** 1 for each 4 KiB system page DMA-mapped for the device (dma_map_page). */
  readonly dmaMapped = new ByteTable(1 << 16);

  readonly contexts: Contexts;
  /** An error a strategy or host operation raised in the current phase (a copy from an unreadable range, ENOMEM). */
  phaseError: string | null = null;

  // Timings in ps, converted once.
  readonly t: {
    cpuTlbHit: Ps;
    cpuWalk: Ps;
    cpuPageFault: Ps;
    l1Hit: Ps;
    l2Hit: Ps;
    deviceWalk: Ps;
    kernelLaunch: Ps;
    copyLaunch: Ps;
    perFault: Ps;
    perPage: Ps;
    dmaMapPerPage: Ps;
    invalidate: Ps;
    shootdown: Ps;
  };

  /** Hook points for observers (series, histograms, live feeds); see hooks.ts. */
  readonly hooks: MachineHooks = {};
  /** The largest device memory in use so far. */
  deviceMemoryPeak = 0;

  constructor(
    readonly config: Experiment,
    readonly plan: WorkloadPlan,
    readonly strategy: Strategy,
  ) {
    const hw = config.hardware;
    this.cpuClock = clockFromMHz(hw.cpu.frequencyMHz);
    this.deviceClock = clockFromMHz(hw.device.frequencyMHz);
    this.cpuTlb = new Tlb(hw.cpu.tlb.entries, hw.cpu.tlb.ways);
    this.sysmem = new SystemMemory(hw.cpu.memory);
    this.space = new AddressSpace(plan.regions);

    this.link = createLink(hw.link);
    this.iommu = new Iommu(hw.iommu);
    this.atc = createAtc(hw.iommu);

    const mmu = hw.device.mmu;
    this.l1Tlbs = Array.from({ length: hw.device.computeUnits }, () => new Tlb(mmu.l1Tlb.entries, mmu.l1Tlb.ways));
    this.l2Tlb = new Tlb(mmu.l2Tlb.entries, mmu.l2Tlb.ways);
    this.dram = new Dram(hw.device.dram);
    this.devPageShift = Math.log2(mmu.pageSizeBytes / PAGE_BYTES);
    // Device-side page state is sized once too, from the address space's extent.
    this.dmaMapped.ensure(this.space.totalPages);
    this.devPte.ensure((this.space.totalPages >> this.devPageShift) + 1);
    this.faults = new FaultBuffer(hw.device.faultBuffer, hw.device.computeUnits * hw.device.contextsPerUnit);

    this.contexts = new Contexts(hw.cpu.cores, hw.device.computeUnits * hw.device.contextsPerUnit);

    const dc = this.deviceClock;
    this.t = {
      cpuTlbHit: cyclesToPs(this.cpuClock, hw.cpu.tlb.hitLatencyCycles),
      cpuWalk: nsToPs(hw.cpu.pageWalkNs),
      cpuPageFault: nsToPs(hw.cpu.pageFaultNs),
      l1Hit: cyclesToPs(dc, mmu.l1Tlb.hitLatencyCycles),
      l2Hit: cyclesToPs(dc, mmu.l2Tlb.hitLatencyCycles),
      deviceWalk: cyclesToPs(dc, mmu.walkLatencyCycles),
      kernelLaunch: nsToPs(hw.device.kernelLaunchNs),
      copyLaunch: nsToPs(hw.device.copyEngines.launchNs),
      perFault: nsToPs(hw.driver.perFaultNs),
      perPage: nsToPs(hw.driver.perPageNs),
      // With the IOMMU in passthrough, dma_map_page only computes an address.
      dmaMapPerPage: hw.iommu.mode === 'translate' ? nsToPs(hw.driver.dmaMapPerPageNs) : 0,
      invalidate: nsToPs(hw.driver.invalidateNs),
      shootdown: nsToPs(hw.driver.shootdownNs),
    };
  }

  allocateDeviceMemory(t: Ps, bytes: number): void {
    this.deviceMemoryUsed += bytes;
    if (this.deviceMemoryUsed > this.deviceMemoryPeak) this.deviceMemoryPeak = this.deviceMemoryUsed;
    this.hooks.deviceMemory?.(t, this.deviceMemoryUsed);
  }

  freeDeviceMemory(t: Ps, bytes: number): void {
    this.deviceMemoryUsed -= bytes;
    this.hooks.deviceMemory?.(t, this.deviceMemoryUsed);
  }
}
