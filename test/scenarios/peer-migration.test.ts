/**
 * gmem migrates a page that lives in another device's memory straight to the faulting (or
 * prefetching) device over the peer route, as the NVIDIA UVM driver does between GPUs with
 * peer access (block_copy_resident_pages_between, the source's copy engines pushing the
 * data), instead of bouncing it through system memory. Through the root complex the copy's
 * peer addresses are DMA-mapped in the IOMMU once per destination page and source, and
 * unmapped when the destination frame goes. Peer mappings of a page go before the old
 * owner's frame. Directions and ratios, not exact numbers.
 */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/sim/index.js';
import { duration, metric, runTwoGpus, type Topology } from './two-gpus.js';

const MiB = 2 ** 20;
const PAGES = 4096;

function run(
  topology: Topology,
  ops: Record<string, unknown>[],
  strategy: Record<string, unknown> = {},
  hardware: Record<string, unknown> = {},
): RunResult {
  return runTwoGpus({
    name: 'gmem migration between devices',
    topology,
    strategy: { impl: 'gmem', ...strategy },
    ops,
    hardware,
  });
}

/** gpu0 produces the buffer in its memory, then gpu1 writes all of it and gathers from it. */
const HANDOFF = [
  { op: 'dev.write', region: 'buf', device: 0 },
  { op: 'dev.write', region: 'buf', device: 1 },
  { op: 'dev.compute', region: 'buf', device: 1, generator: 'gather', accesses: 50_000 },
];
const handoffTime = (r: RunResult) => duration(r, 2) + duration(r, 3);

/** An explicit prefetch to gpu1 of what gpu0 holds: directly, or staged through system memory. */
const PREFETCH = [
  { op: 'dev.write', region: 'buf', device: 0 },
  { op: 'migrate', region: 'buf', device: 1 },
];
const STAGED = [
  { op: 'dev.write', region: 'buf', device: 0 },
  { op: 'prefetch', region: 'buf', to: 'host' },
  { op: 'migrate', region: 'buf', device: 1 },
];

describe('gmem: a page in another device memory migrates device to device', () => {
  it('under a switch: counted as a migration to gpu1 and as peer bytes, nothing through system memory', () => {
    const r = run('switch', HANDOFF);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu1.mm.bytes_to_device')).toBe(16 * MiB);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
    // The source's copy engines push the data across the switch.
    expect(metric(r, 'gpu0.p2p.bytes')).toBe(16 * MiB);
    expect(metric(r, 'copy.peer_bytes')).toBe(16 * MiB);
    // gpu1 then works on its own memory.
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(0);
    // The switch carries it: the IOMMU maps nothing for it.
    expect(metric(r, 'copy.peer_dma_mapped_pages')).toBe(0);
  });

  it('beats the bounce through system memory on a fault (peerToPeer false) and on a prefetch (staged by hand)', () => {
    const direct = run('switch', HANDOFF);
    const bounce = run('switch', HANDOFF, { peerToPeer: false });
    expect(metric(bounce, 'mm.pages_migrated_to_host')).toBe(PAGES);
    expect(metric(bounce, 'p2p.bytes')).toBe(0);
    expect(handoffTime(direct)).toBeLessThan(handoffTime(bounce) * 0.7);

    const prefetch = run('switch', PREFETCH);
    const staged = run('switch', STAGED);
    expect(metric(prefetch, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(staged, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(staged, 'mm.pages_migrated_to_host')).toBe(PAGES);
    // One crossing of the switch against two of the links (up to the host, down to gpu1).
    expect(duration(prefetch, 2)).toBeLessThan((duration(staged, 2) + duration(staged, 3)) * 0.7);
  });

  it('without a route, or with peerToPeer false, a fault bounces the page through system memory as before', () => {
    for (const [topology, strategy] of [
      ['no-route', {}],
      ['switch', { peerToPeer: false }],
    ] as const) {
      const r = run(topology, HANDOFF, strategy);
      expect(metric(r, 'p2p.bytes')).toBe(0);
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES);
      expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    }
  });

  it('through the root complex the copy costs IOMMU work: a DMA mapping per page, and its unmap when the frame goes', () => {
    const ops = [...HANDOFF, { op: 'munmap', region: 'buf' }];
    const viaSwitch = run('switch', ops);
    const viaRoot = run('root-ports', ops);
    expect(metric(viaRoot, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(viaRoot, 'copy.peer_dma_mapped_pages')).toBe(PAGES);
    // munmap frees gpu1's frames: the mappings gpu0's copies used go with them.
    expect(metric(viaRoot, 'copy.peer_dma_unmapped_pages')).toBe(PAGES);
    // A walk per page the copy writes through the root complex.
    expect(metric(viaRoot, 'iommu.iotlb_misses')).toBeGreaterThanOrEqual(
      metric(viaSwitch, 'iommu.iotlb_misses') + PAGES,
    );
    expect(metric(viaRoot, 'iommu.invalidation_commands')).toBeGreaterThanOrEqual(
      metric(viaSwitch, 'iommu.invalidation_commands') + PAGES,
    );
    expect(duration(viaRoot, 2)).toBeGreaterThan(duration(viaSwitch, 2) * 1.1);
    // Without the IOMMU translating, nothing to map.
    const passthrough = run('root-ports', ops, {}, { iommu: { mode: 'passthrough' } });
    expect(metric(passthrough, 'copy.peer_dma_mapped_pages')).toBe(0);
    expect(duration(passthrough, 2)).toBeLessThan(duration(viaRoot, 2));
  });

  it('through the root complex a frame mapped once is not mapped again while it lives', () => {
    // gpu0's pages go to gpu1 and come back, twice: each move lands in fresh frames, whose
    // mappings the frees before it dropped; the count follows the frames, not the copies.
    const pingPong = [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'migrate', region: 'buf', device: 1 },
      { op: 'migrate', region: 'buf', device: 0 },
      { op: 'migrate', region: 'buf', device: 1 },
    ];
    const r = run('root-ports', pingPong);
    expect(metric(r, 'copy.peer_bytes')).toBe(3 * 16 * MiB);
    expect(metric(r, 'copy.peer_dma_mapped_pages')).toBe(3 * PAGES);
    // The frames gpu1 and then gpu0 gave up were unmapped; gpu1's last ones still live.
    expect(metric(r, 'copy.peer_dma_unmapped_pages')).toBe(2 * PAGES);
  });

  it("tears down gpu1's peer mappings of gpu0's pages before gpu0's frames go", () => {
    const r = run('switch', [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'advise', region: 'buf', accessedBy: true },
      { op: 'dev.read', region: 'buf', device: 1 },
      { op: 'migrate', region: 'buf', device: 1 },
      { op: 'snapshot', region: 'buf', device: 1, sizeBytes: '64KiB' },
    ]);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.p2p.unmapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    // gpu1 maps them in its own memory now, no longer peer to peer.
    expect(r.snapshots[0].pages.every((s) => s === 'device-private')).toBe(true);
  });
});
