/**
 * Property: whatever the CPU does to a range (write, mprotect, munmap), after the MMU
 * notifier has run no device PTE and no device TLB entry lets the device read or write a
 * page through a stale mapping — the device's permission on a page never exceeds what
 * the CPU page table and the VMA allow.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseExperiment } from '../config/validate.js';
import { Simulation } from '../simulate.js';
import type { Machine } from '../machine/machine.js';
import { CpuPte, DEV_LOCAL, DEV_READ, DEV_WRITE, PROT_MAPPED, PROT_READ, PROT_WRITE } from './page-state.js';

const REGIONS = [
  { name: 'a', sizeBytes: 64 * 1024 },
  { name: 'b', sizeBytes: 192 * 1024 },
];

const rangeArb = fc.record({
  region: fc.constantFrom('a', 'b'),
  page: fc.nat(47),
  pages: fc.integer({ min: 1, max: 20 }),
});

const opArb = fc.oneof(
  fc.record({ op: fc.constantFrom('cpu.read', 'cpu.write', 'dev.read', 'dev.write'), r: rangeArb }),
  fc.record({ op: fc.constant('mprotect'), r: rangeArb, prot: fc.constantFrom('none', 'read', 'read-write') }),
  fc.record({ op: fc.constant('munmap'), r: rangeArb }),
);

type Op = { op: string; r: { region: string; page: number; pages: number }; prot?: string };

function toScript(ops: Op[]) {
  const script: Record<string, unknown>[] = REGIONS.map((r) => ({ op: 'mmap', name: r.name, sizeBytes: r.sizeBytes }));
  for (const o of ops) {
    const size = REGIONS.find((r) => r.name === o.r.region)!.sizeBytes;
    const offset = Math.min(o.r.page * 4096, size - 4096);
    const bytes = Math.min(o.r.pages * 4096, size - offset);
    const op: Record<string, unknown> = { op: o.op, region: o.r.region, offsetBytes: offset, sizeBytes: bytes };
    if (o.prot) op.prot = o.prot;
    script.push(op);
  }
  return script;
}

function checkNoStaleDeviceAccess(m: Machine): void {
  const pte = m.devPte.data;
  const tlbs = [...m.l1Tlbs, m.l2Tlb];
  for (const region of m.space.regions) {
    const firstDv = region.basePage >> m.devPageShift;
    const endDv = ((region.basePage + region.pages - 1) >> m.devPageShift) + 1;
    for (let dv = firstDv; dv < endDv; dv++) {
      const bits = pte[dv];
      for (const tlb of tlbs) {
        const cached = tlb.probe(dv);
        if (cached >= 0) expect(cached & ~bits, `TLB entry for device page ${dv} exceeds its PTE`).toBe(0);
      }
      if (bits === 0 || bits & DEV_LOCAL) continue;
      const first = Math.max(dv << m.devPageShift, region.basePage);
      const end = Math.min((dv + 1) << m.devPageShift, region.basePage + region.pages);
      let mayRead = true;
      let mayWrite = true;
      for (let p = first; p < end; p++) {
        const prot = m.space.prot.data[p];
        const cpu = m.space.cpuPte.data[p];
        const readable =
          (prot & (PROT_MAPPED | PROT_READ)) === (PROT_MAPPED | PROT_READ) &&
          (cpu === CpuPte.Present || cpu === CpuPte.ReadOnly);
        mayRead &&= readable;
        mayWrite &&= readable && cpu === CpuPte.Present && (prot & PROT_WRITE) !== 0;
      }
      // Large device pages may carry the faulting page's permission when an mprotect
      // splits them (documented simplification); check 4 KiB device pages exactly.
      if (m.devPageShift === 0) {
        if (bits & DEV_WRITE)
          expect(mayWrite, `device page ${dv} writable but the CPU side does not allow writes`).toBe(true);
        if (bits & DEV_READ)
          expect(mayRead, `device page ${dv} readable but the CPU side does not allow reads`).toBe(true);
      }
    }
  }
}

function experimentFor(ops: Op[], pageSize: string) {
  return parseExperiment({
    name: 'mirror invariants',
    hardware: {
      device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: pageSize } },
      cpu: { cores: 2 },
    },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'scripted', ops: toScript(ops) },
  });
}

describe('hmm-mirror never leaves a stale device mapping', () => {
  for (const pageSize of ['4KiB', '64KiB']) {
    it(`after any sequence of CPU writes, mprotects and munmaps (${pageSize} device pages)`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
          const sim = new Simulation(experimentFor(ops as Op[], pageSize));
          while (sim.nextPhase < sim.plan.phases.length) {
            sim.runPhase();
            checkNoStaleDeviceAccess(sim.machine);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it('invalidates the device mapping when the CPU breaks copy-on-write of the zero page', () => {
    const sim = new Simulation(
      experimentFor(
        [
          { op: 'dev.read', r: { region: 'a', page: 0, pages: 1 } },
          { op: 'cpu.write', r: { region: 'a', page: 0, pages: 1 } },
        ],
        '4KiB',
      ),
    );
    const m = sim.machine;
    sim.runPhase(); // mmap a
    sim.runPhase(); // mmap b
    sim.runPhase(); // dev.read: zero page, mapped read-only on the device
    const page = m.space.regions[0].basePage;
    expect(m.space.cpuPte.data[page]).toBe(CpuPte.ReadOnly);
    expect(m.devPte.data[page]).toBe(DEV_READ);
    const before = m.counters.notifierInvalidations;
    sim.runPhase(); // cpu.write: COW replaces the zero page
    expect(m.space.cpuPte.data[page]).toBe(CpuPte.Present);
    expect(m.devPte.data[page]).toBe(0);
    expect(m.counters.notifierInvalidations).toBe(before + 1);
    expect(m.counters.tlbShootdowns).toBeGreaterThan(0);
  });
});
