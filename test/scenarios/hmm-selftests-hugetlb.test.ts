/**
 * The HMM selftests on hugetlb memory (tools/testing/selftests/mm/hmm-tests.c:
 * anon_write_hugetlbfs, with the default huge page size of 2 MiB and, as on a machine whose
 * default is 1 GiB, with 1 GiB pages; compound with its hugetlb page), and the hugetlb rules
 * the scenarios rest on (the pool, aligned ranges, no migration, copy-on-write of a whole
 * huge page, large device mappings of huge pages).
 */
import { describe, expect, it } from 'vitest';
import {
  KiB,
  MiB,
  VARIANTS,
  all,
  errno,
  metric,
  op,
  runSelftest,
  selftestExperiment,
  snapshot,
} from './hmm-selftests/harness.js';
import { validateExperiment, type ConfigIssue } from '../../src/sim/index.js';
import { Simulation } from '../../src/sim/simulate.js';
import { DEV_LARGE, DEV_READ, DEV_WRITE } from '../../src/sim/machine/page-state.js';

const GiB = 1024 * MiB;

describe.each(VARIANTS)('HMM selftests on hugetlb memory, $memory with $pageSizeBytes device pages', (variant) => {
  it('anon_write_hugetlbfs: the device writes a 2 MiB MAP_HUGETLB buffer, which the CPU then reads; one PMD maps it', () => {
    // size = ALIGN(TWOMEG, default_hsize) with the default 2 MiB huge pages.
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 2 * MiB, hugetlbPageBytes: '2MiB' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.read', region: 'buf' },
    ]);
    // ASSERT_EQ(ret, 0) and cpages == npages: the device wrote every page of the buffer.
    expect(op(r, 1).error).toBeUndefined();
    expect(metric(r, 'device.bytes')).toBe(2 * MiB);
    // faults == 1: the test driver's one hmm_range_fault over the range; here one fault in
    // the CPU page table took the huge page from the pool, zeroed, and mapped all of it.
    expect(metric(r, 'cpu.huge_page_faults')).toBe(1);
    expect(op(r, 1).faults).toBeGreaterThan(0);
    expect(snapshot(r, 2)).toEqual(all(512, 'write-pmd'));
    // The CPU reads what the device wrote, in place: no fault, nothing migrated.
    expect(op(r, 3).error).toBeUndefined();
    expect(op(r, 3).faults).toBe(0);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
  });

  it('anon_write_hugetlbfs with 1 GiB default huge pages: the device writes the 1 GiB buffer, one PUD maps it', () => {
    // size = ALIGN(TWOMEG, default_hsize) = 1 GiB. A snapshot holds at most 256 MiB: the
    // first 256 MiB, and the last pages of the huge page.
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: GiB, hugetlbPageBytes: '1GiB' },
        { op: 'dev.write', region: 'buf' },
        { op: 'snapshot', region: 'buf', sizeBytes: 256 * MiB },
        { op: 'snapshot', region: 'buf', offsetBytes: GiB - 8 * KiB },
        { op: 'cpu.read', region: 'buf' },
      ],
      { hugetlbPool: { pages1GiB: 1 } },
    );
    expect(metric(r, 'device.bytes')).toBe(GiB);
    expect(metric(r, 'cpu.huge_page_faults')).toBe(1);
    // HMM_DMIRROR_PROT_PUD: every page is mapped by the 1 GiB entry.
    expect(snapshot(r, 2)).toEqual(all(65536, 'write-pud'));
    expect(snapshot(r, 3)).toEqual(['write-pud', 'write-pud']);
    expect(op(r, 4).error).toBeUndefined();
    expect(op(r, 4).faults).toBe(0);
  });

  it('compound: every page of a hugetlb page reports the PMD mapping, writable, then read-only after mprotect', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 2 * MiB, hugetlbPageBytes: '2MiB' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'mprotect', region: 'buf', prot: 'read' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 2)).toEqual(all(512, 'write-pmd'));
    expect(snapshot(r, 4)).toEqual(all(512, 'read-pmd'));
  });

  it('a hugetlb mmap the pool cannot hold is ENOMEM (the kernel test skips: "Huge page could not be allocated")', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'big', sizeBytes: 2 * MiB, hugetlbPageBytes: '1GiB', expect: 'ENOMEM' },
        { op: 'mmap', name: 'a', sizeBytes: 4 * MiB, hugetlbPageBytes: '2MiB' },
        // Both pages of the pool are reserved by "a", though neither has been touched.
        { op: 'mmap', name: 'b', sizeBytes: 2 * MiB, hugetlbPageBytes: '2MiB', expect: 'ENOMEM' },
        { op: 'cpu.write', region: 'a', sizeBytes: 2 * MiB },
        { op: 'munmap', region: 'a' },
        // munmap gave back the page it took and the reservation of the other.
        { op: 'mmap', name: 'c', sizeBytes: 4 * MiB, hugetlbPageBytes: '2MiB' },
        { op: 'cpu.write', region: 'c' },
      ],
      { hugetlbPool: { pages2MiB: 2 } },
    );
    expect(op(r, 0).error).toMatch(/hugetlbPool\.pages1GiB/);
    expect(metric(r, 'cpu.huge_page_faults')).toBe(3);
  });

  it('munmap, mprotect and madvise of a hugetlb range need a huge-page-aligned start, and munmap and mprotect a huge-page end', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 3 * MiB, hugetlbPageBytes: '2MiB' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'munmap', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB, expect: 'EINVAL' },
      { op: 'munmap', region: 'buf', sizeBytes: 4 * KiB, expect: 'EINVAL' },
      { op: 'mprotect', region: 'buf', prot: 'read', sizeBytes: 3 * MiB, expect: 'EINVAL' },
      { op: 'madvise', region: 'buf', offsetBytes: 2 * MiB - 4 * KiB, expect: 'EINVAL' },
      // MADV_DONTNEED over 3 MiB leaves out the huge page the range ends in.
      { op: 'madvise', region: 'buf', sizeBytes: 3 * MiB },
      { op: 'snapshot', region: 'buf', sizeBytes: 8 * KiB },
      { op: 'snapshot', region: 'buf', offsetBytes: 2 * MiB, sizeBytes: 8 * KiB },
      { op: 'mprotect', region: 'buf', prot: 'read', offsetBytes: 2 * MiB },
      { op: 'munmap', region: 'buf', sizeBytes: 2 * MiB },
      { op: 'snapshot', region: 'buf' },
    ]);
    // The region is the whole 4 MiB the mmap rounded its 3 MiB up to.
    expect(snapshot(r, 7)).toEqual(['none', 'none']);
    expect(snapshot(r, 8)).toEqual(['write-pmd', 'write-pmd']);
    expect(snapshot(r, 11)).toEqual([...all(512, 'error'), ...all(512, 'read-pmd')]);
  });

  it('hugetlb pages do not migrate (migrate_vma_setup: EINVAL) nor become device-exclusive; the device mirrors them', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 2 * MiB, hugetlbPageBytes: '2MiB' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf', expect: 'EINVAL' },
      { op: 'prefetch', region: 'buf' },
      { op: 'exclusive', region: 'buf', expect: 'EBUSY' },
      { op: 'pin', region: 'buf', expect: 'EINVAL' },
      { op: 'pin', region: 'buf', target: 'host' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(errno(r, 2)).toBe('EINVAL');
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(snapshot(r, 8)).toEqual(all(512, 'write-pmd'));
  });

  it('after fork a device write copies the whole huge page for the parent, mapped by a PMD again', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 2 * MiB, hugetlbPageBytes: '2MiB' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'fork' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(all(512, 'read-pmd'));
    // One copy-on-write fault (hugetlb_wp) copies the 2 MiB page whole.
    expect(metric(r, 'cpu.cow_faults')).toBe(1);
    expect(snapshot(r, 5)).toEqual(all(512, 'write-pmd'));
  });
});

