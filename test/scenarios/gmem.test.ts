/**
 * gmem: advised unified memory. Checked against what the UVM driver's design makes happen
 * (uvm_perf_prefetch.c, uvm_perf_thrashing.c, root-chunk eviction) on directions and
 * ratios, not exact numbers: the density prefetcher cuts a stream's faults, oversubscribed
 * random access thrashes without mitigation and recovers with it, eviction that finds
 * nothing falls back instead of looping, LRU and FIFO pick different victims, and advice
 * changes where pages live.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseExperiment, simulate, validateExperiment, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const metric = (r: RunResult, name: string) => r.metrics[name].value;
const op = (r: RunResult, i: number) => r.ops.find((o) => o.index === i)!;
const snapshot = (r: RunResult, i: number) => r.snapshots.find((s) => s.opIndex === i)!.pages;

function run(strategy: Record<string, unknown>, workload: Record<string, unknown>, device: Record<string, unknown>) {
  return simulate(
    parseExperiment(
      {
        name: 'gmem',
        hardware: { preset: 'gpu-pcie4-hbm2', device },
        strategy: { impl: 'gmem', ...strategy },
        workload,
      },
      presets,
    ),
  );
}

function runScript(ops: Record<string, unknown>[], strategy: Record<string, unknown> = {}, device = {}): RunResult {
  const r = run(
    strategy,
    { impl: 'scripted', ops },
    {
      computeUnits: 2,
      contextsPerUnit: 2,
      mmu: { pageSizeBytes: '4KiB' },
      ...device,
    },
  );
  expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
  return r;
}

describe('gmem prefetchers', () => {
  // A streaming kernel on a small accelerator (4 contexts): each context's faults walk its
  // part of the arrays in order, so the density tree fills level by level.
  const stream = { impl: 'stream', arrayBytes: '16MiB', iterations: 1, initOnCpu: true, readBackOnCpu: false };
  const small = { computeUnits: 1, contextsPerUnit: 4, mmu: { pageSizeBytes: '4KiB' } };

  it('the density prefetcher cuts device faults on streaming by more than 10x, and the kernel time with them', () => {
    const none = run({ prefetcher: 'none' }, stream, small);
    const sequential = run({ prefetcher: 'sequential' }, stream, small);
    const density = run({ prefetcher: 'density' }, stream, small);
    const faults = (r: RunResult) => metric(r, 'device.page_faults');
    // Without a prefetcher every 4 KiB page of a, b and c faults once.
    expect(faults(none)).toBe(3 * 4096);
    expect(faults(none) / faults(density)).toBeGreaterThan(10);
    // The 64 KiB sequential-local prefetcher sits in between.
    expect(faults(sequential)).toBeLessThan(faults(none) / 2);
    expect(faults(sequential)).toBeGreaterThan(faults(density));
    // Every page still migrates once, most of them prefetched, in far fewer migrations.
    expect(metric(density, 'mm.pages_migrated_to_device')).toBe(3 * 4096);
    expect(metric(density, 'mm.prefetched_pages')).toBeGreaterThan(0.9 * 3 * 4096);
    expect(metric(none, 'mm.prefetched_pages')).toBe(0);
    expect(metric(density, 'mm.migrations_to_device')).toBeLessThan(metric(none, 'mm.migrations_to_device') / 10);
    expect(metric(density, 'sim.time_ns')).toBeLessThan(metric(none, 'sim.time_ns') / 3);
  });

  it('with many contexts faulting in lockstep the density tree gains less: their faults arrive before any prefetch', () => {
    const wide = { computeUnits: 16, contextsPerUnit: 4, mmu: { pageSizeBytes: '4KiB' } };
    const none = run({ prefetcher: 'none' }, stream, wide);
    const density = run({ prefetcher: 'density' }, stream, wide);
    const ratio = metric(none, 'device.page_faults') / metric(density, 'device.page_faults');
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(10);
  });
});

describe('gmem oversubscription', () => {
  // 96 MiB of random reads on a device with 64 MiB: the table cannot fit.
  const gather = { impl: 'gather', tableBytes: '96MiB', accesses: 100_000, elementBytes: 8, initOnCpu: false };
  const device = { dram: { capacityBytes: '64MiB' }, mmu: { pageSizeBytes: '4KiB' } };

  it('random access thrashes without mitigation and recovers with it (map remotely, or pin on the device)', () => {
    const thrash = run({ thrashing: { mitigation: 'none' } }, gather, device);
    const remote = run({ thrashing: { mitigation: 'map-remotely' } }, gather, device);
    const pinned = run({ thrashing: { mitigation: 'pin-on-device' } }, gather, device);
    // Detected in all three; acted on in two.
    for (const r of [thrash, remote, pinned]) expect(metric(r, 'mm.thrashing_events')).toBeGreaterThan(0);
    for (const r of [remote, pinned]) {
      expect(metric(r, 'sim.time_ns')).toBeLessThan(metric(thrash, 'sim.time_ns') / 3);
      expect(metric(r, 'mm.evictions')).toBeLessThan(metric(thrash, 'mm.evictions') / 5);
      expect(metric(r, 'link.d2h_bytes')).toBeLessThan(metric(thrash, 'link.d2h_bytes') / 5);
    }
    // Thrashing: chunks go back and forth, far more than the table's 48 blocks.
    expect(metric(thrash, 'mm.evictions')).toBeGreaterThan(10 * 48);
    expect(metric(thrash, 'mm.pages_migrated_to_host')).toBeGreaterThan(
      metric(thrash, 'mm.pages_migrated_to_device') / 2,
    );
    // Memory in use never exceeds the device's.
    for (const r of [thrash, remote, pinned])
      expect(metric(r, 'device.memory_peak_bytes')).toBeLessThanOrEqual(64 * MiB);
  });

  it('a device without a single free 2 MiB chunk maps everything over the link: eviction finds nothing and the run ends', () => {
    const r = run(
      {},
      { ...gather, tableBytes: '8MiB', accesses: 2000 },
      { ...device, dram: { capacityBytes: '1MiB' } },
    );
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'mm.evictions')).toBe(0);
    expect(metric(r, 'mm.migration_fallback_pages')).toBeGreaterThan(0);
    expect(metric(r, 'device.remote_bytes')).toBeGreaterThan(0);
  });

  it('LRU evicts the chunk touched longest ago, FIFO the one allocated first', () => {
    // Two 2 MiB chunks of device memory; blocks a, b, then a again (a fault in its second
    // half touches its chunk), then c needs room.
    const ops = [
      { op: 'mmap', name: 'a', sizeBytes: '2MiB' },
      { op: 'mmap', name: 'b', sizeBytes: '2MiB' },
      { op: 'mmap', name: 'c', sizeBytes: '2MiB' },
      { op: 'dev.read', region: 'a', sizeBytes: '1MiB' },
      { op: 'dev.read', region: 'b' },
      { op: 'dev.read', region: 'a', offsetBytes: '1MiB' },
      { op: 'dev.read', region: 'c' },
      { op: 'snapshot', region: 'a', sizeBytes: '4KiB' },
      { op: 'snapshot', region: 'b', sizeBytes: '4KiB' },
    ];
    const strategy = { prefetcher: 'none' };
    const device = { dram: { capacityBytes: '4MiB' } };
    const lru = runScript(ops, { ...strategy, eviction: 'lru' }, device);
    const fifo = runScript(ops, { ...strategy, eviction: 'fifo' }, device);
    // An evicted page is back in system memory, written (it holds what the device had).
    expect([snapshot(lru, 7), snapshot(lru, 8)]).toEqual([['device-private'], ['write']]);
    expect([snapshot(fifo, 7), snapshot(fifo, 8)]).toEqual([['write'], ['device-private']]);
    for (const r of [lru, fifo]) expect(metric(r, 'mm.evictions')).toBe(1);
  });
});

describe('gmem address space and advice', () => {
  it('a device fault migrates; a CPU touch brings the 64 KiB around it back; the device faults again after', () => {
    const r = runScript(
      [
        { op: 'mmap', name: 'buf', sizeBytes: '256KiB' },
        { op: 'cpu.write', region: 'buf' },
        { op: 'dev.read', region: 'buf' },
        { op: 'snapshot', region: 'buf' },
        { op: 'cpu.read', region: 'buf', sizeBytes: '4KiB' },
        { op: 'snapshot', region: 'buf' },
        { op: 'dev.read', region: 'buf' },
      ],
      { prefetcher: 'none' },
    );
    expect(snapshot(r, 3)).toEqual(new Array(64).fill('device-private'));
    expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(256 * KiB);
    expect(snapshot(r, 5)).toEqual([...new Array(16).fill('write'), ...new Array(48).fill('device-private')]);
    expect(op(r, 4).d2hBytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(op(r, 6).faults).toBeGreaterThan(0);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(16);
  });

  it('only opted-in regions are shared: a device access to another region is EFAULT', () => {
    const r = runScript(
      [
        { op: 'mmap', name: 'shared', sizeBytes: '64KiB' },
        { op: 'mmap', name: 'private', sizeBytes: '64KiB' },
        { op: 'dev.read', region: 'shared' },
        { op: 'dev.read', region: 'private', expect: 'EFAULT' },
        { op: 'cpu.write', region: 'private' },
      ],
      { sharedRegions: ['shared'] },
    );
    expect(op(r, 2).error).toBeUndefined();
  });

  it('preferred location host and accessed-by map pages over the link instead of migrating them', () => {
    for (const advice of [{ preferredLocation: 'host' }, { accessedBy: true }]) {
      const r = runScript(
        [
          { op: 'mmap', name: 'buf', sizeBytes: '64KiB' },
          { op: 'cpu.write', region: 'buf' },
          { op: 'dev.read', region: 'buf' },
          { op: 'snapshot', region: 'buf' },
        ],
        { advice: [{ region: 'buf', ...advice }] },
      );
      expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
      expect(snapshot(r, 3)).toEqual(new Array(16).fill('write'));
      expect(metric(r, 'device.remote_bytes')).toBeGreaterThan(0);
    }
  });

  it('read-mostly: a device read copies the pages and keeps the system copy; a CPU write collapses the copies', () => {
    const r = runScript(
      [
        { op: 'mmap', name: 'buf', sizeBytes: '64KiB' },
        { op: 'cpu.write', region: 'buf' },
        { op: 'dev.read', region: 'buf' },
        { op: 'cpu.read', region: 'buf' },
        { op: 'dev.read', region: 'buf' },
        { op: 'cpu.write', region: 'buf', sizeBytes: '4KiB' },
        { op: 'dev.read', region: 'buf' },
      ],
      { advice: [{ region: 'buf', readMostly: true }] },
    );
    // Copied once; nothing moved back: the CPU reads its own copy without a fault.
    expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(op(r, 3).d2hBytes).toBe(0);
    expect(op(r, 3).faults).toBe(0);
    // The device reads its copy locally: no fault, nothing over the link.
    expect(op(r, 4).faults).toBe(0);
    expect(op(r, 4).h2dBytes).toBe(0);
    // A CPU write invalidates the device's copy of that page: the device faults on it again.
    expect(op(r, 6).faults).toBeGreaterThan(0);
  });

  it('the advise op changes what later faults do: preferred location host, then read-mostly, then unset', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: '64KiB' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'advise', region: 'buf', preferredLocation: 'host' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'munmap', region: 'buf' },
      { op: 'mmap', name: 'rm', sizeBytes: '64KiB' },
      { op: 'cpu.write', region: 'rm' },
      { op: 'advise', region: 'rm', readMostly: true },
      { op: 'dev.read', region: 'rm' },
      { op: 'advise', region: 'rm', readMostly: false },
      { op: 'dev.read', region: 'rm' },
      { op: 'snapshot', region: 'rm' },
    ]);
    // Mapped over the link: the pages stayed in system memory.
    expect(snapshot(r, 4)).toEqual(new Array(16).fill('write'));
    // Only the last read migrated (rm's 16 pages); the read-mostly copies are not migrations.
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(16);
    // Read-mostly copied the pages; unsetting it dropped the copies, so the next read faults and migrates.
    expect(op(r, 9).h2dBytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(op(r, 11).faults).toBeGreaterThan(0);
    expect(snapshot(r, 12)).toEqual(new Array(16).fill('device-private'));
  });

  it('an advise op under a strategy that takes no advice is EINVAL, and says which does', () => {
    const r = simulate(
      parseExperiment(
        {
          name: 'x',
          hardware: { preset: 'gpu-pcie4-hbm2' },
          strategy: { impl: 'hmm-mirror' },
          workload: {
            impl: 'scripted',
            ops: [
              { op: 'mmap', name: 'buf', sizeBytes: '64KiB' },
              { op: 'advise', region: 'buf', readMostly: true, expect: 'EINVAL' },
            ],
          },
        },
        presets,
      ),
    );
    expect(op(r, 1).error).toBe('EINVAL: strategy hmm-mirror takes no memory advice; use gmem');
  });

  it('the prefetch op moves a range to the device ahead of use (cudaMemPrefetchAsync): later device reads need no fault', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: '4MiB' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'prefetch', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      // Already there: nothing to move, and no error.
      { op: 'prefetch', region: 'buf' },
      { op: 'prefetch', region: 'buf', to: 'host' },
      { op: 'cpu.read', region: 'buf' },
    ]);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(1024);
    expect(op(r, 3).faults).toBe(0);
    expect(op(r, 4).error).toBeUndefined();
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(1024);
    expect(op(r, 6).faults).toBe(0);
  });

  it('advice and shared lists naming a region the workload does not have are errors that name the field', () => {
    const doc = (strategy: Record<string, unknown>) => ({
      name: 'x',
      hardware: { preset: 'gpu-pcie4-hbm2' },
      strategy: { impl: 'gmem', ...strategy },
      workload: { impl: 'gather', tableBytes: '1MiB', accesses: 10 },
    });
    const advice = validateExperiment(doc({ advice: [{ region: 'tabel', readMostly: true }] }), presets);
    expect(advice.ok).toBe(false);
    expect(advice.ok ? [] : advice.issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toContain(
      'strategy.advice[0].region: "tabel" is not a region of the workload; the workload\'s regions are "table"',
    );
    const listed = validateExperiment(doc({ sharedRegions: ['table', 'x'] }), presets);
    expect(listed.ok ? [] : listed.issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toContain(
      'strategy.sharedRegions[1]: "x" is not a region',
    );
    expect(() => parseExperiment(doc({ prefetcher: 'tree' }), presets)).toThrow(ConfigError);
    expect(() => parseExperiment(doc({ prefetcher: 'tree' }), presets)).toThrow(
      /"tree" is not a prefetcher; use "none", "sequential" or "density"/,
    );
  });
});
