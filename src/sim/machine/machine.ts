/**
 * The topology builder: it creates every component from its config slice and wires them:
 * one CPU with its MMU and memory, one IOMMU, and a list of devices, each on a root port
 * of its own or all under one PCIe switch. Components never hold each other; the machine
 * holds them all, and the access paths (cpu-path.ts, device-path.ts) walk through them.
 * It knows no strategy: the memory manager plugs in through `MemoryManagerPort` and the
 * event handler table.
 */
import { EventQueue } from '../engine/event-queue.js';
import { PagedTable } from '../engine/paged-table.js';
import { clockFromMHz, cyclesToPs, nsToPs, type Clock, type Ps } from '../engine/time.js';
import type { CpuConfig } from '../hw/cpu.js';
import type { DeviceConfig } from '../hw/device.js';
import { createAtc, Iommu, type IommuConfig } from '../hw/iommu.js';
import { createLink, type LinkConfig } from '../hw/link/index.js';
import { SwitchedLink } from '../hw/link/switched.js';
import type { Link } from '../hw/link/types.js';
import { SystemMemory } from '../hw/system-memory.js';
import { Tlb } from '../hw/tlb.js';
import type { FileSpec, RegionSpec } from '../workload/types.js';
import type { AccessCounters } from './access-counters.js';
import { AddressSpace, HUGE_PAGES, type Region } from './address-space.js';
import { Contexts } from './contexts.js';
import { Counters } from './counters.js';
import { Device } from './device.js';
import { EV_DRAM_BANK, EV_DRAM_DONE, EV_KINDS, type EventHandler } from './events.js';
import type { MachineHooks } from './hooks.js';
import { PageCache } from './page-cache.js';
import { PAGE_BYTES } from './page-state.js';
import { peerRoutes, type PeerRoute } from './peer-path.js';
import { Residency } from './residency.js';
import type { Translation } from './translation.js';

/** The hardware the machine is built from (the parsed `hardware` section, minus the driver). */
export interface MachineConfig {
  cpu: CpuConfig;
  link: LinkConfig;
  iommu: IommuConfig;
  devices: DeviceConfig[];
  pcieSwitch?: { upstreamLink: LinkConfig; latencyNs: number; acsRedirect: boolean };
  peerToPeer: { hostBridge: boolean; hostBridgeForwardNs: number };
}

/**
 * What the access paths need from the memory manager: the CPU page-fault handler. It
 * returns the time the fault is resolved, or a negative error code (engine/errno.ts).
 */
export interface MemoryManagerPort {
  cpuFault(region: Region, page: number, write: boolean, t: Ps): Ps;
}

export class Machine {
  readonly queue = new EventQueue(4096);
  readonly counters = new Counters();
  /** Event handlers by kind (events.ts): the run loop dispatches through this table. */
  readonly handlers: EventHandler[] = new Array<EventHandler>(EV_KINDS);

  // CPU side
  readonly cpuClock: Clock;
  /** Cache-line misses a core keeps in flight (its fill buffers). */
  readonly cpuOutstandingMisses: number;
  readonly cpuTlb: Tlb;
  /** Per core: the 64-byte line of leaf page-table entries its last page walk read (page / 8), or -1. */
  readonly cpuLastWalkLine: Float64Array;
  readonly sysmem: SystemMemory;
  readonly space: AddressSpace;
  /** The files the workload maps, held whole in the page cache. */
  readonly pageCache: PageCache;
  readonly residency: Residency;
  /** 1 for each 4 KiB system page DMA-mapped for the devices (dma_map_page). */
  readonly dmaMapped = new PagedTable(Uint8Array);

  readonly iommu: Iommu;
  readonly devices: Device[];
  /** The PCIe switch's upstream link, when the devices sit under one. */
  readonly switchUpstream: Link | null;
  /** peerRoutes[a][b]: how device a reaches device b's memory, or null when it cannot (peer-path.ts). */
  readonly peerRoutes: (PeerRoute | null)[][];

  readonly contexts: Contexts;
  /** How devices translate addresses: set once by the memory manager from the strategy's choice. */
  translation!: Translation;
  /** The memory manager's entry points for the access paths. */
  mm!: MemoryManagerPort;
  /** Remote-access counters, when the strategy migrates by them (set by the memory manager); null costs one check per remote access. */
  accessCounters: AccessCounters | null = null;

