/**
 * The second kind of translation, through the IOMMU (shared virtual addressing): no
 * device page table; the device's ATS requests walk the CPU page table, a missing page
 * is a PRI page request serviced like a CPU fault, and CPU page-table changes invalidate
 * the IOTLB and the ATC. The strategy is ats-sva; the machine's access path is the one
 * every strategy uses.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../src/sim/config/validate.js';
import { Machine } from '../../src/sim/machine/machine.js';
import { MemoryManager } from '../../src/sim/mm/phase.js';
import { createAtsSva } from '../../src/sim/mm/strategies/ats-sva.js';
import { buildWorkload } from '../../src/sim/workload/index.js';
import { presets } from '../sim/presets.js';

const sva = createAtsSva({ impl: 'ats-sva' });

function runScript(ops: Record<string, unknown>[]) {
  const exp = parseExperiment(
    {
      name: 'sva',
      hardware: { preset: 'accel-pcie5-ats', device: { computeUnits: 2, contextsPerUnit: 2 } },
      strategy: { impl: 'hmm-mirror' },
      workload: { impl: 'scripted', ops },
    },
    presets,
  );
  const plan = buildWorkload(exp.workload, { seed: 1, cpuContexts: exp.hardware.cpu.cores, deviceContexts: 4 });
  const m = new Machine(exp.hardware, plan.regions);
  const mm = new MemoryManager(m, sva, exp.hardware.driver);
  const outcomes: string[] = [];
  const faults: number[] = [];
  let t = 0;
  for (const phase of plan.phases) {
    const before = m.devices[0].counters.pageFaults;
    const r = phase.kind === 'host' ? mm.hostOp(phase.host, t, () => {}) : mm.streamsPhase(phase, t, () => false);
    t = r.time;
    outcomes.push(r.error?.errno ?? 'ok');
    faults.push(m.devices[0].counters.pageFaults - before);
  }
  return { m, outcomes, faults };
}

describe('translation through the IOMMU (ATS, PRI)', () => {
  it('faults each page once through PRI, then hits the ATC; no device page table, no DMA mapping', () => {
    const { m, outcomes, faults } = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * 4096 },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
    ]);
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(faults[1]).toBe(16); // one page request per page
    expect(faults[2]).toBe(0); // translations cached in the ATC
    expect(faults[3]).toBe(16); // zero pages are read-only: the writes fault (copy-on-write)
    const region = m.space.regions[0];
    for (let p = region.basePage; p < region.basePage + region.pages; p++) {
      expect(m.devices[0].pte.get(p)).toBe(0);
      expect(m.dmaMapped.get(p)).toBe(0);
    }
    expect(m.devices[0].counters.atsRequests).toBeGreaterThanOrEqual(16);
  });

  it('a CPU page-table change invalidates the ATC: after mprotect(PROT_NONE) the device read fails', () => {
    const { outcomes } = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 4 * 4096 },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'mprotect', region: 'buf', prot: 'none' },
      { op: 'dev.read', region: 'buf', expect: 'EFAULT' },
    ]);
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'EFAULT']);
  });
});
