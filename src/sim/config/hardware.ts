/**
 * The hardware section of an experiment. The tree mirrors the machine: one key per
 * component; a component with several implementations picks one with `impl`. Component
 * schemas live beside their models in src/sim/hw; this file composes them and defines
 * the CPU, the device and the driver, whose models live in src/sim/mm and src/sim/machine.
 */
import { z } from 'zod';
import { BOUND, num, obj, size } from './fields.js';
import { linkSchema } from '../hw/link/index.js';
import { dramSchema } from '../hw/dram.js';
import { systemMemorySchema } from '../hw/system-memory.js';
import { iommuSchema } from '../hw/iommu.js';
import { checkTlbGeometry, tlbGeometry } from '../hw/tlb.js';

/** A TLB of the CPU or the device: its geometry plus the hit latency in its owner's cycles. */
function tlb(what: string, entries: number, ways: number, hitCycles: number, source: string) {
  return obj(
    {
      ...tlbGeometry({ entries, ways }),
      hitLatencyCycles: num(`Lookup latency on a hit, in cycles of the owner's clock.`, {
        int: true,
        min: 0,
        ...BOUND.cycles,
      }).default(hitCycles),
    },
    `${what}. ${source}`,
  )
    .superRefine(checkTlbGeometry)
    .prefault({});
}

export const cpuSchema = obj(
  {
    cores: num("CPU cores that run the workload's CPU phases (one execution context each).", {
      int: true,
      min: 1,
      max: 256,
    }).default(16),
    frequencyMHz: num('Core clock in MHz; CPU compute cycles convert to time through it.', {
      gt: 0,
      max: 10000,
    }).default(3000),
    tlb: tlb(
      'CPU second-level TLB (STLB), 4 KiB pages',
      1536,
      12,
      9,
      "Default: 1536 entries, 12 ways, as in Intel Skylake-SP's STLB (Intel 64 and IA-32 Optimization Reference Manual, 2.2).",
    ),
    pageWalkNs: num(
      'Latency of a CPU page walk after an STLB miss, in ns (assumption: a 4-level walk with upper levels in the paging-structure caches, about one DRAM access).',
      { min: 0, ...BOUND.ns },
    ).default(80),
    pageFaultNs: num(
      'Cost of a minor anonymous page fault on the CPU (trap, allocation, zeroing a 4 KiB page, PTE update), in ns. Assumption of the order of 1-2 us reported for Linux minor faults.',
      { min: 0, ...BOUND.ns },
    ).default(1500),
    memory: systemMemorySchema.prefault({}),
  },
  'The host CPU, its MMU and its memory.',
).prefault({});