  readonly t: {
    cpuTlbHit: Ps;
    cpuWalk: Ps;
    cpuWalkCached: Ps;
    cpuPageFault: Ps;
    driverPageFault: Ps;
    cpuHugePageFault: Ps;
    driverHugePageFault: Ps;
  };
  /** Transparent huge pages for private anonymous memory. */
  readonly thp: boolean;

  /** Hook points for observers (series, histograms, live feeds); see hooks.ts. */
  readonly hooks: MachineHooks = {};

  constructor(
    readonly config: MachineConfig,
    regions: readonly RegionSpec[],
    files: readonly FileSpec[] = [],
  ) {
    this.cpuClock = clockFromMHz(config.cpu.frequencyMHz);
    this.cpuOutstandingMisses = config.cpu.outstandingMisses;
    this.thp = config.cpu.transparentHugePages;
    this.cpuTlb = new Tlb(config.cpu.tlb.entries, config.cpu.tlb.ways);
    this.cpuLastWalkLine = new Float64Array(config.cpu.cores).fill(-1);
    this.sysmem = new SystemMemory(config.cpu.memory);
    // Regions start aligned to the largest device page (at least 2 MiB), so that no device page spans two.
    const largestDevicePage = Math.max(...config.devices.map((d) => d.mmu.pageSizeBytes / PAGE_BYTES));
    this.space = new AddressSpace(regions, Math.max(HUGE_PAGES, largestDevicePage));
    this.pageCache = new PageCache(files);
    this.residency = new Residency(config.devices.length);
    this.iommu = new Iommu(config.iommu);

    const sw = config.pcieSwitch;
    this.switchUpstream = sw ? createLink(sw.upstreamLink) : null;
    this.devices = config.devices.map((d, i) => {
      const own = createLink(d.link ?? config.link);
      const link = this.switchUpstream && sw ? new SwitchedLink(own, this.switchUpstream, nsToPs(sw.latencyNs)) : own;
      return new Device(i, d, own, link, createAtc(config.iommu), {
        bank: (t, bank) => this.queue.push(t, EV_DRAM_BANK, i, bank),
        // Known as soon as the request is served: the handler books the context's next step.
        done: (t, c) => this.handlers[EV_DRAM_DONE](c, 0, t),
      });
    });
    this.handlers[EV_DRAM_BANK] = (device, bank, t) => this.devices[device].memory.decide(bank, t);
    this.peerRoutes = peerRoutes(this.devices, config, this.iommu);
    this.contexts = new Contexts(
      config.cpu.cores,
      this.devices.map((d) => d.contexts),
    );
    let first = config.cpu.cores;
    for (const d of this.devices) {
      d.firstContext = first;
      first += d.contexts;
    }
    // Every calendar may drop what lies before the event being handled.
    const servers = [this.sysmem.bus, ...this.iommu.servers];
    for (const d of this.devices) servers.push(...d.link.servers, ...d.dram.servers);
    for (const server of servers) server.clock = this.queue;
    this.t = {
      cpuTlbHit: cyclesToPs(this.cpuClock, config.cpu.tlb.hitLatencyCycles),
      cpuWalk: nsToPs(config.cpu.pageWalkNs),
      cpuWalkCached: nsToPs(config.cpu.pageWalkCachedNs),
      cpuPageFault: nsToPs(config.cpu.pageFaultNs),
      // hmm_range_fault calls the fault handler without a trap.
      driverPageFault: nsToPs(Math.max(0, config.cpu.pageFaultNs - config.cpu.pageFaultTrapNs)),
      cpuHugePageFault: nsToPs(config.cpu.hugePageFaultNs),
      driverHugePageFault: nsToPs(Math.max(0, config.cpu.hugePageFaultNs - config.cpu.pageFaultTrapNs)),
    };
  }

  /** The device that context `c` belongs to (a device context). */
  deviceOf(c: number): Device {
    return this.devices[this.contexts.device[c]];
  }

  allocateDeviceMemory(device: Device, t: Ps, bytes: number): void {
    device.memoryUsed += bytes;
    if (device.memoryUsed > device.memoryPeak) device.memoryPeak = device.memoryUsed;
    this.hooks.deviceMemory?.(t, this.deviceMemoryUsed());
  }

  freeDeviceMemory(device: Device, t: Ps, bytes: number): void {
    device.memoryUsed -= bytes;
    this.hooks.deviceMemory?.(t, this.deviceMemoryUsed());
  }

  /** Device memory in use on all devices together. */
  deviceMemoryUsed(): number {
    let sum = 0;
    for (const d of this.devices) sum += d.memoryUsed;
    return sum;
  }
}
