/**
 * Property: whatever mix of accesses, mprotect, munmap, madvise(DONTNEED), mremap, fork, migrate,
 * exclusive, pins and release a script runs, after every op
 * - no device may write a page a forked child shares (copy-on-write), nor do more with a
 *   page in system memory than the CPU side allows (a device-exclusive page: its owner only);
 * - a page a device maps locally is a device-private page with a frame on that device;
 * - pages are conserved: a device-private page has its data on exactly one device and not
 *   in system memory, and each device's frames in use are exactly its pages' frames.
 * - a page a device maps peer to peer lives in another device's memory only (the peer
 *   path and the notifier also throw if a peer mapping outlives the memory it maps), and
 *   the device may do no more with it than the VMA allows.
 * Under hmm-mirror, hmm-migrate (with and without migration on fault, eviction, peer to
 * peer through the root complex and across a switch) and gmem (also with peers mapped for
 * accessed-by advice, for a preferred location on one device, and for thrashing between
 * the devices), at 4 KiB and 64 KiB device pages; fast-check with a fixed seed. Ops
 * include p2p.map, a device read racing a CPU write of the same range, and a CPU write,
 * fork and device write of one range. Ops also hit a 2 MiB hugetlb region, where each
 * huge page must stay whole and in system memory, and the pool's accounting straight.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/validate.js';
import type { Machine } from '../machine/machine.js';
import { exclusiveOwner } from './exclusive.js';
import type { Driver } from './driver.js';
import { Simulation } from '../simulate.js';
import {
  CpuPte,
  DEV_LOCAL,
  DEV_PEER,
  DEV_READ,
  DEV_WRITE,
  PAGE_COW,
  PAGE_HUGE,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../machine/page-state.js';

const SEED = 20261202;
const REGION_PAGES = 48;
/** Region "h": one 2 MiB hugetlb page (MAP_HUGETLB). */
const HUGE_REGION_PAGES = 512;

/** A range of region "a", or now and then of the hugetlb region "h": aligned to its huge page or not. */
const rangeOfA = fc.record({ page: fc.nat(REGION_PAGES - 1), pages: fc.integer({ min: 1, max: 24 }) });
const range = fc.oneof(
  { arbitrary: rangeOfA, weight: 3 },
  {
    arbitrary: fc.record({
      huge: fc.constant(true),
      page: fc.oneof(fc.constant(0), fc.nat(HUGE_REGION_PAGES - 1)),
      pages: fc.oneof(fc.constant(HUGE_REGION_PAGES), fc.integer({ min: 1, max: 24 })),
    }),
    weight: 1,
  },
);
const p2pMapArb = fc.record({ op: fc.constant('p2p.map'), r: range, device: fc.nat(1) });
const opArbs = [
  fc.record({ op: fc.constantFrom('cpu.read', 'cpu.write', 'dev.read', 'dev.write'), r: range, device: fc.nat(1) }),
  fc.record({ op: fc.constant('mprotect'), r: range, prot: fc.constantFrom('none', 'read', 'read-write') }),
  fc.record({ op: fc.constantFrom('munmap', 'madvise'), r: range }),
  fc.record({ op: fc.constantFrom('migrate', 'exclusive', 'dev.atomic'), r: range, device: fc.nat(1) }),
  fc.record({ op: fc.constant('pin'), r: range, target: fc.constantFrom('host', 'device'), device: fc.nat(1) }),
  fc.record({ op: fc.constantFrom('fork', 'release'), device: fc.nat(1) }),
  fc.record({ op: fc.constant('mremap'), r: range, dontUnmap: fc.boolean() }),
  p2pMapArb,
  // A device reading a range while the CPU writes it, in one phase: the CPU's faults (a
  // page coming back from a device, copy-on-write) invalidate what the device maps meanwhile.
  fc.record({ op: fc.constant('race'), r: range, device: fc.nat(1) }),
  // Copy-on-write: the CPU populates a range, the process forks, a device writes the range.
  fc.record({ op: fc.constant('cow'), r: range, device: fc.nat(1) }),
];
const opArb = fc.oneof(...opArbs);
/**
 * With peer-to-peer on, also: a range migrated to one device, then mapped by the other
 * (by its faults or by p2p.map), so that later ops tear peer mappings down (in region
 * "a": hugetlb pages never migrate).
 */
