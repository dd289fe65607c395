/**
 * gmem accessed-by advice after a migration, on two gpu-pcie4-hbm2 GPUs: once pages move,
 * every other device with accessed-by advice for the region that can reach their new
 * residency maps them there, as the NVIDIA UVM driver does
 * (kernel-open/nvidia-uvm/uvm_va_block.c: uvm_va_block_service_finish, step 4,
 * block_service_finish_map_accessed_by -> uvm_va_block_add_mappings_after_migration, for GPU
 * and CPU faults; uvm_migrate.c, block_migrate_map_unmapped_pages, for a prefetch;
 * block_add_eviction_mappings after an eviction): it then reads them without a single
 * device fault. Exact outcomes of scripted scenarios.
 */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/sim/index.js';
import { duration, metric, runTwoGpus, type Topology } from './two-gpus.js';

const PAGES = 4096;
const KiB = 1024;
const MiB = 2 ** 20;

function run(
  topology: Topology,
  advice: Record<string, unknown>,
  ops: Record<string, unknown>[],
  hardware?: Record<string, unknown>,
): RunResult {
  return runTwoGpus({
    name: 'gmem accessed-by after a migration',
    topology,
    strategy: { impl: 'gmem', advice: [{ region: 'buf', ...advice }] },
    ops,
    hardware,
  });
}

/** GPU 0 faults the buffer in (it has no advice: its faults migrate), then GPU 1 reads it all. */
const GPU0_WRITES_GPU1_READS = [
  { op: 'dev.write', region: 'buf', device: 0 },
  { op: 'dev.read', region: 'buf', device: 1 },
];
const GPU0_WRITE = 1;
const GPU1_READ = 2;

