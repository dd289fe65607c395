/**
 * gmem with two devices that can reach each other's memory (issue 7), after the NVIDIA UVM
 * driver's policy for peers: a device with accessed-by advice maps a page that lives in
 * another device's memory where it is (block_select_processor_residency), and a block
 * thrashing between the devices is pinned on one while the other maps it peer to peer
 * (get_hint_for_migration_thrashing). Without a route, or with peerToPeer false, the pages
 * go through system memory (to the accessed-by device, which cannot reach them where they are). Peer mappings go before the memory they map
 * on munmap, on a CPU fault that brings the page back and on eviction. Directions and
 * ratios, not exact numbers.
 */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/sim/index.js';
import { duration, metric, runTwoGpus, type Topology } from './two-gpus.js';

function run(
  topology: Topology,
  strategy: Record<string, unknown>,
  ops: Record<string, unknown>[],
  firstDevice: Record<string, unknown> = {},
): RunResult {
  return runTwoGpus({ name: 'gmem peers', topology, strategy: { impl: 'gmem', ...strategy }, ops, firstDevice });
}
const PAGES = 4096;

/** gpu0 produces the buffer in its memory; then the region gets accessed-by advice and gpu1 reads and gathers from it. */
const CONSUMER = [
  { op: 'dev.write', region: 'buf', device: 0 },
  { op: 'advise', region: 'buf', accessedBy: true },
  { op: 'dev.read', region: 'buf', device: 1 },
  { op: 'dev.compute', region: 'buf', device: 1, generator: 'gather', accesses: 50_000 },
  { op: 'munmap', region: 'buf' },
];
const READ = 3;
const GATHER = 4;
const MUNMAP = 5;
const consumerTime = (r: RunResult) => duration(r, READ) + duration(r, GATHER);

