import { z } from 'zod';
import { bool, num, obj, oneOf, size } from '../../schema/fields.js';
import { adviceFields } from '../../workload/advice.js';

export const explicitCopySchema = obj(
  {
    impl: z.literal('explicit-copy').describe('The strategy.'),
    skipCleanCopies: bool(
      'Copy a buffer only when the other side changed it since the last copy, as a careful programmer would (true); or copy every input before and every output after each kernel, and every buffer a CPU phase touches from the device before that phase (false).',
    ).default(true),
    peerCopies: bool(
      "With several devices: copy each input from host memory once, to the first device, then from it to every other device over their peer route (true), as cudaMemcpyPeer does: the first device's copy engines write into the other's memory across the PCIe switch, or through the root complex with the IOMMU translating (hardware.pcieSwitch, hardware.peerToPeer). A device the first cannot reach gets its copy from host memory (counted in copy.no_peer_route_h2d_bytes). Default false: every input is copied from host memory to every device.",
    ).default(false),
  },
  'Buffer objects in device memory; explicit copies before and after each kernel.',
);

export const hmmMirrorSchema = obj(
  {
    impl: z.literal('hmm-mirror').describe('The strategy.'),
    ranges: oneOf(
      ['window', 'ad-hoc'],
      'a way of mirroring ranges',
      'How the driver tracks what it mirrors (the drm/xe SVM discussion): "window" (default), one device VMA and interval notifier per region, filled by hmm_range_fault (its one-time setup is not charged); "ad-hoc", a 2 MiB range created on the first device fault in it (rangeCreateNs) and destroyed whole, with every device mapping in it, when the CPU unmaps any part of it (rangeDestroyNs), as drm_gpusvm does.',
    ).default('window'),
    rangeCreateNs: num(
      "Ad-hoc ranges: driver time to create one (allocate it, insert its mmu_interval_notifier, set up the GPU VMA). Default 2000 ns: an assumption (no published figure; an interval-tree insert under the notifier lock plus a VM bind's bookkeeping).",
      { min: 0, max: 1e9 },
    ).default(2000),
    rangeDestroyNs: num(
      'Ad-hoc ranges: driver time to destroy one (remove its notifier, tear down its GPU page tables, free it). Default 2000 ns: an assumption, as rangeCreateNs.',
      { min: 0, max: 1e9 },
    ).default(2000),
  },
  'Device page table filled on device faults (hmm_range_fault); pages stay in system memory and are reached over the link; MMU interval notifiers invalidate device mappings when the CPU side changes.',
);

export const atsSvaSchema = obj(
  {
    impl: z.literal('ats-sva').describe('The strategy.'),
  },
  'Shared virtual addressing: the whole address space bound to the device (one PASID); no device page table; the device translates through the IOMMU with ATS and its ATC, and faults with PRI page requests that the kernel services like CPU faults. Needs hardware.iommu.mode "translate" and hardware.iommu.ats.enabled.',
);

export const hmmMigrateSchema = obj(
  {
    impl: z.literal('hmm-migrate').describe('The strategy.'),
    granularityBytes: size(
      'How much a device fault migrates: the aligned block around the faulting page, "4KiB", "64KiB" or "2MiB", clipped to the region. Default 2 MiB: amdgpu SVM\'s default migration granularity (amdgpu.svm_default_granularity 9, 512 pages; drivers/gpu/drm/amd/amdkfd/kfd_svm.c).',
    )
      .pipe(
        z.union([z.literal(4096), z.literal(65536), z.literal(2097152)], {
          error: (iss) => `${iss.input} bytes is not a migration granularity; use "4KiB", "64KiB" or "2MiB"`,
        }),
      )
      .default(2097152),
    migrateOnFault: bool(
      "A device fault migrates the block to device memory (true), or only mirrors it as hmm-mirror does, mapping pages already in the device's memory locally and the rest over the link (false): pages then move only on a scripted migrate op, as with the kernel's HMM test driver (lib/test_hmm.c), whose reads and writes never migrate.",
    ).default(true),
    eviction: oneOf(
      ['none', 'lru', 'fifo'],
      'an eviction policy',
      'What happens when device memory is full: "none" (default), the pages that do not fit are mirrored over the link (nouveau\'s dmem has no eviction); "lru" or "fifo", a 2 MiB chunk of device-private memory is evicted back to system memory, least recently used or first allocated (amdgpu SVM evicts VRAM under pressure through TTM\'s LRU). With eviction, device memory is handed out in 2 MiB chunks, one per 2 MiB VA block.',
    ).default('none'),
    thrashing: thrashingSchema('none'),
    peerToPeer: bool(
      "A device that faults on a page in another device's private memory maps it there peer to peer (true), where the hardware has a route (hardware.pcieSwitch, hardware.peerToPeer), as multi-device SVM drivers do (TaPaSCo's multi-FPGA SVM maps a peer's memory over PCIe; the drm_pagemap work for xe gives devices with a fast interconnect one device-private owner, so hmm_range_fault returns the peer's page instead of faulting it back); or hmm_range_fault migrates the page back to system memory first (false, the default, as for any device-private page of another owner), a bounce through system memory.",
    ).default(false),
  },
  'Mirroring plus migration: a device fault migrates the block around the page to device-private memory (migrate_vma: collect, unmap with migration entries, copy, finalize); the CPU page table then holds device-private entries, and a CPU touch migrates the block back (migrate_to_ram). MAP_SHARED memory cannot migrate and is mirrored over the link, as are pages when device memory is full.',
);

