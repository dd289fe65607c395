/**
 * 1 GiB device pages ("1 GiB where the device allows it": Intel Xe page tables map 1 GiB
 * leaves, XE_PDPE_PS_1G). Regions are laid out 1 GiB-aligned so a device page never spans
 * two; faults are serviced per 2 MiB VA block, and the device page is mapped whole (one
 * TLB entry for 1 GiB) once every block under it agrees; any 4 KiB page that differs
 * splits it back to 4 KiB entries. The reach that follows: a gather over 1 GiB with a
 * 64-entry L2 TLB misses it on nearly every access with 2 MiB pages and hardly ever with
 * 1 GiB ones.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, Simulation, simulate, type RunResult } from '../../src/sim/index.js';
import { DEV_LARGE, DEV_READ, DEV_WRITE } from '../../src/sim/machine/page-state.js';

const KiB = 1024;
const GIB_PAGES = 262144;

function experiment(pageSizeBytes: string, ops: Record<string, unknown>[], strategy = 'hmm-mirror') {
  return parseExperiment({
    name: '1 GiB device pages',
    hardware: {
      device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes, l2Tlb: { entries: 64, ways: 4 } } },
    },
    strategy: { impl: strategy },
    workload: { impl: 'scripted', ops },
  });
}

function runAll(sim: Simulation): void {
  while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
}

const metric = (r: RunResult, name: string) => r.metrics[name].value;
const op = (r: RunResult, i: number) => r.ops.find((o) => o.index === i)!;

describe('1 GiB device pages', () => {
  it('lay regions out 1 GiB-aligned, so a device page never spans two; 2 MiB pages keep the 2 MiB layout', () => {
    const ops = [
      { op: 'mmap', name: 'a', sizeBytes: 64 * KiB },
      { op: 'mmap', name: 'b', sizeBytes: 64 * KiB },
    ];
    const huge = new Simulation(experiment('1GiB', ops)).machine.space.regions;
    expect(huge.map((r) => r.basePage)).toEqual([GIB_PAGES, 3 * GIB_PAGES]);
    const large = new Simulation(experiment('2MiB', ops)).machine.space.regions;
    expect(large.map((r) => r.basePage)).toEqual([512, 3 * 512]);
  });

  it('are faulted in by 2 MiB VA block and mapped whole once every block agrees; a partial mprotect splits them', () => {
    const sim = new Simulation(
      experiment('1GiB', [
        { op: 'mmap', name: 't', sizeBytes: '1GiB' },
        { op: 'cpu.write', region: 't' },
        { op: 'dev.read', region: 't', sizeBytes: 4 * KiB },
        { op: 'dev.read', region: 't' },
        { op: 'mprotect', region: 't', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'dev.write', region: 't', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB, expect: 'EPERM' },
        { op: 'dev.write', region: 't', sizeBytes: 4 * KiB },
      ]),
    );
    const m = sim.machine;
    const pte = m.devices[0].pte;
    const base = m.space.regions[0].basePage;
    for (let i = 0; i < 3; i++) sim.runPhase();
    // One VA block mapped: the 1 GiB page is not whole yet.
    expect(m.devices[0].counters.vaBlocksServiced).toBe(1);
    expect(pte.get(base) & DEV_LARGE).toBe(0);
    sim.runPhase();
    // All 512 blocks mapped read-write: one entry covers the 1 GiB.
    expect(m.devices[0].counters.vaBlocksServiced).toBe(512);
    for (const p of [base, base + 1, base + GIB_PAGES - 1]) expect(pte.get(p)).toBe(DEV_READ | DEV_WRITE | DEV_LARGE);
    runAll(sim);
    const r = sim.finish();
    expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
    // The read-only page split the mapping: each page has its own permission again.
    expect(pte.get(base + 2) & DEV_LARGE).toBe(0);
    expect(pte.get(base + 2) & DEV_WRITE).toBe(0);
    expect(op(r, 6).error).toBeUndefined();
  });

  it('reach: a steady gather over 1 GiB misses a 64-entry L2 TLB far less, and runs faster from device memory', () => {
    const ops = [
      { op: 'mmap', name: 't', sizeBytes: '1GiB' },
      { op: 'cpu.write', region: 't' },
      { op: 'dev.compute', region: 't', generator: 'gather', accesses: 20000 },
      { op: 'dev.compute', region: 't', generator: 'gather', accesses: 20000 },
    ];
    const large = simulate(experiment('2MiB', ops, 'hmm-migrate'));
    const huge = simulate(experiment('1GiB', ops, 'hmm-migrate'));
    for (const r of [large, huge]) expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
    // The same faults and migrations either way: faults are serviced per 2 MiB block.
    expect(metric(huge, 'mm.pages_migrated_to_device')).toBe(metric(large, 'mm.pages_migrated_to_device'));
    expect(metric(huge, 'device.tlb_misses')).toBeLessThan(metric(large, 'device.tlb_misses') / 4);
    // 128 MiB of L2 reach against 1 GiB: the second gather walks on most accesses with 2 MiB pages.
    expect(op(huge, 3).durationNs).toBeLessThan(op(large, 3).durationNs / 2);
  });
});