const peerOpArb = fc.oneof(
  { arbitrary: opArb, weight: 3 },
  { arbitrary: fc.record({ op: fc.constantFrom('share', 'share-map'), r: rangeOfA, device: fc.nat(1) }), weight: 1 },
);
/** The same without p2p.map: every peer mapping is the strategy's own (its faults'). */
const faultPeerOpArb = fc.oneof(
  { arbitrary: fc.oneof(...opArbs.filter((a) => a !== p2pMapArb)), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('share'), r: rangeOfA, device: fc.nat(1) }), weight: 2 },
);
type Op = {
  op: string;
  r?: { page: number; pages: number; huge?: boolean };
  prot?: string;
  device?: number;
  target?: string;
  dontUnmap?: boolean;
};

function script(ops: Op[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [
    { op: 'mmap', name: 'a', sizeBytes: REGION_PAGES * 4096 },
    { op: 'mmap', name: 'h', sizeBytes: HUGE_REGION_PAGES * 4096, hugetlbPageBytes: '2MiB' },
  ];
  ops.forEach((o, i) => {
    const first = { race: 'dev.read', share: 'migrate', 'share-map': 'migrate', cow: 'cpu.write' }[o.op] ?? o.op;
    const op: Record<string, unknown> = { op: first, expect: 'ok' };
    if (o.op === 'mremap') Object.assign(op, { name: `moved${i}`, dontUnmap: o.dontUnmap });
    if (o.r) {
      const offset = o.r.page * 4096;
      const pages = o.r.huge ? HUGE_REGION_PAGES : REGION_PAGES;
      Object.assign(op, {
        region: o.r.huge ? 'h' : 'a',
        offsetBytes: offset,
        sizeBytes: Math.min(o.r.pages, pages - o.r.page) * 4096,
      });
    }
    if (o.prot) op.prot = o.prot;
    if (o.target) op.target = o.target;
    if (o.device !== undefined && o.op !== 'fork') op.device = o.device;
    out.push(op);
    if (o.op === 'race') out.push({ ...op, op: 'cpu.write', device: undefined, withPrevious: true });
    if (o.op === 'cow') {
      delete op.device;
      out.push({ op: 'fork', expect: 'ok' }, { ...op, op: 'dev.write', device: o.device });
    }
    if (o.op === 'share' || o.op === 'share-map')
      out.push({ ...op, op: o.op === 'share' ? 'dev.read' : 'p2p.map', device: 1 - (o.device ?? 0) });
  });
  return out;
}

/** What the CPU side lets `device` do with a page in system memory: DEV_READ | DEV_WRITE bits. */
function cpuAllows(d: Driver, m: Machine, device: number, p: number): number {
  const prot = m.space.prot.get(p);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) return 0;
  const cpu = m.space.cpuPte.get(p);
  if (cpu === CpuPte.DeviceExclusive)
    return exclusiveOwner(d, p) === device && prot & PROT_WRITE ? DEV_READ | DEV_WRITE : 0;
  if (cpu === CpuPte.Present) return prot & PROT_WRITE ? DEV_READ | DEV_WRITE : DEV_READ;
  return cpu === CpuPte.ReadOnly ? DEV_READ : 0;
}