describe('gmem: accessed-by advice maps a page in another device memory peer to peer', () => {
  it('across a switch: nothing comes back to system memory, and the consumer is faster than bouncing', () => {
    const peer = run('switch', {}, CONSUMER);
    const bounce = run('switch', { peerToPeer: false }, CONSUMER);
    expect(metric(peer, 'mm.pages_migrated_to_host')).toBe(0);
    expect(metric(peer, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(peer, 'gpu1.p2p.bytes')).toBeGreaterThan(16 * 2 ** 20);
    // munmap tears every peer mapping down (before gpu0's chunks go: no error).
    expect(metric(peer, 'p2p.unmapped_pages')).toBe(PAGES);
    // peerToPeer false: every page goes through system memory to gpu1, which cannot reach gpu0's memory.
    expect(metric(bounce, 'mm.pages_migrated_to_host')).toBe(PAGES);
    expect(metric(bounce, 'p2p.bytes')).toBe(0);
    expect(consumerTime(peer)).toBeLessThan(consumerTime(bounce) * 0.7);
  });

  it('through the root complex the IOMMU translates each peer access and unmaps each page', () => {
    const viaSwitch = run('switch', {}, CONSUMER);
    const viaRoot = run('root-ports', {}, CONSUMER);
    expect(metric(viaRoot, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(viaRoot, 'iommu.iotlb_misses')).toBeGreaterThan(metric(viaSwitch, 'iommu.iotlb_misses') + PAGES);
    expect(duration(viaRoot, GATHER)).toBeGreaterThan(duration(viaSwitch, GATHER) * 1.3);
    expect(duration(viaRoot, MUNMAP)).toBeGreaterThan(duration(viaSwitch, MUNMAP) * 10);
  });

  it('without a peer route the pages bounce through system memory, as with peerToPeer false', () => {
    const none = run('no-route', {}, CONSUMER);
    expect(metric(none, 'p2p.mapped_pages')).toBe(0);
    expect(metric(none, 'p2p.bytes')).toBe(0);
    expect(metric(none, 'mm.pages_migrated_to_host')).toBe(PAGES);
  });

  it('a CPU touch of a page gpu1 maps peer to peer tears the mapping down before the page leaves gpu0', () => {
    const r = run('switch', {}, [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'advise', region: 'buf', accessedBy: true },
      { op: 'dev.read', region: 'buf', device: 1 },
      { op: 'cpu.read', region: 'buf', sizeBytes: '64KiB' },
      // gpu1 faults again on the 64 KiB that came back and maps them over its link.
      { op: 'dev.read', region: 'buf', device: 1, sizeBytes: '64KiB' },
      { op: 'snapshot', region: 'buf', device: 1, sizeBytes: '128KiB' },
    ]);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(16);
    expect(metric(r, 'gpu1.p2p.unmapped_pages')).toBe(16);
    const pages = r.snapshots[0].pages;
    expect(pages.slice(0, 16).every((s) => s === 'read' || s === 'write')).toBe(true);
    expect(pages.slice(16).every((s) => s === 'device-private-remote')).toBe(true);
  });

  it("evicting gpu0's chunk tears down gpu1's peer mappings of it first", () => {
    // gpu0 holds two 2 MiB chunks: the second buffer evicts one of the first.
    const r = run(
      'switch',
      { advice: [{ region: 'buf', accessedBy: true }] },
      [
        { op: 'munmap', region: 'buf' },
        { op: 'mmap', name: 'a', sizeBytes: '4MiB' },
        { op: 'mmap', name: 'b', sizeBytes: '2MiB' },
        { op: 'migrate', region: 'a', device: 0 },
        { op: 'advise', region: 'a', accessedBy: true },
        { op: 'dev.read', region: 'a', device: 1 },
        { op: 'dev.write', region: 'b', device: 0 },
        { op: 'dev.read', region: 'a', device: 1 },
      ],
      { dram: { capacityBytes: '4MiB' } },
    );
    expect(metric(r, 'mm.evictions')).toBeGreaterThan(0);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(1024);
    // One chunk's 512 peer mappings went with the eviction; gpu1 reads those pages over its link now.
    expect(metric(r, 'gpu1.p2p.unmapped_pages')).toBe(512);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBeGreaterThan(0);
  });
});

describe('gmem: thrashing between two devices', () => {
  /** gpu0 and gpu1 take turns writing the whole buffer. */
  const PING_PONG = Array.from({ length: 8 }, (_, i) => ({ op: 'dev.write', region: 'buf', device: i % 2 }));
  const total = (r: RunResult) => r.ops.reduce((s, o) => s + o.durationNs, 0);

  it('is mitigated by pinning each block on one device and mapping it peer to peer from the other', () => {
    const peer = run('switch', {}, PING_PONG);
    const viaHost = run('switch', { peerToPeer: false }, PING_PONG);
    expect(metric(peer, 'mm.thrashing_events')).toBeGreaterThan(0);
    expect(metric(viaHost, 'mm.thrashing_events')).toBeGreaterThan(0);
    // Pinned on gpu1 (which detected it): gpu0 writes there peer to peer, gpu1 locally
    // (gpu0's p2p.bytes also count the pages its copy engines pushed to gpu1 before the pin).
    expect(metric(peer, 'gpu0.p2p.bytes') - metric(peer, 'gpu0.copy.peer_bytes')).toBe(3 * 16 * 2 ** 20);
    expect(metric(peer, 'mm.pages_migrated_to_host')).toBe(0);
    expect(metric(peer, 'gpu1.device.local_bytes')).toBeGreaterThan(3 * 16 * 2 ** 20);
    // Once pinned nothing moves: gpu1's last write, local, takes a fraction of gpu0's, peer to peer.
    expect(duration(peer, 8)).toBeLessThan(duration(peer, 7) / 20);
    // Pinned in system memory instead (map-remotely without peers), both devices write over their links.
    expect(metric(viaHost, 'p2p.bytes')).toBe(0);
    expect(duration(viaHost, 8)).toBeGreaterThan(duration(viaHost, 7) / 2);
    expect(total(peer)).toBeLessThan(total(viaHost) * 0.85);
  });

  it('pins in system memory when the devices cannot reach each other', () => {
    const none = run('no-route', {}, PING_PONG);
    expect(metric(none, 'mm.thrashing_events')).toBeGreaterThan(0);
    expect(metric(none, 'p2p.bytes')).toBe(0);
  });
});
