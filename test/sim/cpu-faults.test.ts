/**
 * CPU page faults: transparent huge pages for private anonymous memory, and the cost of a
 * fault the kernel takes for a device (hmm_range_fault runs the handler without a trap).
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from './presets.js';

function run(ops: Record<string, unknown>[], cpu: Record<string, unknown> = {}): RunResult {
  return simulate(
    parseExperiment(
      {
        name: 'faults',
        hardware: { preset: 'gpu-pcie4-hbm2', cpu },
        strategy: { impl: 'hmm-mirror' },
        workload: { impl: 'scripted', ops },
      },
      presets,
    ),
  );
}
const metric = (r: RunResult, name: string) => r.metrics[name].value;

describe('transparent huge pages', () => {
  const touch = [
    { op: 'mmap', name: 'buf', sizeBytes: '4MiB' },
    { op: 'cpu.write', region: 'buf', sizeBytes: '4MiB' },
  ];

  it('a first write maps each wholly unpopulated 2 MiB block at once, for hugePageFaultNs', () => {
    const r = run(touch);
    expect(metric(r, 'cpu.page_faults')).toBe(2);
    expect(metric(r, 'cpu.huge_page_faults')).toBe(2);
    const off = run(touch, { transparentHugePages: false });
    expect(metric(off, 'cpu.page_faults')).toBe(1024);
    expect(metric(off, 'cpu.huge_page_faults')).toBe(0);
    // Two 100 us huge faults instead of 1024 faults of 1.5 us.
    expect(off.ops[1].durationNs - r.ops[1].durationNs).toBeGreaterThan(1024 * 1500 - 2 * 100_000 - 1000);
  });

  it('reads map 4 KiB zero pages; a block with a page already populated, or not wholly in the region, stays in 4 KiB pages', () => {
    const r = run([
      { op: 'mmap', name: 'buf', sizeBytes: '4MiB' },
      { op: 'cpu.read', region: 'buf', sizeBytes: 4096 },
      { op: 'cpu.write', region: 'buf', sizeBytes: '4MiB' },
      { op: 'mmap', name: 'small', sizeBytes: '1MiB' },
      { op: 'cpu.write', region: 'small', sizeBytes: '1MiB' },
    ]);
    // 1 read fault; the first block: a copy-on-write of the zero page and 511 faults; the second block: one huge fault; small: 256.
    expect(metric(r, 'cpu.huge_page_faults')).toBe(1);
    expect(metric(r, 'cpu.page_faults')).toBe(1 + 1 + 511 + 1 + 256);
  });
});

describe('faults the driver takes for the device', () => {
  it('cost the handler, not the trap', () => {
    const ops = [
      { op: 'mmap', name: 'buf', sizeBytes: 4096 },
      { op: 'dev.write', region: 'buf', sizeBytes: 64 },
      { op: 'mmap', name: 'cpu', sizeBytes: 4096 },
      { op: 'cpu.write', region: 'cpu', sizeBytes: 64 },
    ];
    const trap = run(ops, { pageFaultTrapNs: 1000 });
    const none = run(ops, { pageFaultTrapNs: 0 });
    expect(metric(trap, 'device.page_faults')).toBe(1);
    // The device's fault ran the handler only: 1000 ns cheaper when the trap is 1000 ns of the 1500.
    expect(none.ops[1].durationNs - trap.ops[1].durationNs).toBeCloseTo(1000, 6);
    // A CPU fault pays the whole pageFaultNs either way.
    expect(trap.ops[3].durationNs).toBe(none.ops[3].durationNs);
  });
});

describe('transparent huge pages and the device', () => {
  it('a device write to an untouched 2 MiB block faults once, populates it with one huge page, and maps 2 MiB', () => {
    const r = simulate(
      parseExperiment(
        {
          name: 'thp device',
          hardware: { preset: 'gpu-pcie4-hbm2', device: { mmu: { pageSizeBytes: '2MiB' } } },
          strategy: { impl: 'hmm-mirror' },
          workload: {
            impl: 'scripted',
            ops: [
              { op: 'mmap', name: 'buf', sizeBytes: '2MiB' },
              { op: 'dev.write', region: 'buf', sizeBytes: '2MiB' },
            ],
          },
        },
        presets,
      ),
    );
    // The accesses of many contexts coalesce into one resolution of the one 2 MiB device page.
    expect(metric(r, 'mm.va_blocks_serviced')).toBe(1);
    expect(metric(r, 'cpu.huge_page_faults')).toBe(1);
    expect(metric(r, 'mm.driver_faulted_pages')).toBe(1);
    // One 2 MiB entry serves all 512 pages: the L2 TLB misses once per replayed context at most.
    expect(metric(r, 'device.tlb_misses')).toBeLessThanOrEqual(metric(r, 'device.page_faults') + 1);
  });
});