describe('gmem: accessed-by devices map the pages where a migration put them', () => {
  it("across a switch GPU 1 maps GPU 0's new pages peer to peer during GPU 0's faults, and reads them without a fault", () => {
    const r = run('switch', { accessedBy: [1] }, GPU0_WRITES_GPU1_READS);
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu0.device.page_faults')).toBeGreaterThan(0);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.p2p.bytes')).toBe(16 * MiB);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
    // Without the advice GPU 1 faults and takes the buffer, device to device.
    const none = run('switch', {}, GPU0_WRITES_GPU1_READS);
    expect(metric(none, 'gpu1.device.page_faults')).toBeGreaterThan(0);
    expect(metric(none, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    // GPU 0's faults pay for GPU 1's mappings; GPU 1's read is then only its reads.
    expect(duration(r, GPU0_WRITE)).toBeGreaterThan(duration(none, GPU0_WRITE));
    expect(duration(r, GPU1_READ)).toBeLessThan(duration(none, GPU1_READ) / 2);
  });

  it('through the root complex too (a peer route), each page DMA-mapped in the IOMMU', () => {
    const r = run('root-ports', { accessedBy: [1] }, GPU0_WRITES_GPU1_READS);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
  });

  it('without a route GPU 1 cannot access the new residency: it is not mapped, and its faults make the pages resident on it', () => {
    // The driver maps only the accessed-by processors that can access the new residency
    // (accessible_from); GPU 1's own faults then find the pages where it cannot reach them,
    // and block_select_processor_residency falls through to the faulting processor: they
    // come to GPU 1 through system memory (a staging copy), and it reads them locally.
    for (const [topology, strategy] of [
      ['no-route', {}],
      ['switch', { peerToPeer: false }],
    ] as const) {
      const r = runTwoGpus({
        name: 'gmem accessed-by, no route',
        topology,
        strategy: { impl: 'gmem', ...strategy, advice: [{ region: 'buf', accessedBy: [1] }] },
        ops: [
          { op: 'dev.write', region: 'buf', device: 0 },
          { op: 'snapshot', region: 'buf', device: 1 },
          ...GPU0_WRITES_GPU1_READS.slice(1),
        ],
      });
      expect(metric(r, 'p2p.mapped_pages')).toBe(0);
      expect(r.snapshots[0].pages.every((s) => s === 'device-private-remote')).toBe(true);
      expect(metric(r, 'gpu1.device.page_faults')).toBeGreaterThan(0);
      expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES);
      expect(metric(r, 'gpu1.device.remote_bytes')).toBe(0);
      expect(metric(r, 'gpu1.device.local_bytes')).toBe(16 * MiB);
    }
  });

  it('the preferred location in the accessed-by list maps the pages another device moved into its memory', () => {
    // GPU 0's faults move the pages to GPU 1, the preferred location, and map them there peer
    // to peer; GPU 1 maps them too (its own memory is the new residency), and reads without a fault.
    const r = run('switch', { preferredLocation: { device: 1 }, accessedBy: [1] }, GPU0_WRITES_GPU1_READS);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu0.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.device.local_bytes')).toBe(16 * MiB);
  });

  it('a preferred location gets no remote mapping when the pages go elsewhere', () => {
    // GPU 0 prefetches the buffer into its memory: GPU 1 is accessed-by but the preferred
    // location, which uvm_va_block_add_mappings_after_migration leaves out; its faults then
    // migrate the pages to it.
    const r = run('switch', { preferredLocation: { device: 1 }, accessedBy: [1] }, [
      { op: 'migrate', region: 'buf', device: 0 },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu1.device.page_faults')).toBeGreaterThan(0);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
  });

  it('read-mostly takes precedence: no accessed-by mappings', () => {
    const r = run('switch', { accessedBy: [1], readMostly: true }, GPU0_WRITES_GPU1_READS);
    expect(metric(r, 'gpu1.device.page_faults')).toBeGreaterThan(0);
  });
});

describe('gmem: accessed-by devices follow the pages back to system memory', () => {
  it('a prefetch to a device, then back to the host: GPU 1 maps them each time and never faults', () => {
    const r = run('switch', { accessedBy: [1] }, [
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf', device: 0 },
      { op: 'dev.read', region: 'buf', device: 1 },
      { op: 'migrate', region: 'buf', to: 'host' },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    // First in GPU 0's memory, then over its link in system memory.
    expect(metric(r, 'gpu1.p2p.bytes')).toBe(16 * MiB);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(16 * MiB);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES);
  });

  it('a CPU touch brings 64 KiB back: GPU 1 maps those over its link, the rest stays peer to peer', () => {
    const r = run('switch', { accessedBy: [1] }, [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'cpu.read', region: 'buf', sizeBytes: '4KiB' },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(16);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(64 * KiB);
    expect(metric(r, 'gpu1.p2p.bytes')).toBe(16 * MiB - 64 * KiB);
  });

  it("an eviction brings GPU 0's chunks back: GPU 1 maps them over its link, and never faults", () => {
    // GPU 0 has 4 MiB (two chunks): writing 16 MiB evicts as it goes, and ends with its last
    // two blocks; the other twelve MiB are back in system memory.
    const small = { devices: [{ dram: { capacityBytes: '4MiB' } }, {}] };
    const r = run('switch', { accessedBy: [1] }, GPU0_WRITES_GPU1_READS, small);
    const none = run('switch', {}, GPU0_WRITES_GPU1_READS, small);
    // The mappings come from a work item after the eviction: GPU 0's evictions are as without them.
    expect(metric(r, 'gpu0.mm.evictions')).toBe(metric(none, 'gpu0.mm.evictions'));
    expect(metric(r, 'gpu0.mm.evictions')).toBeGreaterThanOrEqual(6);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(none, 'gpu1.device.page_faults')).toBe(PAGES);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(12 * MiB);
    expect(metric(r, 'gpu1.p2p.bytes')).toBe(4 * MiB);
  });
});

describe('gmem: an accessed-by device makes resident on itself only the pages it cannot reach', () => {
  // block_select_processor_residency, per page: an accessed-by processor keeps a page
  // where it can access it (system memory always, over its link); a page in memory it
  // cannot access falls through to the faulting processor. No prefetcher, so that each
  // fault moves its own pages only (the driver prefetches only when every faulting page
  // of a block goes to one processor).
  const ops = [
    { op: 'dev.write', region: 'buf', device: 0 },
    // The first 64 KiB come back to system memory (a CPU fault brings the big page).
    { op: 'cpu.read', region: 'buf', sizeBytes: '4KiB' },
    { op: 'dev.read', region: 'buf', device: 1 },
  ];
  for (const topology of ['no-route', 'switch-p2p-off'] as const) {
    it(`${topology}: the 64 KiB in system memory stay there and GPU 1 maps them over its link; the rest comes to GPU 1`, () => {
      const r = runTwoGpus({
        name: 'gmem accessed-by, residency per page',
        topology: topology === 'no-route' ? 'no-route' : 'switch',
        strategy: {
          impl: 'gmem',
          prefetcher: 'none',
          ...(topology === 'no-route' ? {} : { peerToPeer: false }),
          advice: [{ region: 'buf', accessedBy: [1] }],
        },
        ops,
      });
      expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES - 16);
      expect(metric(r, 'gpu1.device.remote_bytes')).toBe(64 * KiB);
      expect(metric(r, 'gpu1.device.local_bytes')).toBe(16 * MiB - 64 * KiB);
      // The 16 the CPU took, then the rest on their way to GPU 1.
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES);
      expect(metric(r, 'p2p.mapped_pages')).toBe(0);
    });
  }
});