const regionName = z
  .string({ error: "expected the name of one of the workload's regions" })
  .min(1, "give the name of one of the workload's regions")
  .max(64, 'a region name has at most 64 characters');

/** Thrashing detection and mitigation per 2 MiB block, for the strategies that evict (gmem, hmm-migrate). */
function thrashingSchema(mitigation: 'none' | 'map-remotely') {
  return obj(
    {
      mitigation: oneOf(
        ['none', 'map-remotely', 'pin-on-device'],
        'a thrashing mitigation',
        `What a 2 MiB block detected thrashing gets for pinMs: "map-remotely", its pages stay in system memory and devices map them over the link (the UVM driver pins the page and maps it remotely); "pin-on-device", its chunk is not evicted; "none", detected and counted only. Default "${mitigation}".`,
      ).default(mitigation),
      threshold: num(
        "Events that mark a block as thrashing. Default 3: the UVM driver's uvm_perf_thrashing_threshold.",
        { int: true, min: 1, max: 255 },
      ).default(3),
      windowUs: num(
        "An event (pages of a block migrating to a device again after they left it, evicted or faulted back by the CPU) counts toward the threshold when it comes within this many microseconds of the block's previous event. Default 1000000: the UVM driver's thrashing epoch (uvm_perf_thrashing_epoch_msec 1000), because capacity thrashing repeats at the period of the LRU cycle, far above its 250 us per-page lapse.",
        { min: 1, max: 1e9 },
      ).default(1_000_000),
      pinMs: num("How long a mitigation lasts. Default 150: the UVM driver's uvm_perf_thrashing_pin_msec.", {
        gt: 0,
        max: 1e6,
      }).default(150),
    },
    'Thrashing detection (N events within a window, per 2 MiB block) and mitigation.',
  ).default({ mitigation, threshold: 3, windowUs: 1_000_000, pinMs: 150 });
}

/** Advice for one region, in the spirit of hmadvise (GMEM) and cudaMemAdvise. */
export const gmemAdviceSchema = obj(
  {
    region: regionName.describe('The region the advice is for (a workload\'s region name, e.g. "table" or "a").'),
    preferredLocation: adviceFields.preferredLocation.default('none'),
    accessedBy: adviceFields.accessedBy.default(false),
    readMostly: adviceFields.readMostly.default(false),
  },
  'Advice for one region.',
);

export const gmemSchema = obj(
  {
    impl: z.literal('gmem').describe('The strategy.'),
    sharedRegions: z
      .union([z.literal('all'), z.array(regionName).min(1, 'list at least one region, or use "all"')])
      .default('all')
      .describe(
        'The regions the program opts in to the shared address space (GMEM maps only ranges created for peer sharing, not the whole mm): "all" (default) or a list of region names. A device access to any other region fails with EFAULT.',
      ),
    prefetcher: oneOf(
      ['none', 'sequential', 'density'],
      'a prefetcher',
      'What a device fault migrates besides its own device page: "none"; "sequential", the aligned 64 KiB around the fault (UVMSmart\'s sequential-local prefetcher); "density" (default), the UVM driver\'s tree prefetcher: over a bitmap tree of the 2 MiB block, the largest subregion around the fault whose resident and faulted pages exceed densityThresholdPercent is migrated whole (uvm_perf_prefetch.c).',
    ).default('density'),
    densityThresholdPercent: num(
      "Density prefetcher: a subregion is prefetched when more than this percentage of its pages is resident or faulting. Default 51: the UVM driver's uvm_perf_prefetch_threshold.",
      { int: true, min: 1, max: 100 },
    ).default(51),
    eviction: oneOf(
      ['lru', 'fifo'],
      'an eviction policy',
      'Which 2 MiB chunk to evict when device memory is full: "lru" (default), least recently used, touched on every fault that maps it, as the UVM driver\'s root-chunk LRU list; "fifo", the chunk allocated first. Chunks pinned by thrashing mitigation and the chunk being filled are never evicted; when no chunk can be evicted the fault maps the pages over the link instead.',
    ).default('lru'),
    thrashing: thrashingSchema('map-remotely'),
    peerToPeer: bool(
      "With several devices and a peer route between them (hardware.pcieSwitch, hardware.peerToPeer): a device with accessedBy advice maps a page that lives in another device's memory peer to peer where it is, a device faulting on a page whose preferred location is another device it can reach moves it there and maps it peer to peer, and a block thrashing between devices (map-remotely) is pinned on the device that detected it while the others map it peer to peer (true, the default), as the NVIDIA UVM driver does for peers it can access (uvm_va_block.c, block_select_processor_residency: an accessed-by processor keeps the page where it is when it can access that memory, and a processor that can access the preferred location makes the page resident there; uvm_perf_thrashing.c, get_hint_for_migration_thrashing: pin on the requester when every thrashing processor can access it); and a page a device faults on or prefetches that lives in another device's memory moves device to device, the owner's copy engines pushing it over the route (uvm_va_block.c, block_copy_resident_pages_between). false: such pages bounce back to system memory first and are mapped over the link, and a device that faults on a page whose preferred location is another device gets it as without advice.",
    ).default(true),
    advice: z.array(gmemAdviceSchema).default([]).describe('Advice per region (hmadvise / cudaMemAdvise).'),
  },
  'GMEM-style advised unified memory: regions opted in to one address space shared by CPU and devices; device faults migrate pages to device memory in batches with a prefetcher; device memory can be oversubscribed (2 MiB chunks evicted back to system memory); thrashing is detected and mitigated; advice per region (preferred location, accessed-by, read-mostly). A CPU touch of a page on a device migrates it back.',
);

