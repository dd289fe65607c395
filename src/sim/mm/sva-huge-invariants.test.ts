/**
 * Under ats-sva a page the CPU maps with a 2 MiB PMD entry (a transparent huge page) is
 * cached as one 2 MiB translation in the IOTLB and in each device's ATC. Property: whatever
 * mix of CPU and device accesses, partial or whole mprotect, munmap, madvise(DONTNEED),
 * mremap and fork a script runs,
 * - no device access succeeds that the CPU page table does not allow for its 4 KiB page
 *   (checked at every access);
 * - after every op, no ATC entry, 2 MiB or 4 KiB, grants a page more than the CPU side
 *   does, and a 2 MiB ATC or IOTLB entry exists only for a block the CPU still maps with
 *   one PMD entry (a split block has 4 KiB entries only).
 * fast-check with a fixed seed, two devices.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/validate.js';
import { pmdTag } from '../hw/iommu.js';
import { HUGE_PAGES } from '../machine/address-space.js';
import type { Machine } from '../machine/machine.js';
import { CpuPte, DEV_READ, DEV_WRITE, PAGE_HUGE, PROT_MAPPED, PROT_READ, PROT_WRITE } from '../machine/page-state.js';
import { Simulation } from '../simulate.js';

const SEED = 20261207;
/** Three 2 MiB blocks. */
const REGION_PAGES = 3 * HUGE_PAGES;

/** Short ranges (a few pages of a block) as often as long ones (whole blocks and more). */
const range = fc.record({
  page: fc.nat(REGION_PAGES - 1),
  pages: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: REGION_PAGES })),
});
const opArb = fc.oneof(
  fc.record({ op: fc.constantFrom('cpu.read', 'cpu.write', 'dev.read', 'dev.write'), r: range, device: fc.nat(1) }),
  fc.record({ op: fc.constant('mprotect'), r: range, prot: fc.constantFrom('none', 'read', 'read-write') }),
  fc.record({ op: fc.constantFrom('munmap', 'madvise'), r: range }),
  fc.record({ op: fc.constant('fork') }),
  fc.record({ op: fc.constant('mremap'), r: range, dontUnmap: fc.boolean() }),
);
type Op = { op: string; r?: { page: number; pages: number }; prot?: string; device?: number; dontUnmap?: boolean };

function script(ops: Op[]): Record<string, unknown>[] {
  // The region starts as three transparent huge pages, cached whole by both devices.
  const out: Record<string, unknown>[] = [
    { op: 'mmap', name: 'a', sizeBytes: REGION_PAGES * 4096 },
    { op: 'cpu.write', region: 'a' },
    { op: 'dev.read', region: 'a' },
  ];
  ops.forEach((o, i) => {
    const op: Record<string, unknown> = { op: o.op, expect: 'ok' };
    if (o.op === 'mremap') Object.assign(op, { name: `moved${i}`, dontUnmap: o.dontUnmap });
    if (o.r) {
      Object.assign(op, {
        region: 'a',
        offsetBytes: o.r.page * 4096,
        sizeBytes: Math.min(o.r.pages, REGION_PAGES - o.r.page) * 4096,
      });
    }
    if (o.prot) op.prot = o.prot;
    if (o.device !== undefined) op.device = o.device;
    out.push(op);
  });
  return out;
}

function simulation(ops: Op[]): Simulation {
  // 4 KiB device pages, as SVA-capable presets have: a fault is one page request.
  const device = { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } };
  return new Simulation(
    parseExperiment({
      name: 'sva huge invariants',
      hardware: {
        devices: [device, { ...device, name: 'device1' }],
        cpu: { cores: 2, transparentHugePages: true },
        iommu: {
          mode: 'translate',
          iotlb: { entries: 64, ways: 4 },
          ats: { enabled: true, atcEntries: 32, atcWays: 4 },
        },
      },
      strategy: { impl: 'ats-sva' },
      workload: { impl: 'scripted', ops: script(ops) },
    }),
  );
}

/** What the CPU page table and the VMA let a device do with a 4 KiB page: DEV_READ | DEV_WRITE bits. */
function cpuAllows(m: Machine, p: number): number {
  const prot = m.space.prot.get(p);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) return 0;
  const cpu = m.space.cpuPte.get(p);
  if (cpu === CpuPte.Present) return prot & PROT_WRITE ? DEV_READ | DEV_WRITE : DEV_READ;
  return cpu === CpuPte.ReadOnly ? DEV_READ : 0;
}

/** True when the CPU maps the whole 2 MiB block of `p` with one PMD entry. */
function pmdMapped(m: Machine, p: number): boolean {
  const first = p - (p % HUGE_PAGES);
  for (let q = first; q < first + HUGE_PAGES; q++) if ((m.space.flags.get(q) & PAGE_HUGE) === 0) return false;
  return true;
}

/** How often the checks saw a 2 MiB ATC entry, over all runs: the property is not vacuous. */
const seen = { hugeEntries: 0, splitWhileCached: 0 };