/** `chunked`: device memory is handed out in 2 MiB chunks (gmem, hmm-migrate with eviction), so frames in use may exceed the pages placed. */
function checkInvariants(sim: Simulation, chunked: boolean): void {
  const m = sim.machine;
  const d = sim.mm.driver;
  const framesOn = m.devices.map(() => 0);
  const taken = m.devices.map(() => new Set<number>());
  for (const region of m.space.regions) {
    for (let p = region.basePage; p < region.basePage + region.pages; p++) {
      // Built only for a failure's message: the checks run for every page after every op.
      const where = () => `page ${p - region.basePage} of ${region.spec.name}`;
      const holders = m.devices.filter((dev) => m.residency.frame(dev.index, p) >= 0);
      for (const dev of holders) {
        framesOn[dev.index]++;
        const frame = m.residency.frame(dev.index, p);
        expect(taken[dev.index].has(frame), `${dev.name} frame ${frame} holds two pages: ${where()}`).toBe(false);
        taken[dev.index].add(frame);
      }
      if (m.space.cpuPte.get(p) === CpuPte.DevicePrivate) {
        expect(holders.length, `device-private with ${holders.length} device copies: ${where()}`).toBe(1);
        expect(m.residency.inSystem(p), `device-private and in system memory: ${where()}`).toBe(false);
      }
      for (const dev of m.devices) {
        const pte = dev.pte.get(p);
        if ((m.space.flags.get(p) & PAGE_COW) !== 0 && (pte & DEV_WRITE) !== 0)
          expect(pte & DEV_WRITE, `writable shared page: ${where()}`).toBe(0);
        if (pte & DEV_PEER) {
          const owner = m.residency.holderOtherThan(p, dev.index);
          expect(
            owner,
            `${dev.name} maps a page no other device holds peer to peer: ${where()}`,
          ).toBeGreaterThanOrEqual(0);
          expect(m.residency.frame(dev.index, p), `${dev.name} maps its own page as a peer's: ${where()}`).toBe(-1);
          expect(m.residency.inSystem(p), `peer mapping of a page in system memory: ${where()}`).toBe(false);
          const prot = m.space.prot.get(p);
          const allowed = (prot & PROT_READ ? DEV_READ : 0) | (prot & PROT_WRITE ? DEV_WRITE : 0);
          expect(pte & (DEV_READ | DEV_WRITE) & ~allowed, `${dev.name} peer PTE exceeds the VMA: ${where()}`).toBe(0);
        } else if (pte & DEV_LOCAL) {
          expect(m.space.cpuPte.get(p), `local mapping of a page not device-private: ${where()}`).toBe(
            CpuPte.DevicePrivate,
          );
          expect(m.residency.frame(dev.index, p), `local mapping without a frame: ${where()}`).toBeGreaterThanOrEqual(
            0,
          );
        } else {
          const extra = pte & (DEV_READ | DEV_WRITE) & ~cpuAllows(d, m, dev.index, p);
          if (extra !== 0) expect(extra, `${dev.name} PTE exceeds the CPU side: ${where()}`).toBe(0);
        }
      }
    }
  }
  checkHugetlb(sim);
  for (const dev of m.devices) {
    const used = d.frames.of(dev.index).usedBytes / 4096;
    if (chunked) expect(used, `${dev.name} frames`).toBeGreaterThanOrEqual(framesOn[dev.index]);
    else expect(used, `${dev.name} frames`).toBe(framesOn[dev.index]);
  }
}

/**
 * hugetlb regions: each huge page is populated whole or not at all (one entry, never
 * split: every page present or write-protected, flagged huge, or none), never leaves
 * system memory, and the pool never hands out more than it has.
 */
function checkHugetlb(sim: Simulation): void {
  const m = sim.machine;
  for (const region of m.space.regions) {
    if (region.spec.hugetlbPageBytes === undefined) continue;
    const hp = region.spec.hugetlbPageBytes / 4096;
    for (let first = region.basePage; first < region.basePage + region.pages; first += hp) {
      const where = `huge page at page ${first - region.basePage} of ${region.spec.name}`;
      const entry = m.space.cpuPte.get(first);
      expect([CpuPte.None, CpuPte.Present, CpuPte.ReadOnly], `special entry in a ${where}`).toContain(entry);
      for (let p = first; p < first + hp; p++) {
        const huge = (m.space.flags.get(p) & PAGE_HUGE) !== 0;
        // Checked page by page, asserted only on a failure (an expect per page is slow).
        if (m.space.cpuPte.get(p) !== entry) expect(m.space.cpuPte.get(p), `${where} populated in part`).toBe(entry);
        if (huge !== (entry !== CpuPte.None)) expect(huge, `${where}: mapped whole iff populated`).toBe(!huge);
        if (!m.residency.inSystem(p)) expect(m.residency.inSystem(p), `${where} left system memory`).toBe(true);
      }
    }
  }
  const pool = sim.mm.driver.hugetlb;
  for (const s of [0, 1]) {
    expect(pool.reserved[s], 'reserved huge pages').toBeGreaterThanOrEqual(0);
    expect(pool.free[s], 'free huge pages cover the reservations').toBeGreaterThanOrEqual(pool.reserved[s]);
  }
  expect(pool.free[0], 'free 2 MiB pages').toBeLessThanOrEqual(128);
}

