/**
 * One accelerator of the machine: its clock, TLBs, device page table, fault buffer, copy
 * engines' settings, DRAM and its link to the host. Several devices each have their own;
 * nothing here is shared with another device.
 */
import { clockFromMHz, cyclesToPs, nsToPs, type Clock, type Ps } from '../engine/time.js';
import type { DeviceConfig } from '../hw/device.js';
import { Dram } from '../hw/dram.js';
import { DramController, type DramEvents } from '../hw/dram-controller.js';
import type { Link } from '../hw/link/types.js';
import { TagPool } from '../hw/tag-pool.js';
import { Tlb } from '../hw/tlb.js';
import { DeviceCounters } from './counters.js';
import { FaultBuffer } from './fault-buffer.js';
import { PagedTable } from '../engine/paged-table.js';
import { PAGE_BYTES } from './page-state.js';

export class Device {
  readonly name: string;
  readonly clock: Clock;
  readonly l1Tlbs: Tlb[];
  /** The L1 TLB of each of the device's contexts, by context number less firstContext (context i runs on unit i mod computeUnits). */
  readonly l1OfContext: Tlb[];
  readonly l2Tlb: Tlb;
  private readonly allTlbs: Tlb[];
  readonly dram: Dram;
  /** The memory controllers in front of `dram`: compute units' and trace replays' accesses go through them. */
  readonly memory: DramController;
  /** Device page-table entries (DEV_* bits), one byte per 4 KiB page (see page-state.ts). */
  readonly pte = new PagedTable(Uint8Array);
  /** log2 of 4 KiB pages per device page. */
  readonly pageShift: number;
  /** 2^-pageShift: a 4 KiB page number times it, floored, is its device page number (exactly the division). */
  readonly pageInv: number;
  readonly faults: FaultBuffer;
  /** Tags for the device's non-posted requests on its link (reads by compute units and copy engines). */
  readonly tags: TagPool;
  /** Smallest read a compute unit sends to remote memory, bytes. */
  readonly sectorBytes: number;
  readonly counters = new DeviceCounters();
  /** Device memory in use (buffer objects, device pages), and its peak. */
  memoryUsed = 0;
  memoryPeak = 0;
  /** The first context of this device and how many it has (contexts are numbered CPU first, then device by device). */
  firstContext = 0;
  readonly contexts: number;

  readonly t: {
    l1Hit: Ps;
    l2Hit: Ps;
    walk: Ps;
    kernelLaunch: Ps;
    copyLaunch: Ps;
    /** Compute unit to host interface, one way. */
    onChip: Ps;
  };

  constructor(
    readonly index: number,
    readonly config: DeviceConfig,
    /** The device's own link to the port above it (its root port or its switch port). */
    readonly ownLink: Link,
    /** The path to host memory: the device's own link, or its link and a switch's upstream link. */
    readonly link: Link,
    /** The device's address translation cache for ATS; null when ATS is off. */
    readonly atc: Tlb | null,
    dramEvents: DramEvents,
  ) {
    this.name = config.name;
    this.clock = clockFromMHz(config.frequencyMHz);
    const mmu = config.mmu;
    this.pageInv = 1 / (mmu.pageSizeBytes / PAGE_BYTES);
    this.l1Tlbs = Array.from({ length: config.computeUnits }, () => new Tlb(mmu.l1Tlb.entries, mmu.l1Tlb.ways));
    this.l2Tlb = new Tlb(mmu.l2Tlb.entries, mmu.l2Tlb.ways);
    this.allTlbs = [...this.l1Tlbs, this.l2Tlb];
    this.dram = new Dram(config.dram);
    this.memory = new DramController(this.dram, config.dram.controller, dramEvents);
    this.pageShift = Math.log2(mmu.pageSizeBytes / PAGE_BYTES);
    this.contexts = config.computeUnits * config.contextsPerUnit;
    this.l1OfContext = Array.from({ length: this.contexts }, (_, i) => this.l1Tlbs[i % this.l1Tlbs.length]);
    this.faults = new FaultBuffer(config.faultBuffer, this.contexts);
    this.tags = new TagPool(config.hostInterface.tags);
    this.sectorBytes = config.hostInterface.sectorBytes;
    this.t = {
      l1Hit: cyclesToPs(this.clock, mmu.l1Tlb.hitLatencyCycles),
      l2Hit: cyclesToPs(this.clock, mmu.l2Tlb.hitLatencyCycles),
      walk: cyclesToPs(this.clock, mmu.walkLatencyCycles),
      kernelLaunch: nsToPs(config.kernelLaunchNs),
      copyLaunch: nsToPs(config.copyEngines.launchNs),
      onChip: nsToPs(config.hostInterface.latencyNs),
    };
  }

  get capacityBytes(): number {
    return this.dram.capacityBytes;
  }

  /** Every TLB of the device (per-unit L1s, the shared L2): for invalidation. */
  tlbs(): readonly Tlb[] {
    return this.allTlbs;
  }
}
