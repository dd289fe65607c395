/** An accelerator's configuration: compute units, MMU, fault buffer, copy engines, device memory, link. */
import { z } from 'zod';
import { BOUND, num, obj, size } from '../schema/fields.js';
import { dramSchema } from './dram.js';
import { linkSchema } from './link/index.js';
import { tlbWithLatency } from './tlb-schema.js';

export const deviceSchema = obj(
  {
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'use a lowercase name of letters, digits, "-" or "_" (e.g. "gpu0")')
      .default('device0')
      .describe(
        'Name of the device in results: its attribution agent and the prefix of its own metrics ("gpu0.device.page_faults").',
      ),
    link: linkSchema
      .optional()
      .describe("This device's own link to the host (or to the PCIe switch); default: hardware.link."),
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
          'Device page size: the unit of device page-table entries, TLB entries and fault handling. 4 KiB, 64 KiB (big pages), 2 MiB or 1 GiB; the UVM driver uses 64 KiB big pages and 2 MiB blocks (open-gpu-kernel-modules); Intel Xe page tables map 1 GiB leaves where a range allows it (drm/xe xe_pt.c, XE_PDPE_PS_1G). With 1 GiB pages, regions are laid out 1 GiB-aligned so that a device page never spans two of them.',
        )
          .pipe(
            z.union([z.literal(4096), z.literal(65536), z.literal(2097152), z.literal(1073741824)], {
              error: (iss) => `${iss.input} bytes is not a device page size; use "4KiB", "64KiB", "2MiB" or "1GiB"`,
            }),
          )
          .default(65536),
        l1Tlb: tlbWithLatency(
          'Device L1 TLB, one per compute unit',
          64,
          4,
          1,
          'Assumption, in the range found by microbenchmarks of NVIDIA GPUs (Jia et al., "Dissecting the NVIDIA Volta GPU Architecture via Microbenchmarking", 2018).',
        ),
        l2Tlb: tlbWithLatency(
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
          'Capacity of the replayable fault buffer. A fault that finds it full is dropped (device.fault_buffer_full), as the hardware drops it: its context waits for the next replay and retries the access, which faults again.',
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
          'Fixed cost of one copy beyond its transfer (API call, command submission, engine start, completion), in ns. Default 700: fitted so that pinned copies over the Gen3 x16 link follow the small-transfer curve of pinned cudaMemcpy that UVMSmart fits to GTX 1080 Ti measurements, 24/pi x atan(0.07292 x KiB) GB/s: 2.2 GB/s at 4 KiB, 6.6 at 16 KiB, 10.4 at 64 KiB (Ganguly et al., ISCA 2019; `npm run validate-model` prints the comparison).',
          { min: 0, ...BOUND.ns },
        ).default(700),
      },
      'Copy engines for explicit copies.',
    ).prefault({}),
    hostInterface: obj(
      {
        latencyNs: num(
          "On-chip latency each way between a compute unit and the device's host interface (SM to L2 to the PCIe hub), in ns; remote accesses by compute units pay it out and back, copy engines (at the hub) do not. Default 300: an assumption that puts an unloaded 64-byte zero-copy read on the A100-class preset at about 1.1 us, the microsecond-scale latency measured for GPU loads from pinned host memory.",
          { min: 0, ...BOUND.ns },
        ).default(300),
        tags: num(
          'Non-posted requests (reads, ATS translation requests) the device may have in flight on its link: each holds a transaction tag until its completion arrives, so remote reads are bounded by tags x round trip as well as by bandwidth. Default 256: the 8-bit Tag field of the PCIe Base Spec (10-bit tags, optional from PCIe 4.0, allow up to 768).',
          { int: true, min: 1, max: 4096 },
        ).default(256),
        sectorBytes: size(
          'Smallest read a compute unit sends to remote memory: reads are rounded out to whole sectors (an 8-byte gather moves a 32-byte sector). Default 32: the sector of NVIDIA GPU L1/L2 caches since Volta (Jia et al., 2018).',
          { min: 1, max: 4096, powerOfTwo: true },
        ).default(32),
      },
      'How compute units reach remote memory: on-chip latency, outstanding requests, access granularity.',
    ).prefault({}),
    kernelLaunchNs: num(
      'Cost of launching one device phase (a kernel), in ns. Assumption: about 5 us, the order of a CUDA kernel launch.',
      { min: 0, ...BOUND.ns },
    ).default(5000),
    dram: dramSchema.prefault({}),
  },
  'The accelerator: compute units, MMU, fault buffer, copy engines and device memory.',
);

export type DeviceConfig = z.output<typeof deviceSchema>;
