/**
 * hmm-migrate: a device fault migrates the block around the page to device-private memory
 * (migrate_vma); kernels then run from device DRAM; a CPU touch migrates the block back
 * (migrate_to_ram). Shared memory and pages that do not fit stay mirrored over the link.
 * Outcomes after the kernel's HMM selftests (tools/testing/selftests/mm/hmm-tests.c:
 * migrate, migrate_fault, migrate_shared) and amdgpu SVM's granularity.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const metric = (r: RunResult, name: string) => r.metrics[name].value;
const op = (r: RunResult, i: number) => r.ops.find((o) => o.index === i)!;
const phase = (r: RunResult, label: string) => r.ops.find((o) => o.op.startsWith(label))!;
const snapshot = (r: RunResult, i: number) => r.snapshots.find((s) => s.opIndex === i)!.pages;

function runScript(
  ops: Record<string, unknown>[],
  granularityBytes: string | number = '4KiB',
  hardware: Record<string, unknown> = {
    device: { computeUnits: 4, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } },
  },
): RunResult {
  const r = simulate(
    parseExperiment(
      {
        name: 'hmm-migrate scenario',
        hardware,
        strategy: { impl: 'hmm-migrate', granularityBytes },
        workload: { impl: 'scripted', ops },
      },
      presets,
    ),
  );
  expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
  return r;
}

describe('hmm-migrate', () => {
  it('migrate + migrate_fault: a device write moves the pages to device-private memory; a CPU read brings them back', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * 4 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'cpu.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(new Array(16).fill('device-private'));
    // The CPU's data crossed the link once, on the copy engines.
    expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(64 * KiB);
    // Now local: no fault, nothing over the link.
    expect(op(r, 4).faults).toBe(0);
    expect(op(r, 4).h2dBytes).toBe(0);
    expect(snapshot(r, 6)).toEqual(new Array(16).fill('write'));
    expect(op(r, 5).d2hBytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(16);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(16);
    expect(metric(r, 'device.memory_peak_bytes')).toBe(64 * KiB);
  });

  it('migrate (HMM_DMIRROR_MIGRATE) on request: the range moves and is mapped; a device read then needs no fault', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * 4 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'migrate', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(new Array(16).fill('device-private'));
    expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(op(r, 4).faults).toBe(0);
    // Migrating again moves nothing and costs nothing on the link.
    expect(op(r, 5).h2dBytes).toBe(0);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(16);
  });

  it('migrate to host brings device-private pages back without a CPU fault; CPU touches of device pages count as faults on them', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * 4 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf', sizeBytes: 8 * 4 * KiB },
      { op: 'migrate', region: 'buf', to: 'host' },
      { op: 'snapshot', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'cpu.read', region: 'buf' },
    ]);
    expect(snapshot(r, 4)).toEqual(new Array(16).fill('write'));
    expect(op(r, 3).d2hBytes).toBeGreaterThanOrEqual(8 * 4 * KiB);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(8 + 16);
    expect(metric(r, 'mm.bytes_to_device')).toBe((8 + 16) * 4 * KiB);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(8 + 16);
    // Only the CPU's read faulted on device-private pages: one fault per 4 KiB block.
    expect(metric(r, 'mm.cpu_faults_on_device_pages')).toBe(16);
  });

  it('migrate_shared: a migrate op of MAP_SHARED memory fails with ENOENT, as the selftest expects; a prefetch leaves it, no error', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 8 * 4 * KiB, shared: true },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf', expect: 'ENOENT' },
      { op: 'snapshot', region: 'buf' },
      { op: 'prefetch', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(new Array(8).fill('write'));
    expect(op(r, 4).error).toBeUndefined();
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
  });

  it('a migrate op under a strategy that does not migrate is EINVAL, and says which strategy does', () => {
    const r = simulate(
      parseExperiment({
        name: 'migrate under mirror',
        hardware: { device: { mmu: { pageSizeBytes: '4KiB' } } },
        strategy: { impl: 'hmm-mirror' },
        workload: {
          impl: 'scripted',
          ops: [
            { op: 'mmap', name: 'buf', sizeBytes: 4096 },
            { op: 'migrate', region: 'buf', expect: 'EINVAL' },
          ],
        },
      }),
    );
    expect(op(r, 1).error).toMatch(/^EINVAL: strategy hmm-mirror does not migrate pages; use hmm-migrate/);
  });

  it('on a device fault, MAP_SHARED anonymous memory does not migrate; the device reaches it over the link', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 8 * 4 * KiB, shared: true },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(new Array(8).fill('write'));
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'mm.migration_fallback_pages')).toBe(8);
  });

  it('migrates the aligned block around the faulting page: 4 KiB, 64 KiB or 2 MiB', () => {
    for (const [granularity, pages] of [
      ['4KiB', 1],
      ['64KiB', 16],
      ['2MiB', 512],
    ] as const) {
      const r = runScript(
        [
          { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
          { op: 'dev.read', region: 'buf', offsetBytes: 3 * MiB + 68 * KiB, sizeBytes: 64 },
          { op: 'snapshot', region: 'buf', offsetBytes: 2 * MiB, sizeBytes: 2 * MiB },
        ],
        granularity,
      );
      expect(metric(r, 'mm.pages_migrated_to_device'), granularity).toBe(pages);
      // Never-touched pages need no copy: nothing crossed the link but page-table writes.
      expect(metric(r, 'copy.h2d_bytes'), granularity).toBe(0);
      const view = snapshot(r, 2);
      expect(view.filter((v) => v === 'device-private').length, granularity).toBe(pages);
      expect(view[(MiB + 68 * KiB) / (4 * KiB)], granularity).toBe('device-private');
    }
  });

  it('works whatever the device page size against the block: 64 KiB pages with 4 KiB or 2 MiB blocks, 2 MiB pages with 64 KiB blocks', () => {
    for (const [pageSizeBytes, granularity, firstMove] of [
      ['64KiB', '4KiB', 1],
      ['2MiB', '64KiB', 16],
      ['64KiB', '2MiB', 512],
    ] as const) {
      const r = runScript(
        [
          { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
          { op: 'cpu.write', region: 'buf' },
          { op: 'dev.read', region: 'buf', offsetBytes: 196 * KiB, sizeBytes: 64 },
          { op: 'snapshot', region: 'buf' },
          { op: 'dev.write', region: 'buf' },
          { op: 'dev.read', region: 'buf' },
          { op: 'snapshot', region: 'buf' },
          { op: 'cpu.read', region: 'buf' },
        ],
        granularity,
        { device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes } } },
      );
      const label = `${pageSizeBytes} pages, ${granularity} blocks`;
      // A 2 MiB block that migrated whole stays one 2 MiB mapping ('device-private-pmd').
      const local = (i: number) => snapshot(r, i).filter((v) => v.startsWith('device-private')).length;
      // A split device page maps its migrated 4 KiB pages locally and faults for the rest.
      expect(local(3), label).toBe(firstMove);
      expect(local(6), label).toBe(1024);
      expect(op(r, 5).faults, label).toBe(0);
      expect(metric(r, 'mm.pages_migrated_to_host'), label).toBe(1024);
    }
  });

  it('mirrors what does not fit in device memory, and frees device memory on munmap', () => {
    const r = runScript(
      [
        { op: 'mmap', name: 'big', sizeBytes: 3 * MiB },
        { op: 'cpu.write', region: 'big' },
        { op: 'dev.read', region: 'big' },
        { op: 'munmap', region: 'big' },
        { op: 'mmap', name: 'again', sizeBytes: 2 * MiB },
        { op: 'dev.write', region: 'again' },
        { op: 'snapshot', region: 'again' },
      ],
      '64KiB',
      {
        device: {
          computeUnits: 4,
          contextsPerUnit: 2,
          mmu: { pageSizeBytes: '4KiB' },
          dram: { capacityBytes: '2MiB' },
        },
      },
    );
    // 2 MiB of the 3 MiB moved, the rest is read over the link.
    expect(metric(r, 'mm.migration_fallback_pages')).toBe(256);
    expect(metric(r, 'device.memory_peak_bytes')).toBe(2 * MiB);
    // munmap gave the frames back: the second region migrates whole.
    expect(snapshot(r, 6)).toEqual(new Array(512).fill('device-private'));
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(1024);
  });

  it('keeps the VMA protection: a read-only range migrates for reads, and a device write fails with EPERM', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 4 * 4 * KiB, prot: 'read' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf', expect: 'EPERM' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(new Array(4).fill('device-private'));
  });

  it('a second device touching a page of the first migrates it back to system memory and mirrors it', () => {
    const device = { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } };
    const r = runScript(
      [
        { op: 'mmap', name: 'buf', sizeBytes: 8 * 4 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'dev.write', region: 'buf', device: 0 },
        { op: 'dev.read', region: 'buf', device: 1 },
        { op: 'snapshot', region: 'buf' },
      ],
      '4KiB',
      { devices: [device, { ...device, name: 'gpu1' }] },
    );
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(8);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(8);
    expect(snapshot(r, 4)).toEqual(new Array(8).fill('write'));
  });

  it('stream triad: the first kernel migrates the arrays, the next ones run from device DRAM, the read-back migrates a home', () => {
    const r = simulate(
      parseExperiment(
        {
          name: 'migrate stream',
          hardware: { preset: 'gpu-pcie4-hbm2' },
          strategy: { impl: 'hmm-migrate' },
          workload: { impl: 'stream', arrayBytes: '8MiB', iterations: 2, initOnCpu: true, readBackOnCpu: true },
        },
        presets,
      ),
    );
    const pages = (8 * MiB) / (4 * KiB);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(3 * pages);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(pages);
    const [first, second] = [phase(r, 'triad 1/2'), phase(r, 'triad 2/2')];
    expect(second.faults).toBe(0);
    expect(second.h2dBytes).toBe(0);
    // From HBM instead of across PCIe: far faster than the kernel that migrated.
    expect(second.durationNs * 10).toBeLessThan(first.durationNs);
  });
});

describe('hmm-migrate under oversubscription', () => {
  // 96 MiB of random reads on a device with 64 MiB.
  function gather(strategy: Record<string, unknown>): RunResult {
    return simulate(
      parseExperiment(
        {
          name: 'oversubscribed',
          hardware: {
            preset: 'gpu-pcie4-hbm2',
            device: { dram: { capacityBytes: '64MiB' }, mmu: { pageSizeBytes: '4KiB' } },
          },
          strategy: { impl: 'hmm-migrate', ...strategy },
          workload: { impl: 'gather', tableBytes: '96MiB', accesses: 50_000, elementBytes: 8, initOnCpu: false },
        },
        presets,
      ),
    );
  }

  it('with eviction, random access thrashes without mitigation and recovers with it; without eviction the rest is mirrored', () => {
    const mirrored = gather({ eviction: 'none' });
    const thrash = gather({ eviction: 'lru' });
    const mitigated = gather({ eviction: 'lru', thrashing: { mitigation: 'map-remotely' } });
    expect(metric(mirrored, 'mm.evictions')).toBe(0);
    expect(metric(mirrored, 'mm.migration_fallback_pages')).toBeGreaterThan(0);
    expect(metric(thrash, 'mm.evictions')).toBeGreaterThan(10 * 48);
    expect(metric(thrash, 'mm.thrashing_events')).toBeGreaterThan(0);
    expect(metric(mitigated, 'sim.time_ns')).toBeLessThan(metric(thrash, 'sim.time_ns') / 3);
    expect(metric(mitigated, 'mm.evictions')).toBeLessThan(metric(thrash, 'mm.evictions') / 5);
    for (const r of [mirrored, thrash, mitigated]) {
      expect(metric(r, 'device.memory_peak_bytes')).toBeLessThanOrEqual(64 * MiB);
    }
  });
});