describe('gmem: one fault of an accessed-by device with pages in both places', () => {
  it("GPU 1's 64 KiB device page: the half in GPU 0's memory comes to GPU 1, the half in system memory stays", () => {
    // GPU 0 (4 KiB device pages, no prefetcher) takes the first 32 KiB; GPU 1's first
    // fault covers 64 KiB: 8 pages it cannot reach and 8 in system memory.
    const r = runTwoGpus({
      name: 'gmem accessed-by, a mixed fault',
      topology: 'no-route',
      firstDevice: { mmu: { pageSizeBytes: '4KiB' } },
      strategy: { impl: 'gmem', prefetcher: 'none', advice: [{ region: 'buf', accessedBy: [1] }] },
      ops: [
        { op: 'cpu.write', region: 'buf' },
        { op: 'dev.write', region: 'buf', device: 0, sizeBytes: '32KiB' },
        { op: 'dev.read', region: 'buf', device: 1, sizeBytes: '64KiB' },
      ],
    });
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(8);
    // One fault (the 16 pages' faults coalesced into it).
    expect(metric(r, 'gpu1.device.page_faults') - metric(r, 'gpu1.device.faults_coalesced')).toBe(1);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(8);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(32 * KiB);
    expect(metric(r, 'gpu1.device.local_bytes')).toBe(32 * KiB);
    // Staying in system memory by the advice is not a failed migration.
    expect(metric(r, 'mm.migration_fallback_pages')).toBe(0);
  });
});