/** Strategies, and the machines' peer routes: `switch` puts both devices under one PCIe switch, else each on a root port. */
const CASES: { strategy: Record<string, unknown>; switch?: boolean; faultPeers?: boolean }[] = [
  { strategy: { impl: 'hmm-mirror' } },
  { strategy: { impl: 'hmm-migrate', granularityBytes: '64KiB' } },
  { strategy: { impl: 'hmm-migrate', migrateOnFault: false } },
  { strategy: { impl: 'hmm-migrate', eviction: 'lru' } },
  { strategy: { impl: 'gmem' } },
  { strategy: { impl: 'hmm-migrate', granularityBytes: '64KiB', peerToPeer: true } },
  { strategy: { impl: 'hmm-migrate', migrateOnFault: false, peerToPeer: true }, switch: true },
  // gmem maps a peer's pages with accessed-by advice, and pins a block thrashing between
  // the devices on one of them (threshold 2: the first event has seen only one of the two
  // devices, the second both) while the other maps it peer to peer; a page one device
  // takes from the other moves device to device.
  // Without p2p.map ops, so that the peer mappings the property must see made and torn
  // down are gmem's own.
  {
    strategy: { impl: 'gmem', peerToPeer: true, advice: [{ region: 'a', accessedBy: true }] },
    switch: true,
    faultPeers: true,
  },
  { strategy: { impl: 'gmem', peerToPeer: true, thrashing: { threshold: 2 } }, faultPeers: true },
  // A preferred location on device 1: device 0's faults move pages into device 1's memory
  // and map them there peer to peer.
  {
    strategy: { impl: 'gmem', peerToPeer: true, advice: [{ region: 'a', preferredLocation: { device: 1 } }] },
    switch: true,
    faultPeers: true,
  },
  // Accessed-by devices map pages wherever a migration puts them: device 1 in device 0's
  // memory peer to peer, device 0 (the preferred location) in its own, both in system memory.
  {
    strategy: {
      impl: 'gmem',
      peerToPeer: true,
      advice: [{ region: 'a', preferredLocation: { device: 0 }, accessedBy: [0, 1] }],
    },
    switch: true,
    faultPeers: true,
  },
];

function simulation(
  strategy: Record<string, unknown>,
  pageSizeBytes: string,
  ops: Op[],
  underSwitch = false,
): Simulation {
  const device = { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes } };
  return new Simulation(
    parseExperiment({
      name: 'mechanism invariants',
      hardware: {
        devices: [device, { ...device, name: 'device1' }],
        cpu: { cores: 2 },
        ...(underSwitch ? { pcieSwitch: {} } : {}),
      },
      strategy,
      workload: { impl: 'scripted', ops: script(ops) },
    }),
  );
}

/** Peer mappings made and torn down, pages moved device to device, and hugetlb pages populated and copied on write, by the runs so far (the property must reach them). */
const peerTally = { mapped: 0, unmapped: 0, betweenDevices: 0, hugetlbFaults: 0, hugetlbCopies: 0 };

function runChecked(sim: Simulation, chunked = false): void {
  let copied = false;
  while (sim.nextPhase < sim.plan.phases.length) {
    sim.runPhase();
    checkInvariants(sim, chunked);
    // Two huge pages out of the pool for a region of one: the parent's copy and the child's.
    copied ||= sim.mm.driver.hugetlb.free[0] < 128 - 1;
  }
  // Region "a" is too small for a THP: every huge page fault is a hugetlb one.
  peerTally.hugetlbFaults += sim.machine.counters.hugePageFaults;
  if (copied) peerTally.hugetlbCopies++;
  for (const dev of sim.machine.devices) {
    peerTally.mapped += dev.counters.p2pMappedPages;
    peerTally.unmapped += dev.counters.p2pUnmappedPages;
    // Pages gmem moved device to device (its migrations are the only copies between devices here).
    peerTally.betweenDevices += dev.counters.copyPeerBytes;
  }
}

