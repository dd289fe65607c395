/** The CPU page-table entry state machine (what handle_mm_fault does to one page). */
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/validate.js';
import { ERR_EFAULT, ERR_EPERM, ERR_SIGSEGV } from '../engine/errno.js';
import { CpuPte } from '../machine/page-state.js';
import { Simulation } from '../simulate.js';
import { faultInPage } from './cpu-fault.js';

function machineWith(regions: { name: string; prot?: string; shared?: boolean }[]) {
  const sim = new Simulation(
    parseExperiment({
      name: 'pte states',
      strategy: { impl: 'hmm-mirror' },
      hardware: { device: { mmu: { pageSizeBytes: '4KiB' } } },
      workload: { impl: 'scripted', ops: regions.map((r) => ({ op: 'mmap', sizeBytes: 4096, ...r })) },
    }),
  );
  while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
  const m = sim.mm.driver;
  return { m, page: (i: number) => m.m.space.regions[i].basePage, region: (i: number) => m.m.space.regions[i] };
}

describe('CPU page-table entry transitions', () => {
  it('a read fault on private anonymous memory maps the zero page write-protected; a write then breaks copy-on-write', () => {
    const { m, page, region } = machineWith([{ name: 'a' }]);
    const pageFault = m.m.t.cpuPageFault;
    expect(m.m.space.cpuPte.get(page(0))).toBe(CpuPte.None);
    expect(faultInPage(m, region(0), page(0), false, 0, false)).toBe(pageFault);
    expect(m.m.space.cpuPte.get(page(0))).toBe(CpuPte.ReadOnly);
    // A second read costs nothing.
    expect(faultInPage(m, region(0), page(0), false, 100, false)).toBe(100);
    const invalidations = m.m.counters.notifierInvalidations;
    expect(faultInPage(m, region(0), page(0), true, 0, false)).toBeGreaterThanOrEqual(pageFault);
    expect(m.m.space.cpuPte.get(page(0))).toBe(CpuPte.Present);
    expect(m.m.counters.cpuCowFaults).toBe(1);
    expect(m.m.counters.notifierInvalidations).toBe(invalidations + 1);
  });

  it('a write fault allocates a writable page at once; shared memory is never the zero page', () => {
    const { m, page, region } = machineWith([{ name: 'a' }, { name: 's', shared: true }]);
    faultInPage(m, region(0), page(0), true, 0, false);
    expect(m.m.space.cpuPte.get(page(0))).toBe(CpuPte.Present);
    faultInPage(m, region(1), page(1), false, 0, false);
    expect(m.m.space.cpuPte.get(page(1))).toBe(CpuPte.Present);
  });

  it('protection errors: SIGSEGV for the CPU, EFAULT and EPERM for the device', () => {
    const { m, page, region } = machineWith([
      { name: 'n', prot: 'none' },
      { name: 'r', prot: 'read' },
    ]);
    expect(faultInPage(m, region(0), page(0), false, 0, false)).toBe(ERR_SIGSEGV);
    expect(faultInPage(m, region(0), page(0), false, 0, true)).toBe(ERR_EFAULT);
    expect(faultInPage(m, region(1), page(1), true, 0, false)).toBe(ERR_SIGSEGV);
    expect(faultInPage(m, region(1), page(1), true, 0, true)).toBe(ERR_EPERM);
    expect(faultInPage(m, region(1), page(1), false, 0, true)).toBeGreaterThan(0);
    expect(m.m.space.cpuPte.get(page(0))).toBe(CpuPte.None);
  });
});