describe('hugetlb pages and large device pages', () => {
  // A device page no larger than the hugetlb page is mapped by one device PTE once the
  // device's faults have resolved all of it (a 1 GiB device page: its 512 VA blocks).
  for (const [pageSize, readBytes] of [
    [2 * MiB, 2 * MiB],
    [GiB, GiB],
  ]) {
    it(`a ${pageSize / MiB} MiB device page over a 1 GiB hugetlb page is mapped whole (hmm_range_fault reports the huge order)`, () => {
      const exp = selftestExperiment(
        { memory: 'device-private', pageSizeBytes: '4KiB' },
        [
          { op: 'mmap', name: 'buf', sizeBytes: GiB, hugetlbPageBytes: '1GiB' },
          { op: 'dev.read', region: 'buf', sizeBytes: readBytes },
          { op: 'dev.read', region: 'buf', sizeBytes: readBytes },
        ],
        { hugetlbPool: { pages1GiB: 1 } },
      );
      exp.hardware.devices[0].mmu.pageSizeBytes = pageSize as 2097152 | 1073741824;
      const sim = new Simulation(exp);
      while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
      const r = sim.finish();
      expect(r.ops.filter((o) => o.error !== undefined)).toEqual([]);
      expect(op(r, 1).faults).toBeGreaterThan(0);
      expect(op(r, 2).faults).toBe(0);
      expect(metric(r, 'cpu.huge_page_faults')).toBe(1);
      const base = sim.machine.space.regions[0].basePage;
      const pte = sim.machine.devices[0].pte;
      for (const p of [base, base + pageSize / (4 * KiB) - 1])
        expect(pte.get(p) & (DEV_LARGE | DEV_READ | DEV_WRITE)).toBe(DEV_LARGE | DEV_READ | DEV_WRITE);
    });
  }
});

