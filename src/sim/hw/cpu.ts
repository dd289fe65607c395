/** The host CPU's configuration: cores, clock, STLB, page walk and fault costs, system memory. */
import type { z } from 'zod';
import { BOUND, bool, num, obj, size } from '../schema/fields.js';
import { systemMemorySchema } from './system-memory.js';
import { tlbWithLatency } from './tlb-schema.js';

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
    outstandingMisses: num(
      'Cache-line misses one core keeps in flight (its L1D fill buffers): a core streams at most outstandingMisses x 64 B per memory latency. Default 16: the fill buffers of Intel Sunny Cove and Golden Cove cores (Ice Lake, Sapphire Rapids; Skylake has 12; Intel 64 and IA-32 Architectures Optimization Reference Manual), so a core streams about 11 GB/s from 90 ns memory, within the 10-15 GB/s single-core STREAM figures of such servers.',
      { int: true, min: 1, max: 1024 },
    ).default(16),
    tlb: tlbWithLatency(
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
    pageWalkCachedNs: num(
      "Latency of a CPU page walk whose leaf entry lies in the same 64-byte line as the core's previous walk's (eight consecutive 4 KiB pages share one): the line is still in the core's caches, so the walk costs a cache hit, not a DRAM access. Default 10 ns (assumption: an L2 hit, 14 cycles on Skylake per the Intel Optimization Reference Manual, plus the paging-structure-cache lookups, at 3 GHz). A sequential stream pays pageWalkNs once per 32 KiB.",
      { min: 0, ...BOUND.ns },
    ).default(10),
    pageFaultNs: num(
      'Cost of a minor anonymous page fault on the CPU (trap, allocation, zeroing a 4 KiB page, PTE update), in ns. Assumption of the order of 1-2 us reported for Linux minor faults.',
      { min: 0, ...BOUND.ns },
    ).default(1500),
    pageFaultTrapNs: num(
      "The part of pageFaultNs that is the exception itself (entry, state save, return, with the kernel-entry mitigations of current x86 kernels), in ns. A fault the kernel takes on a device's behalf (hmm_range_fault calls handle_mm_fault directly) costs pageFaultNs minus this. Default 1000, an assumption: the handler's own work for a 4 KiB anonymous page (allocate, clear 4 KiB at 10-20 GB/s, set the PTE) is about 0.5 us of the 1-2 us a minor fault measures in total.",
      { min: 0, ...BOUND.ns },
    ).default(1000),
    transparentHugePages: bool(
      'Transparent huge pages for private anonymous memory ("always" in /sys/kernel/mm/transparent_hugepage/enabled): a write fault on a 2 MiB-aligned block that lies wholly inside a region and is wholly unpopulated maps the whole block at once, for hugePageFaultNs. Read faults still map the 4 KiB zero page. Default on, as on kernels built with TRANSPARENT_HUGEPAGE_ALWAYS (RHEL, Fedora); Ubuntu defaults to "madvise", which is off here.',
    ).default(true),
    hugePageFaultNs: num(
      'Cost of a fault that maps a 2 MiB transparent huge page (trap, allocation, clearing 2 MiB, PMD update), in ns. Default 100000: clearing 2 MiB at about 20 GB/s, the store bandwidth of one core, dominates (assumption). A fault the kernel takes for a device costs this minus pageFaultTrapNs.',
      { min: 0, ...BOUND.ns },
    ).default(100_000),
    memory: systemMemorySchema.prefault({}),
    pageCache: obj(
      {
        faultAroundBytes: size(
          "A read fault on a file mapping maps the page-cache pages around the faulting one that have no entry yet, in the aligned window of this many bytes (do_fault_around, filemap_map_pages), for the cost of one fault. Default 64 KiB: the kernel's fault_around_bytes (mm/memory.c); 4 KiB turns fault-around off.",
          { min: 4096, max: 2 * 1024 * 1024, powerOfTwo: true },
        ).default(65536),
        syscallNs: num(
          'Entry and exit of one read(2), write(2), msync(2) or fsync(2) call, in ns. Default 500: assumption, about half of pageFaultTrapNs (a system call enters the kernel with the same mitigations but takes no exception).',
          { min: 0, ...BOUND.ns },
        ).default(500),
        copyPerPageNs: num(
          'read(2) and write(2): looking a page up in the page cache and copying 4 KiB between it and the user buffer, per page, in ns. Default 400: assumption, one core copying about 10 GB/s (the single-core STREAM figures cited for outstandingMisses). The user buffer is outside the modelled regions, already resident.',
          { min: 0, ...BOUND.ns },
        ).default(400),
        writebackPerPageNs: num(
          'Writing one dirty 4 KiB page back to storage (msync with MS_SYNC, fsync), in ns: the model has no storage device, only this cost. Default 1000: assumption, about 4 GB/s, the sequential write rate of a PCIe Gen4 NVMe SSD.',
          { min: 0, ...BOUND.ns },
        ).default(1000),
      },
      'The page cache of file-backed memory. The model has no storage device: every file a workload maps, reads or writes is held whole in the page cache (an assumption), so a file fault is a minor fault (pageFaultNs) and only writeback reaches storage (writebackPerPageNs).',
    ).prefault({}),
  },
  'The host CPU, its MMU and its memory.',
).prefault({});

export type CpuConfig = z.output<typeof cpuSchema>;
