/**
 * Property: whatever mix of accesses, mprotect, munmap, madvise(DONTNEED), mremap, fork,
 * migrate, exclusive access, write(2), msync and fsync a script runs over a MAP_SHARED and
 * a MAP_PRIVATE mapping of one file, after every op
 * - a page-cache page never leaves system memory: no device holds a frame for it and its
 *   entry is never device-private (only anonymous copies of MAP_PRIVATE pages migrate);
 * - a writable entry of a MAP_SHARED file mapping maps a dirty page (writeback
 *   write-protects a page before it cleans it, so no write can reach a clean page unseen);
 * - no device maps a page in system memory with more than the CPU side allows.
 * Under hmm-mirror, hmm-migrate (with and without migration on fault), gmem, coherent and
 * ats-sva (whose devices translate through the CPU page table itself);
 * fast-check with a fixed seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/validate.js';
import {
  CpuPte,
  DEV_LOCAL,
  DEV_READ,
  DEV_WRITE,
  PROT_MAPPED,
  PROT_READ,
  PROT_SHARED,
  PROT_WRITE,
  mapsPageCache,
} from '../machine/page-state.js';
import { Simulation } from '../simulate.js';
import { exclusiveOwner } from './exclusive.js';

const SEED = 20261203;
const PAGES = 40;

const range = fc.record({
  region: fc.constantFrom('shared', 'private'),
  page: fc.nat(PAGES - 1),
  pages: fc.integer({ min: 1, max: 20 }),
});
// Accesses, migration and writeback weigh more: the invariants are about what they do.
const opArb = fc.oneof(
  {
    arbitrary: fc.record({ op: fc.constantFrom('cpu.read', 'cpu.write', 'dev.read', 'dev.write'), r: range }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constantFrom('migrate', 'msync'), r: range }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('fsync') }), weight: 2 },
  fc.record({ op: fc.constant('mprotect'), r: range, prot: fc.constantFrom('none', 'read', 'read-write') }),
  fc.record({ op: fc.constantFrom('munmap', 'madvise', 'exclusive', 'mremap'), r: range }),
  fc.record({ op: fc.constant('fork') }),
  fc.record({ op: fc.constant('file.write'), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 20 }) }),
);
type Op = {
  op: string;
  r?: { region: string; page: number; pages: number };
  prot?: string;
  page?: number;
  pages?: number;
};

function script(ops: Op[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [
    { op: 'mmap', name: 'shared', sizeBytes: PAGES * 4096, shared: true, file: 'f' },
    { op: 'mmap', name: 'private', sizeBytes: PAGES * 4096, file: 'f' },
  ];
  ops.forEach((o, i) => {
    const op: Record<string, unknown> = { op: o.op };
    if (o.op === 'fsync') op.file = 'f';
    if (o.op === 'file.write') {
      Object.assign(op, { file: 'f', offsetBytes: o.page! * 4096, sizeBytes: o.pages! * 4096 });
    }
    if (o.op === 'mremap') op.name = `moved${i}`;
    if (o.r) {
      Object.assign(op, {
        region: o.r.region,
        offsetBytes: o.r.page * 4096,
        sizeBytes: Math.min(o.r.pages, PAGES - o.r.page) * 4096,
      });
    }
    if (o.prot) op.prot = o.prot;
    out.push(op);
  });
  return out;
}

function checkInvariants(sim: Simulation): void {
  const m = sim.machine;
  const d = sim.mm.driver;
  for (const region of m.space.regions) {
    const file = region.spec.file;
    if (file === undefined) continue;
    for (let p = region.basePage; p < region.basePage + region.pages; p++) {
      const prot = m.space.prot.get(p);
      if ((prot & PROT_MAPPED) === 0) continue;
      const where = `page ${p - region.basePage} of ${region.spec.name}`;
      const entry = m.space.cpuPte.get(p);
      if (mapsPageCache(prot, entry, m.space.flags.get(p))) {
        expect(entry, `a page-cache page is device-private: ${where}`).not.toBe(CpuPte.DevicePrivate);
        expect(m.residency.inSystem(p), `a page-cache page left system memory: ${where}`).toBe(true);
        for (const dev of m.devices) expect(m.residency.frame(dev.index, p), `${dev.name} frame: ${where}`).toBe(-1);
      }
      if ((prot & PROT_SHARED) !== 0 && entry === CpuPte.Present) {
        expect(m.pageCache.isDirty(file.index, m.space.filePage(region, p)), `writable clean page: ${where}`).toBe(
          true,
        );
      }
      for (const dev of m.devices) {
        const pte = dev.pte.get(p);
        if ((pte & DEV_LOCAL) !== 0) continue;
        let allowed = 0;
        if ((prot & PROT_READ) !== 0) {
          if (entry === CpuPte.Present) allowed = prot & PROT_WRITE ? DEV_READ | DEV_WRITE : DEV_READ;
          else if (entry === CpuPte.ReadOnly) allowed = DEV_READ;
          else if (entry === CpuPte.DeviceExclusive && exclusiveOwner(d, p) === dev.index)
            allowed = DEV_READ | DEV_WRITE;
        }
        expect(pte & (DEV_READ | DEV_WRITE) & ~allowed, `${dev.name} PTE exceeds the CPU side: ${where}`).toBe(0);
      }
    }
  }
}

const STRATEGIES = [
  { impl: 'hmm-mirror' },
  { impl: 'hmm-migrate' },
  { impl: 'hmm-migrate', migrateOnFault: false },
  { impl: 'gmem' },
  { impl: 'coherent', placement: 'device-preferred' },
  { impl: 'ats-sva' },
];

describe('file pages stay in the page cache, and writes to MAP_SHARED pages are always seen', () => {
  for (const strategy of STRATEGIES) {
    it(`${JSON.stringify(strategy)} (seed ${SEED})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), (ops) => {
          const sim = new Simulation(
            parseExperiment({
              name: 'file invariants',
              hardware: {
                cpu: { cores: 2 },
                iommu: { ats: { enabled: strategy.impl === 'ats-sva' } },
                devices: [{ computeUnits: 2, contextsPerUnit: 2, link: { impl: 'coherent' } }],
              },
              strategy,
              workload: { impl: 'scripted', ops: script(ops as Op[]) },
            }),
          );
          while (sim.nextPhase < sim.plan.phases.length) {
            sim.runPhase();
            checkInvariants(sim);
          }
        }),
        { numRuns: 40, seed: SEED },
      );
    });
  }
});