export const coherentSchema = obj(
  {
    impl: z.literal('coherent').describe('The strategy.'),
    placement: oneOf(
      ['first-touch', 'device-preferred', 'host'],
      'a placement policy',
      'Where a new page is allocated. "first-touch" (default): on the node of whoever touches it first, the CPU (system memory) or the device (its memory), as Linux\'s default local-allocation policy places pages, and as system-allocated memory is placed on Grace Hopper over NVLink-C2C (Schieffer et al., "Harnessing Integrated CPU-GPU System Memory for HPC: a first look into Grace Hopper", ICPP 2024, arXiv 2407.07850). "device-preferred": in device memory whoever touches it, falling back to system memory when the device is full (MPOL_PREFERRED on the device\'s node, set_mempolicy(2)). "host": always in system memory (MPOL_BIND to the CPU\'s node); only migration moves pages to the device.',
    ).default('first-touch'),
    accessCounterMigration: oneOf(
      ['off', 'to-device', 'both'],
      'an access-counter migration mode',
      'Migration driven by access counters, NUMA-balancing style: hardware counts remote accesses per chunk and, past `accessCounterThreshold`, the driver moves the chunk to whoever accesses it. "off" (default): pages move only on a migrate op, so a CPU/device hand-over costs cache-line transfers and nothing else. "to-device": the device\'s accesses to system memory count (NVIDIA\'s MIMC counters; uvm_perf_access_counter_mimc_migration_enable defaults on only on POWER9 with ATS, nvidia-uvm/uvm_gpu_access_counters.c). "both": also the CPU\'s accesses to device memory move chunks back (NVIDIA\'s MOMC counters, off by default; Linux NUMA balancing\'s hinting faults do this for CPU tasks, kernel/sched/fair.c).',
    ).default('off'),
    accessCounterThreshold: num(
      "Remote accesses (cache lines) to one chunk that trigger its migration; the count restarts after each notification. Default 256: uvm_perf_access_counter_threshold in NVIDIA's UVM driver (valid 1-65535; nvidia-uvm/uvm_gpu_access_counters.c).",
      { int: true, min: 1, max: 65535 },
    ).default(256),
    accessCounterGranularityBytes: size(
      'The chunk each access counter tracks and that moves as one: "64KiB", "2MiB" or "16MiB", clipped to the region. Default 2 MiB: uvm_perf_access_counter_granularity in NVIDIA\'s UVM driver (valid since Volta: 64k, 2m, 16m, 16g; nvidia-uvm/uvm_gpu_access_counters.c).',
    )
      .pipe(
        z.union([z.literal(65536), z.literal(2097152), z.literal(16777216)], {
          error: (iss) => `${iss.input} bytes is not an access-counter granularity; use "64KiB", "2MiB" or "16MiB"`,
        }),
      )
      .default(2097152),
  },
  'Coherent device memory (CAPI/OpenCAPI, CXL.mem, NVLink-C2C): device memory is system memory on a NUMA-like node, with a struct page; the CPU reads and writes device-resident pages by cache line across the link and the device reads system memory the same way, with no fault either way; pages move only when migrated explicitly (a migrate op) or, optionally, by access counters. Needs a coherent link (hardware.link.impl "coherent") on every device.',
);
