/**
 * Property: whatever the CPU does to a range (write, mprotect, munmap), at the end of
 * every op no device PTE and no device TLB entry lets the device read or write a 4 KiB
 * page beyond what the CPU page table and the VMA allow for that page, at every device
 * page size, in base-page regions and in a hugetlb region (whose huge pages the device may
 * map whole). CPU and device ops may run in the same phase (withPrevious), so notifier
 * invalidations race with in-flight device faults. For the migrating strategies (with
 * device memory small enough to evict), a local mapping must also point at a frame the
 * device still holds for that page, and allow a write only when the VMA does and no
 * other copy exists.
 *
 * The same under the coherent strategy, with migrations either way, any placement policy
 * and access counters; and there, each mapped page's data is in exactly one place (system
 * memory or one device's frame), device memory in use is exactly the device-resident
 * pages, a local device PTE points at that device's memory, the CPU's cached translation
 * says where the data is, and no special CPU entry survives an op.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseExperiment } from '../config/validate.js';
import { Simulation } from '../simulate.js';
import { CPU_TLB_DEVICE_MEMORY } from '../machine/cpu-path.js';
import type { Device } from '../machine/device.js';
import type { Machine } from '../machine/machine.js';
import {
  CpuPte,
  DEV_ACCESS,
  DEV_LARGE,
  DEV_LOCAL,
  DEV_READ,
  DEV_WRITE,
  PAGE_BYTES,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
  SPLIT_TAG_BASE,
} from '../machine/page-state.js';

const SEED = 20261201;
const PAGE_SIZES = ['4KiB', '64KiB', '2MiB'] as const;
/** Region "h" is hugetlb memory: one 2 MiB huge page, populated whole and mapped by one PMD. */
const REGIONS: { name: string; sizeBytes: number; hugetlbPageBytes?: string }[] = [
  { name: 'a', sizeBytes: 64 * 1024 },
  { name: 'b', sizeBytes: 192 * 1024 },
  { name: 'h', sizeBytes: 2 * 1024 * 1024, hugetlbPageBytes: '2MiB' },
];

const rangeArb = fc.oneof(
  {
    arbitrary: fc.record({
      region: fc.constantFrom('a', 'b'),
      page: fc.nat(47),
      pages: fc.integer({ min: 1, max: 20 }),
    }),
    weight: 3,
  },
  {
    // Aligned to the huge pages (munmap and mprotect succeed) or not (they fail with EINVAL).
    arbitrary: fc.record({
      region: fc.constant('h'),
      page: fc.oneof(fc.constant(0), fc.nat(511)),
      pages: fc.oneof(fc.constant(512), fc.integer({ min: 1, max: 20 })),
    }),
    weight: 1,
  },
);

const opArb = fc.oneof(
  fc.record({
    op: fc.constantFrom('cpu.read', 'cpu.write', 'dev.read', 'dev.write'),
    r: rangeArb,
    withPrevious: fc.boolean(),
  }),
  fc.record({ op: fc.constant('mprotect'), r: rangeArb, prot: fc.constantFrom('none', 'read', 'read-write') }),
  fc.record({ op: fc.constant('munmap'), r: rangeArb }),
);

type Op = {
  op: string;
  r: { region: string; page: number; pages: number };
  prot?: string;
  withPrevious?: boolean;
  to?: string;
};

export function toScript(ops: Op[]) {
  const script: Record<string, unknown>[] = REGIONS.map((r) => ({ op: 'mmap', ...r }));
  let prevAccess = false;
  let groupHasDevice = false;
  for (const o of ops) {
    const size = REGIONS.find((r) => r.name === o.r.region)!.sizeBytes;
    const offset = Math.min(o.r.page * 4096, size - 4096);
    const bytes = Math.min(o.r.pages * 4096, size - offset);
    const op: Record<string, unknown> = { op: o.op, region: o.r.region, offsetBytes: offset, sizeBytes: bytes };
    if (o.prot) op.prot = o.prot;
    if (o.to) op.to = o.to;
    const access = o.op.includes('.');
    const isDevice = o.op.startsWith('dev.');
    if (access && o.withPrevious && prevAccess && !(isDevice && groupHasDevice)) {
      op.withPrevious = true;
      groupHasDevice ||= isDevice;
    } else groupHasDevice = isDevice;
    // Errors are part of the scenario: the property is about mappings, not outcomes.
    op.expect = 'ok';
    prevAccess = access;
    script.push(op);
  }
  return script;
}

/** What the CPU side lets the device do with a 4 KiB page: DEV_READ | DEV_WRITE bits. */
function cpuAllows(m: Machine, p: number): number {
  const prot = m.space.prot.get(p);
  const cpu = m.space.cpuPte.get(p);
  const readable =
    (prot & (PROT_MAPPED | PROT_READ)) === (PROT_MAPPED | PROT_READ) &&
    (cpu === CpuPte.Present || cpu === CpuPte.ReadOnly);
  if (!readable) return 0;
  return cpu === CpuPte.Present && (prot & PROT_WRITE) !== 0 ? DEV_READ | DEV_WRITE : DEV_READ;
}

