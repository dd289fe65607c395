/**
 * Large device pages (64 KiB, 2 MiB) never let the device do more with a 4 KiB page than
 * the CPU side allows for that page. Before the per-4 KiB device PTEs, the whole device
 * page took the faulting page's permission: the device read PROT_NONE pages, wrote
 * read-only ones and kept reading a half that was unmapped (these scripts ran "ok" where
 * they now fail as Linux would), and an RO entry cached before a write upgrade made the
 * replayed write fault forever (the upgrade scripts never ended).
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, Simulation, type RunResult } from '../../src/sim/index.js';
import { DEV_READ, DEV_WRITE } from '../../src/sim/machine/page-state.js';

const KiB = 1024;

function run(pageSize: string, ops: Record<string, unknown>[]): RunResult {
  return simulate(experiment(pageSize, ops));
}

function experiment(pageSize: string, ops: Record<string, unknown>[]) {
  return parseExperiment({
    name: 'large device pages',
    hardware: { device: { computeUnits: 1, contextsPerUnit: 1, mmu: { pageSizeBytes: pageSize } } },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'scripted', ops },
  });
}

const outcome = (r: RunResult, i: number) => r.ops.find((o) => o.index === i)!.error?.split(':')[0] ?? 'ok';

for (const pageSize of ['64KiB', '2MiB', '1GiB']) {
  describe(`${pageSize} device pages`, () => {
    it('a device page whose 4 KiB pages differ gives each its own permission', () => {
      const r = run(pageSize, [
        { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'mprotect', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB, prot: 'none' },
        { op: 'mprotect', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'dev.read', region: 'buf', sizeBytes: 4 * KiB },
        { op: 'dev.read', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB, expect: 'EFAULT' },
        { op: 'dev.write', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB, expect: 'EPERM' },
        { op: 'dev.read', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB },
        { op: 'dev.write', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB },
        { op: 'munmap', region: 'buf', offsetBytes: 32 * KiB, sizeBytes: 32 * KiB },
        { op: 'dev.read', region: 'buf', sizeBytes: 4 * KiB },
        { op: 'dev.read', region: 'buf', offsetBytes: 32 * KiB, sizeBytes: 4 * KiB, expect: 'EFAULT' },
      ]);
      expect(r.ops.filter((o) => o.unexpected).map((o) => o.op)).toEqual([]);
      expect([5, 6, 11].map((i) => outcome(r, i))).toEqual(['EFAULT', 'EPERM', 'EFAULT']);
    });

    it('a write after a read in a mixed device page completes with one fault each', () => {
      const r = run(pageSize, [
        { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'mprotect', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'mprotect', region: 'buf', offsetBytes: 60 * KiB, sizeBytes: 4 * KiB, prot: 'none' },
        { op: 'dev.read', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB },
        { op: 'dev.write', region: 'buf', offsetBytes: 0, sizeBytes: 4 * KiB },
      ]);
      expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
      expect(r.metrics['device.page_faults'].value).toBeLessThanOrEqual(2);
    });

    it('upgrading a device PTE from read to read-write drops the cached read-only translation', () => {
      const sim = new Simulation(
        experiment(pageSize, [
          { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
          { op: 'cpu.write', region: 'buf' },
          { op: 'dev.read', region: 'buf', sizeBytes: 4 * KiB },
        ]),
      );
      while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
      const m = sim.machine;
      const dev = m.devices[0];
      const page = m.space.regions[0].basePage;
      const pages = m.space.regions[0].pages;
      const d = sim.mm.driver;
      // The driver maps the pages read-only, and the device caches that translation.
      d.setDevicePtes(0, page, new Uint8Array(pages).fill(DEV_READ), pages);
      const context = dev.firstContext;
      m.translation.translate(m, dev, context, page, 0);
      expect(m.translation.flags & (DEV_READ | DEV_WRITE)).toBe(DEV_READ);
      // Upgraded to read-write: the next translation must see the write permission.
      d.setDevicePtes(0, page, new Uint8Array(pages).fill(DEV_READ | DEV_WRITE), pages);
      m.translation.translate(m, dev, context, page, 0);
      expect(m.translation.flags & (DEV_READ | DEV_WRITE)).toBe(DEV_READ | DEV_WRITE);
    });
  });
}

describe('the IOMMU', () => {
  it('refuses a device DMA to a page that is not DMA-mapped, even if a device PTE allows it', () => {
    const sim = new Simulation(
      experiment('4KiB', [
        { op: 'mmap', name: 'buf', sizeBytes: 8 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'dev.read', region: 'buf', sizeBytes: 4 * KiB, expect: 'EFAULT' },
      ]),
    );
    sim.runPhase();
    sim.runPhase();
    // A driver bug: a PTE for a page it never DMA-mapped.
    const page = sim.machine.space.regions[0].basePage;
    sim.mm.driver.setDevicePtes(0, page, new Uint8Array([DEV_READ | DEV_WRITE]), 1);
    const report = sim.runPhase();
    expect(report.error).toMatch(/^EFAULT: IOMMU fault: device0 DMA to buf\+0x0, which is not DMA-mapped/);
    expect(sim.finish().metrics['iommu.faults'].value).toBe(1);
  });
});

describe('munmap and mprotect follow Linux', () => {
  it('an unaligned start is EINVAL, munmap of length 0 is EINVAL, mprotect over a hole is ENOMEM; nothing changes', () => {
    const r = run('4KiB', [
      { op: 'mmap', name: 'a', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'a' },
      { op: 'munmap', region: 'a', offsetBytes: 2 * KiB, sizeBytes: 4 * KiB, expect: 'EINVAL' },
      { op: 'munmap', region: 'a', offsetBytes: 4 * KiB, sizeBytes: 0, expect: 'EINVAL' },
      { op: 'mprotect', region: 'a', offsetBytes: 2 * KiB, sizeBytes: 4 * KiB, prot: 'read', expect: 'EINVAL' },
      { op: 'munmap', region: 'a', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB },
      { op: 'mprotect', region: 'a', offsetBytes: 4 * KiB, sizeBytes: 12 * KiB, prot: 'read', expect: 'ENOMEM' },
      { op: 'mprotect', region: 'a', offsetBytes: 0, sizeBytes: 0, prot: 'none' },
      { op: 'snapshot', region: 'a' },
    ]);
    expect(r.ops.filter((o) => o.unexpected).map((o) => o.op)).toEqual([]);
    // Only the valid munmap took effect: page 2 is gone, the others are still writable.
    expect(r.snapshots[0].pages).toEqual(['write', 'write', 'error', 'write']);
  });
});