export const deviceSchema = obj(
  {
    name: z.string().default('device0').describe('Name of the device in results (attribution agent).'),
    computeUnits: num(
      'Compute units (SMs, CUs, NPU cores) that issue memory accesses. Default 108: NVIDIA A100 (whitepaper, 2020).',
      { int: true, min: 1, max: 1024 },
    ).default(108),
    contextsPerUnit: num(
      'Independent access streams per compute unit (warps or queues with a memory access in flight): the memory-level parallelism of a unit.',
      { int: true, min: 1, max: 256 },
    ).default(8),
    frequencyMHz: num('Device clock in MHz. Default 1410: A100 boost clock (whitepaper, 2020).', {
      gt: 0,
      max: 10000,
    }).default(1410),
    mmu: obj(
      {
        pageSizeBytes: size(
          'Device page size: the unit of device page-table entries, TLB entries and fault handling. 4 KiB, 64 KiB (big pages) or 2 MiB; the UVM driver uses 64 KiB big pages and 2 MiB blocks (open-gpu-kernel-modules).',
        )
          .pipe(
            z.union([z.literal(4096), z.literal(65536), z.literal(2097152)], {
              error: (iss) => `${iss.input} bytes is not a device page size; use "4KiB", "64KiB" or "2MiB"`,
            }),
          )
          .default(65536),
        l1Tlb: tlb(
          'Device L1 TLB, one per compute unit',
          64,
          4,
          1,
          'Assumption, in the range found by microbenchmarks of NVIDIA GPUs (Jia et al., "Dissecting the NVIDIA Volta GPU Architecture via Microbenchmarking", 2018).',
        ),
        l2Tlb: tlb(
          'Device L2 TLB, shared by all compute units',
          4096,
          16,
          20,
          'Default 4096 entries: the per-SM TLB size UVMSmart models (Ganguly et al., ISCA 2019); shared here.',
        ),
        walkLatencyCycles: num(
          'Device page-table walk after an L2 TLB miss, in device cycles. Default 100 cycles for 4 KiB pages: UVMSmart (Ganguly et al., ISCA 2019).',
          { int: true, min: 0, ...BOUND.cycles },
        ).default(100),
      },
      'The device MMU: page size, TLBs and page walk.',
    ).prefault({}),
    faultBuffer: obj(
      {
        entries: num(
          'Capacity of the replayable fault buffer. Faults beyond it are counted (device.fault_buffer_full) and queue like the rest: the model does not make the hardware drop and re-raise them.',
          { int: true, min: 1, ...BOUND.entries },
        ).default(4096),
        batchSize: num(
          "Faults fetched per batch. Default 256: the NVIDIA UVM driver's replayable fault batch (open-gpu-kernel-modules, uvm_gpu_replayable_faults.c).",
          { int: true, min: 1, ...BOUND.entries },
        ).default(256),
        interruptNs: num(
          'From the first fault in an empty buffer to the driver starting a batch (interrupt, bottom half wake-up), in ns. Assumption: several microseconds.',
          { min: 0, ...BOUND.ns },
        ).default(5000),
        batchFetchNs: num('Fixed cost of fetching and sorting one batch of fault entries, in ns (assumption).', {
          min: 0,
          ...BOUND.ns,
        }).default(2000),
        replayNs: num(
          "From the end of a batch's service to the faulting contexts retrying (replay), in ns (assumption).",
          { min: 0, ...BOUND.ns },
        ).default(1500),
      },
      'The device fault buffer: faults are serviced in batches, then replayed.',
    ).prefault({}),
    copyEngines: obj(
      {
        count: num('DMA copy engines that run explicit copies concurrently.', { int: true, min: 1, max: 64 }).default(
          2,
        ),
        chunkBytes: size('Explicit copies are split into chunks of this size, each a DMA of its own.', {
          min: 4096,
        }).default(2 * 1024 * 1024),
        launchNs: num(
          'Software cost of starting one copy (API call, command submission), in ns. Assumption: a few microseconds, as measured for cudaMemcpy launches.',
          { min: 0, ...BOUND.ns },
        ).default(5000),
      },
      'Copy engines for explicit copies.',
    ).prefault({}),
    kernelLaunchNs: num(
      'Cost of launching one device phase (a kernel), in ns. Assumption: about 5 us, the order of a CUDA kernel launch.',
      { min: 0, ...BOUND.ns },
    ).default(5000),
    dram: dramSchema.prefault({}),
  },
  'The accelerator: compute units, MMU, fault buffer, copy engines and device memory.',
).prefault({});

export const driverSchema = obj(
  {
    perFaultNs: num(
      'Driver cost per unique fault in a batch (lookup of the VA range, locking, building the update), in ns. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(1000),
    perPageNs: num(
      'Driver cost per 4 KiB page that hmm_range_fault resolves for a device fault (CPU page-table walk, page reference), in ns. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(150),
    dmaMapPerPageNs: num(
      'Cost of dma_map_page for one 4 KiB page (IOMMU page-table update when the IOMMU translates), in ns. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(200),
    ptUpdateBytes: num(
      'Bytes written over the link to update device page-table entries for one fault (the PTE write and its TLB invalidate command).',
      { int: true, min: 0, max: 4096, why: 'at most 4 KiB: one page-table update writes a few entries' },
    ).default(64),
    invalidateNs: num(
      'Driver cost of one MMU-notifier invalidation callback (take the lock, clear device PTEs, issue the TLB shootdown), in ns, not counting the wait for the device. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(2000),
    shootdownNs: num(
      'Device TLB shootdown: from the invalidate command reaching the device to its acknowledgement, in ns. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(1000),
  },
  'Host driver software costs: fault service, DMA mapping and invalidation.',
).prefault({});

export const hardwareSchema = obj(
  {
    preset: z
      .string()
      .optional()
      .describe(
        'Start from this hardware preset (`hetmem presets` lists them); the other keys here override its values.',
      ),
    cpu: cpuSchema,
    link: linkSchema.prefault({ impl: 'pcie' }),
    iommu: iommuSchema.prefault({}),
    device: deviceSchema,
    driver: driverSchema,
  },
  'The machine: CPU, link, IOMMU, device and driver.',
);

export type HardwareConfig = z.output<typeof hardwareSchema>;