/** The permission a TLB would give the device for page p: its cached entry, whole-page or 4 KiB. */
function cachedPermission(dev: Device, p: number): number[] {
  const dvpn = Math.floor(p / (1 << dev.pageShift));
  const out: number[] = [];
  for (const tlb of dev.tlbs()) {
    const whole = tlb.probe(dvpn);
    if (whole >= 0 && (dev.pageShift === 0 || whole & DEV_LARGE)) out.push(whole);
    if (dev.pageShift > 0) {
      const small = tlb.probe(SPLIT_TAG_BASE + p);
      if (small >= 0) out.push(small);
    }
  }
  return out;
}

/** What a local mapping of page p on `dev` may allow: nothing without a frame; a write only when the VMA allows it and no other copy exists. */
function localAllows(m: Machine, dev: Device, p: number): number {
  if (m.residency.frame(dev.index, p) < 0) return 0;
  const prot = m.space.prot.get(p);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) return 0;
  return (prot & PROT_WRITE) !== 0 && !m.residency.inSystem(p) ? DEV_READ | DEV_WRITE : DEV_READ;
}

export function checkNoStaleDeviceAccess(m: Machine): void {
  for (const dev of m.devices) {
    for (const region of m.space.regions) {
      for (let p = region.basePage; p < region.basePage + region.pages; p++) {
        const allowed = cpuAllows(m, p);
        const pte = dev.pte.get(p);
        // Built and asserted only on a failure: the checks run for every page after every op.
        const where = () =>
          `${dev.name}, page ${p - region.basePage} of ${region.spec.name} (${1 << dev.pageShift} pages per device page)`;
        const cached = cachedPermission(dev, p);
        // TLBs cache valid entries only (the driver relies on it to skip dropping translations on a first mapping).
        if ((pte & DEV_ACCESS) === 0 && cached.length > 0)
          expect(cached, `TLB entry of an invalid PTE: ${where()}`).toEqual([]);
        const limit = (bits: number) => (bits & DEV_LOCAL ? localAllows(m, dev, p) : allowed);
        const extra = pte & (DEV_READ | DEV_WRITE) & ~limit(pte);
        if (extra !== 0) expect(extra, `PTE exceeds what the page allows: ${where()}`).toBe(0);
        for (const bits of cached) {
          const beyond = bits & (DEV_READ | DEV_WRITE) & ~limit(bits);
          if (beyond !== 0) expect(beyond, `TLB entry exceeds what the page allows: ${where()}`).toBe(0);
        }
        if (pte & (DEV_READ | DEV_WRITE) && !(pte & DEV_LOCAL) && m.dmaMapped.get(p) !== 1) {
          expect(m.dmaMapped.get(p), `mapped but not DMA-mapped: ${where()}`).toBe(1);
        }
      }
    }
  }
}

export function experimentFor(
  ops: Op[],
  pageSize: string,
  strategy: object = { impl: 'hmm-mirror' },
  capacity = '16GiB',
) {
  return parseExperiment({
    name: 'mirror invariants',
    hardware: {
      device: {
        computeUnits: 2,
        contextsPerUnit: 2,
        mmu: { pageSizeBytes: pageSize },
        dram: { capacityBytes: capacity },
      },
      cpu: { cores: 2 },
    },
    strategy,
    workload: { impl: 'scripted', ops: toScript(ops) },
  });
}