function checkCaches(m: Machine): void {
  for (const region of m.space.regions) {
    for (let p = region.basePage; p < region.basePage + region.pages; p++) {
      const where = `page ${p - region.basePage} of ${region.spec.name}`;
      const allow = cpuAllows(m, p);
      if (p % HUGE_PAGES === 0 && m.iommu.iotlb.probe(pmdTag(p)) >= 0) {
        expect(pmdMapped(m, p), `2 MiB IOTLB entry of a split block: ${where}`).toBe(true);
      }
      for (const dev of m.devices) {
        const atc = dev.atc!;
        const huge = atc.probe(pmdTag(p));
        if (huge >= 0) {
          if (p % HUGE_PAGES === 0) seen.hugeEntries++;
          expect(pmdMapped(m, p), `${dev.name}: 2 MiB ATC entry of a split block: ${where}`).toBe(true);
          expect(huge & ~allow, `${dev.name}: 2 MiB ATC entry exceeds the CPU side: ${where}`).toBe(0);
        }
        const small = atc.probe(p);
        if (small >= 0) expect(small & ~allow, `${dev.name}: 4 KiB ATC entry exceeds the CPU side: ${where}`).toBe(0);
      }
    }
  }
}

function runChecked(sim: Simulation): void {
  const m = sim.machine;
  const observed = m.hooks.deviceAccess;
  m.hooks.deviceAccess = (t, latency, device, page, write) => {
    observed?.(t, latency, device, page, write);
    const need = write ? DEV_WRITE : DEV_READ;
    expect(cpuAllows(m, page) & need, `device ${device} ${write ? 'wrote' : 'read'} page ${page}`).toBe(need);
  };
  while (sim.nextPhase < sim.plan.phases.length) {
    const before = m.devices.map((dev) => dev.atc!.occupancy());
    const huge = m.space.regions.map((r) => pmdMapped(m, r.basePage));
    sim.runPhase();
    if (m.space.regions.some((r, i) => huge[i] && !pmdMapped(m, r.basePage)) && before.some((n) => n > 0))
      seen.splitWhileCached++;
    checkCaches(m);
  }
}

describe('ats-sva: 2 MiB ATC and IOTLB entries never grant more than each 4 KiB page allows', () => {
  it('a partial mprotect drops the block whole; the device then gets 4 KiB entries and each page its own permission', () => {
    const sim = simulation([
      { op: 'mprotect', r: { page: 3, pages: 1 }, prot: 'read' },
      { op: 'dev.read', r: { page: 0, pages: HUGE_PAGES } },
    ]);
    const m = sim.machine;
    const first = m.space.regions[0].basePage;
    // mmap, cpu.write (THPs), dev.read: every block is cached whole in both ATCs.
    for (let i = 0; i < 3; i++) sim.runPhase();
    for (const dev of m.devices)
      for (let b = 0; b < 3; b++) expect(dev.atc!.probe(pmdTag(first + b * HUGE_PAGES))).toBe(DEV_READ | DEV_WRITE);
    expect(m.iommu.iotlb.probe(pmdTag(first))).toBeGreaterThanOrEqual(0);
    sim.runPhase(); // mprotect one page of block 0 read-only: split_huge_pmd, the notifier drops block 0's entries
    for (const dev of m.devices) {
      expect(dev.atc!.probe(pmdTag(first))).toBe(-1);
      expect(dev.atc!.probe(pmdTag(first + HUGE_PAGES))).toBe(DEV_READ | DEV_WRITE);
    }
    expect(m.iommu.iotlb.probe(pmdTag(first))).toBe(-1);
    sim.runPhase(); // the device reads block 0 again: 4 KiB translations now
    const atc = m.devices[0].atc!;
    expect(atc.probe(pmdTag(first))).toBe(-1);
    // A 32-entry ATC keeps only the last pages read; those it has carry each page's own permission.
    let cached = 0;
    for (let i = 0; i < HUGE_PAGES; i++) {
      const f = atc.probe(first + i);
      if (f < 0) continue;
      cached++;
      expect(f).toBe(i === 3 ? DEV_READ : DEV_READ | DEV_WRITE);
    }
    expect(cached).toBeGreaterThan(0);
    checkCaches(m);
  });

  it('a device write to a block it caches whole after fork copies one page and splits the block (copy-on-write)', () => {
    const sim = simulation([
      { op: 'fork' },
      { op: 'dev.read', r: { page: 0, pages: 16 }, device: 0 },
      { op: 'dev.write', r: { page: 5, pages: 1 }, device: 0 },
    ]);
    const m = sim.machine;
    const first = m.space.regions[0].basePage;
    for (let i = 0; i < 5; i++) sim.runPhase();
    // After fork the block is still one PMD, write-protected: cached whole, read-only.
    expect(m.devices[0].atc!.probe(pmdTag(first))).toBe(DEV_READ);
    sim.runPhase();
    expect(m.space.cpuPte.get(first + 5)).toBe(CpuPte.Present);
    expect(m.space.cpuPte.get(first + 6)).toBe(CpuPte.ReadOnly);
    expect(m.devices[0].atc!.probe(pmdTag(first))).toBe(-1);
    expect(m.devices[0].atc!.probe(first + 5)).toBe(DEV_READ | DEV_WRITE);
    checkCaches(m);
  });

  it(`holds for any mix of accesses, mprotect, munmap, madvise, mremap and fork (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 12 }), (ops) => runChecked(simulation(ops as Op[]))),
      { numRuns: 40, seed: SEED },
    );
    expect(seen.hugeEntries).toBeGreaterThan(0);
    expect(seen.splitWhileCached).toBeGreaterThan(0);
  });
});