describe('gmem: the advise op maps accessed-by devices where the pages are now', () => {
  // cudaMemAdvise(SetAccessedBy) maps the device to every resident page it can access
  // (uvm_va_range_set_accessed_by -> uvm_va_block_set_accessed_by ->
  // uvm_va_block_add_mappings), in the call's time.
  const ADVISE = 2;
  const READ = 3;

  it("in GPU 0's memory: GPU 1 maps them peer to peer during the advise op, then reads without a fault", () => {
    const ops = (accessedBy: unknown) => [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'advise', region: 'buf', accessedBy },
      { op: 'dev.read', region: 'buf', device: 1 },
    ];
    const r = run('switch', {}, ops([1]));
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.p2p.bytes')).toBe(16 * MiB);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    // The mappings are the advise op's time; advice for a device that maps nothing costs none.
    const none = run('switch', {}, ops([]));
    expect(duration(none, ADVISE)).toBe(0);
    expect(duration(r, ADVISE)).toBeGreaterThan(0);
    expect(duration(r, READ)).toBeLessThan(duration(none, READ) / 2);
  });

  it('in system memory: GPU 1 maps them over its link (DMA-mapped) during the advise op', () => {
    const r = run('switch', {}, [
      { op: 'cpu.write', region: 'buf' },
      { op: 'advise', region: 'buf', accessedBy: [1] },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(16 * MiB);
    expect(metric(r, 'mm.dma_mapped_pages')).toBe(PAGES);
    expect(duration(r, ADVISE)).toBeGreaterThan(0);
  });

  it('maps only what the device can access, and nothing that is not resident yet', () => {
    // No route to GPU 0's memory: nothing mapped; GPU 1's faults take the pages.
    const noRoute = run('no-route', {}, [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'advise', region: 'buf', accessedBy: [1] },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(duration(noRoute, ADVISE)).toBe(0);
    expect(metric(noRoute, 'gpu1.device.page_faults')).toBeGreaterThan(0);
    // Given before the CPU writes, the advice finds no page resident and maps none.
    const early = run('switch', {}, [
      { op: 'advise', region: 'buf', accessedBy: [1] },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(duration(early, 1)).toBe(0);
    expect(metric(early, 'gpu1.device.page_faults')).toBeGreaterThan(0);
    expect(metric(early, 'gpu1.device.remote_bytes')).toBe(16 * MiB);
  });

  it('read-mostly takes precedence: the advise op maps nothing', () => {
    const r = run('switch', {}, [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'advise', region: 'buf', accessedBy: [1], readMostly: true },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(duration(r, ADVISE)).toBe(0);
    expect(metric(r, 'gpu1.device.page_faults')).toBeGreaterThan(0);
  });

  it('taking accessed-by back leaves the mappings it made (uvm_va_range_unset_accessed_by unmaps nothing)', () => {
    const r = run('switch', {}, [
      { op: 'cpu.write', region: 'buf' },
      { op: 'advise', region: 'buf', accessedBy: [1] },
      { op: 'advise', region: 'buf', accessedBy: false },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
  });

  it('the old preferred location, accessed-by, maps the pages when the preferred location changes', () => {
    // GPU 1 is the preferred location and accessed-by: GPU 0's prefetch leaves it unmapped
    // (no remote mappings for the preferred location). Unsetting the preferred location
    // maps it (uvm_va_range_set_preferred_location: the old one gets its accessed-by mappings).
    const r = run('switch', { preferredLocation: { device: 1 }, accessedBy: [1] }, [
      { op: 'migrate', region: 'buf', device: 0 },
      { op: 'advise', region: 'buf', preferredLocation: 'none' },
      { op: 'dev.read', region: 'buf', device: 1 },
    ]);
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(duration(r, ADVISE)).toBeGreaterThan(0);
  });
});

describe('gmem: a fault that maps pages where they are maps the other accessed-by devices too', () => {
  // uvm_va_block_service_finish maps the accessed-by processors for every serviced page of
  // a residency, whether it moved there or was already there
  // (block_service_finish_map_accessed_by). The advice is in the strategy's list, given
  // before any page is resident, so that only the faults map.
  const CPU_WRITES_GPU0_GPU1_READ = [
    { op: 'cpu.write', region: 'buf' },
    { op: 'dev.read', region: 'buf', device: 0 },
    { op: 'dev.read', region: 'buf', device: 1 },
  ];

  it("accessed-by both GPUs: GPU 0's faults keep the pages in system memory and map GPU 1 over its link too", () => {
    const r = run('switch', { accessedBy: [0, 1] }, CPU_WRITES_GPU0_GPU1_READ);
    expect(metric(r, 'gpu0.device.page_faults')).toBeGreaterThan(0);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(16 * MiB);
    // GPU 0's read pays for GPU 1's mappings; only GPU 1's faults' own would be cheaper.
    const gpu1Only = run('switch', { accessedBy: [0] }, CPU_WRITES_GPU0_GPU1_READ);
    expect(duration(r, 2)).toBeGreaterThan(duration(gpu1Only, 2));
  });

  it('preferred location host: GPU 0 maps the pages over its link, and GPU 1 (accessed-by) with it', () => {
    const r = run('switch', { preferredLocation: 'host', accessedBy: [1] }, CPU_WRITES_GPU0_GPU1_READ);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'gpu1.device.page_faults')).toBe(0);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(16 * MiB);
  });
});