describe('hmm-mirror never lets the device exceed the CPU side, page by page', () => {
  for (const pageSize of PAGE_SIZES) {
    it(`after any sequence of CPU and device accesses (some concurrent), mprotects and munmaps (${pageSize} device pages, seed ${SEED})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
          const sim = new Simulation(experimentFor(ops as Op[], pageSize));
          while (sim.nextPhase < sim.plan.phases.length) {
            sim.runPhase();
            checkNoStaleDeviceAccess(sim.machine);
          }
        }),
        { numRuns: 150, seed: SEED },
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
    const dev = m.devices[0];
    sim.runPhase(); // mmap a
    sim.runPhase(); // mmap b
    sim.runPhase(); // mmap h
    sim.runPhase(); // dev.read: zero page, mapped read-only on the device
    const page = m.space.regions[0].basePage;
    expect(m.space.cpuPte.get(page)).toBe(CpuPte.ReadOnly);
    expect(dev.pte.get(page)).toBe(DEV_READ);
    const before = m.counters.notifierInvalidations;
    sim.runPhase(); // cpu.write: COW replaces the zero page
    expect(m.space.cpuPte.get(page)).toBe(CpuPte.Present);
    expect(dev.pte.get(page)).toBe(0);
    expect(m.counters.notifierInvalidations).toBe(before + 1);
    expect(dev.counters.tlbShootdowns).toBeGreaterThan(0);
  });
});

/** Migrating strategies on a device with one 2 MiB chunk, so the two regions' blocks evict each other. */
const MIGRATING = [
  { impl: 'hmm-migrate', granularityBytes: '64KiB', eviction: 'lru' },
  { impl: 'hmm-migrate', granularityBytes: '4KiB' },
  { impl: 'gmem' },
  { impl: 'gmem', prefetcher: 'none', eviction: 'fifo', thrashing: { mitigation: 'pin-on-device', windowUs: 1e9 } },
  { impl: 'gmem', advice: [{ region: 'a', readMostly: true }], thrashing: { threshold: 1 } },
];

describe('migrating strategies never map a page the device does not hold, nor beyond what the page allows', () => {
  for (const strategy of MIGRATING) {
    for (const pageSize of PAGE_SIZES) {
      it(`${JSON.stringify(strategy)}, ${pageSize} device pages, one chunk of device memory (seed ${SEED})`, () => {
        fc.assert(
          fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
            const sim = new Simulation(experimentFor(ops as Op[], pageSize, strategy, '2MiB'));
            while (sim.nextPhase < sim.plan.phases.length) {
              sim.runPhase();
              checkNoStaleDeviceAccess(sim.machine);
            }
          }),
          { numRuns: 60, seed: SEED },
        );
      });
    }
  }
});

const coherentOpArb = fc.oneof(
  opArb,
  fc.record({ op: fc.constant('migrate'), r: rangeArb, to: fc.constantFrom('device', 'host') }),
);

const COHERENT_SEED = 20261202;

const strategyArb = fc.record({
  impl: fc.constant('coherent'),
  placement: fc.constantFrom('first-touch', 'device-preferred', 'host'),
  accessCounterMigration: fc.constantFrom('off', 'to-device', 'both'),
  accessCounterThreshold: fc.integer({ min: 1, max: 64 }),
  accessCounterGranularityBytes: fc.constantFrom('64KiB', '2MiB'),
});

function checkCoherent(m: Machine): void {
  let resident = 0;
  for (const region of m.space.regions) {
    for (let p = region.basePage; p < region.basePage + region.pages; p++) {
      const where = `page ${p - region.basePage} of ${region.spec.name}`;
      const holders = m.devices.filter((d) => m.residency.frame(d.index, p) >= 0).map((d) => d.index);
      const inSystem = m.residency.inSystem(p);
      expect(holders.length + (inSystem ? 1 : 0), `copies of ${where}`).toBe(1);
      if ((m.space.prot.get(p) & PROT_MAPPED) === 0) expect(inSystem, `unmapped ${where} on a device`).toBe(true);
      resident += holders.length;
      const cpu = m.space.cpuPte.get(p);
      expect([CpuPte.None, CpuPte.Present, CpuPte.ReadOnly], `CPU entry of ${where}`).toContain(cpu);
      const cached = m.cpuTlb.probe(p);
      if (cached >= 0) expect((cached & CPU_TLB_DEVICE_MEMORY) !== 0, `CPU TLB of ${where}`).toBe(!inSystem);
      for (const dev of m.devices) {
        const pte = dev.pte.get(p);
        if (pte & DEV_LOCAL) {
          expect(holders, `${dev.name} maps ${where} locally`).toContain(dev.index);
          const writable = cpu === CpuPte.Present && pte & DEV_WRITE ? DEV_WRITE : 0;
          expect(pte & DEV_WRITE, `${dev.name} may write ${where}`).toBe(writable);
          expect(pte & DEV_READ, `${dev.name} local ${where} readable`).toBe(DEV_READ);
        }
      }
    }
  }
  const used = m.devices.reduce((a, d) => a + d.memoryUsed, 0);
  expect(used, 'device memory in use').toBe(resident * PAGE_BYTES);
}

describe('coherent keeps every page in one place and every mapping within the CPU side', () => {
  for (const pageSize of ['4KiB', '64KiB', '2MiB']) {
    it(`after any sequence of accesses, mprotects, munmaps and migrations (${pageSize} device pages, seed ${COHERENT_SEED})`, () => {
      fc.assert(
        fc.property(strategyArb, fc.array(coherentOpArb, { minLength: 1, maxLength: 25 }), (strategy, ops) => {
          const sim = new Simulation(
            parseExperiment({
              name: 'coherent invariants',
              hardware: {
                link: { impl: 'coherent' },
                device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: pageSize } },
                cpu: { cores: 2 },
              },
              strategy,
              workload: { impl: 'scripted', ops: toScript(ops) },
            }),
          );
          while (sim.nextPhase < sim.plan.phases.length) {
            sim.runPhase();
            checkNoStaleDeviceAccess(sim.machine);
            checkCoherent(sim.machine);
          }
        }),
        { numRuns: 60, seed: COHERENT_SEED },
      );
    });
  }
});