describe('core-MM mechanisms keep devices within the CPU side and conserve pages', () => {
  it('a fault batch does not install a link mapping of a page its own later fault migrated (found by the property below)', () => {
    // Device 1's first fault brings page 0 back from device 0 and maps it over the link; its
    // second fault, in the same batch, migrates the 64 KiB block with page 0 to device 1.
    const sim = simulation({ impl: 'hmm-migrate', granularityBytes: '64KiB' }, '4KiB', [
      { op: 'dev.read', r: { page: 0, pages: 1 }, device: 0 },
      { op: 'dev.read', r: { page: 0, pages: 2 }, device: 1 },
    ]);
    runChecked(sim);
    expect(sim.machine.devices[1].counters.batchRetries).toBeGreaterThan(0);
  });

  it('mremap brings device pages back first when device memory is handed out per 2 MiB block (found by the property below)', () => {
    const sim = simulation({ impl: 'hmm-migrate', eviction: 'lru' }, '4KiB', [
      { op: 'dev.write', r: { page: 0, pages: 1 }, device: 1 },
      { op: 'mremap', r: { page: 0, pages: 1 }, dontUnmap: true },
      { op: 'dev.write', r: { page: 0, pages: 1 }, device: 1 },
    ]);
    runChecked(sim, true);
    const moved = sim.machine.space.regions.find((r) => r.spec.name === 'moved1')!;
    expect(sim.machine.space.cpuPte.get(moved.basePage)).toBe(CpuPte.Present);
  });

  it('fork copies a hugetlb page with a pinned page in it whole (found by the property below)', () => {
    // copy_hugetlb_page_range: a pinned anonymous huge page goes to the child as a copy,
    // so the parent keeps every page of it writable, not just the pinned one.
    const sim = simulation({ impl: 'hmm-mirror' }, '4KiB', [
      { op: 'pin', r: { huge: true, page: 0, pages: 1 }, target: 'host', device: 0 },
      { op: 'fork', device: 0 },
    ]);
    runChecked(sim);
    const h = sim.machine.space.regions.find((r) => r.spec.name === 'h')!;
    for (const p of [h.basePage, h.basePage + 1, h.basePage + HUGE_REGION_PAGES - 1]) {
      expect(sim.machine.space.cpuPte.get(p)).toBe(CpuPte.Present);
    }
  });

  for (const { strategy, switch: underSwitch, faultPeers } of CASES) {
    const ops = faultPeers ? faultPeerOpArb : strategy.peerToPeer ? peerOpArb : opArb;
    for (const pageSizeBytes of ['4KiB', '64KiB', '1GiB']) {
      const where = underSwitch ? ', both devices under a PCIe switch' : '';
      it(`${JSON.stringify(strategy)}, ${pageSizeBytes} device pages${where} (seed ${SEED})`, () => {
        peerTally.mapped = peerTally.unmapped = peerTally.betweenDevices = 0;
        peerTally.hugetlbFaults = peerTally.hugetlbCopies = 0;
        fc.assert(
          fc.property(fc.array(ops, { minLength: 1, maxLength: 20 }), (script) =>
            runChecked(
              simulation(strategy, pageSizeBytes, script as Op[], underSwitch),
              strategy.impl === 'gmem' || 'eviction' in strategy,
            ),
          ),
          // The peer cases need more runs to reach both a peer mapping and its teardown by
          // chance, with the hugetlb region's ops among theirs.
          { numRuns: faultPeers ? 80 : 40, seed: SEED },
        );
        expect(peerTally.hugetlbFaults, 'hugetlb pages populated').toBeGreaterThan(0);
        expect(
          peerTally.hugetlbCopies,
          'runs in which a copy on write after fork took a second hugetlb page',
        ).toBeGreaterThan(0);
        if (strategy.peerToPeer) {
          expect(peerTally.mapped, 'peer mappings made').toBeGreaterThan(0);
          expect(peerTally.unmapped, 'peer mappings torn down').toBeGreaterThan(0);
          if (strategy.impl === 'gmem')
            expect(peerTally.betweenDevices, 'pages moved device to device').toBeGreaterThan(0);
        }
      });
    }
  }
});