describe('hugetlb configuration errors name the field and what is valid', () => {
  const issues = (doc: Record<string, unknown>): string[] => {
    const r = validateExperiment({
      name: 'hugetlb',
      strategy: { impl: 'hmm-mirror' },
      ...doc,
    });
    return r.ok ? [] : r.issues.map((i: ConfigIssue) => `${i.path}: ${i.message}`);
  };
  const script = (mmap: Record<string, unknown>) => ({
    workload: { impl: 'scripted', ops: [{ op: 'mmap', name: 'buf', sizeBytes: '2MiB', ...mmap }] },
  });

  it('a huge page size other than 2 MiB or 1 GiB', () => {
    expect(issues(script({ hugetlbPageBytes: '4MiB' }))).toEqual([
      'workload.ops[0].hugetlbPageBytes: 4194304 bytes is not a hugetlb page size; use "2MiB" (MAP_HUGE_2MB) or "1GiB" (MAP_HUGE_1GB)',
    ]);
  });

  it('MAP_HUGETLB of a file', () => {
    expect(issues(script({ hugetlbPageBytes: '2MiB', file: 'f' })).join('\n')).toMatch(
      /ops\[0\]\.hugetlbPageBytes: op 0 \(mmap\): MAP_HUGETLB maps anonymous memory/,
    );
  });

  it('a pool of a negative or fractional number of pages', () => {
    const hw = (pool: Record<string, unknown>) => ({
      hardware: { cpu: { memory: { hugetlbPool: pool } } },
      workload: { impl: 'stream' },
    });
    expect(issues(hw({ pages2MiB: -1 })).join('\n')).toMatch(
      /hardware\.cpu\.memory\.hugetlbPool\.pages2MiB: -1 is out of range; use an integer from 0/,
    );
    expect(issues(hw({ pages1GiB: 1.5 })).join('\n')).toMatch(/hugetlbPool\.pages1GiB: 1\.5 is out of range/);
  });
});
