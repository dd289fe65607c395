/**
 * The HMM selftests on private and shared anonymous memory: device reads and writes, read-only
 * and PROT_NONE ranges, the zero page, huge pages, fork and copy-on-write
 * (tools/testing/selftests/mm/hmm-tests.c: anon_read, anon_read_multiple, anon_read_prot,
 * anon_write, anon_write_prot, anon_write_child, anon_write_child_shared, anon_write_huge,
 * compound with a THP, anon_teardown). Each test names the kernel test and asserts what it
 * asserts.
 */
import { describe, expect, it } from 'vitest';
import {
  BUFFER,
  KiB,
  MiB,
  PAGES,
  VARIANTS,
  all,
  coherent,
  errno,
  metric,
  op,
  runSelftest,
  selftestExperiment,
  snapshot,
} from './hmm-selftests/harness.js';
import { simulate } from '../../src/sim/index.js';

describe.each(VARIANTS)('HMM selftests on anonymous memory, $memory with $pageSizeBytes device pages', (variant) => {
  it('anon_teardown: a CPU thread unmaps the buffer while the device reads it; the read succeeds whole or fails, never reads a stale page', () => {
    // The kernel test loops with the unmap racing the read at whatever time the thread
    // gets; here the unmap comes at fixed times from the start of the device's accesses.
    const outcomes = new Set<string>();
    for (const afterNs of [0, 5_000, 20_000, 50_000, 200_000, 5_000_000]) {
      const r = simulate(
        selftestExperiment(variant, [
          { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
          { op: 'cpu.write', region: 'buf' },
          { op: 'dev.read', region: 'buf' },
          { op: 'munmap', region: 'buf', withPrevious: true, afterNs },
        ]),
      );
      const read = op(r, 2);
      expect(read.op).toBe('op 2: dev.read buf + op 3: munmap buf');
      if (read.error === undefined) {
        // rc == 0: the device read the whole buffer.
        expect(metric(r, 'device.bytes')).toBe(BUFFER);
        outcomes.add('read whole');
      } else {
        // Failed as hmm_range_fault or the access does once the range is gone, never as a
        // DMA to a page the IOMMU no longer maps (a stale device mapping).
        expect(read.error).toMatch(/^EFAULT: device (access to|read of) buf\+0x[0-9a-f]+/);
        expect(metric(r, 'iommu.faults')).toBe(0);
        outcomes.add('failed');
      }
    }
    // Both endings happen: the unmap before the read is over, and after.
    expect(outcomes).toEqual(new Set(['read whole', 'failed']));
  });

  it('anon_read: the device reads a read-only buffer with two zero pages; a second read takes no fault', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf', offsetBytes: 8 * KiB },
      { op: 'mprotect', region: 'buf', prot: 'read' },
      { op: 'cpu.read', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(op(r, 4).error).toBeUndefined();
    expect(op(r, 4).faults).toBeGreaterThan(0);
    expect(op(r, 5).faults).toBe(0);
    // Page 0 was pte_none (the device's read maps the zero page), page 1 the zero page.
    expect(snapshot(r, 6)).toEqual(['zero', 'zero', ...all(PAGES - 2, 'read')]);
  });

  it('anon_read_multiple: ten buffers read in turn, each read once by the device', () => {
    const ops: Record<string, unknown>[] = [];
    for (let c = 0; c < 10; c++) {
      ops.push({ op: 'mmap', name: `buf${c}`, sizeBytes: 256 * KiB });
      ops.push({ op: 'cpu.write', region: `buf${c}` });
      ops.push({ op: 'dev.read', region: `buf${c}` });
      ops.push({ op: 'munmap', region: `buf${c}` });
    }
    const r = runSelftest(variant, ops);
    for (let c = 0; c < 10; c++) expect(op(r, 4 * c + 2).faults).toBeGreaterThan(0);
  });

  it('anon_read_prot: a device read of PROT_NONE memory is EFAULT and leaves the buffer intact', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'mprotect', region: 'buf', prot: 'none' },
      { op: 'dev.read', region: 'buf', expect: 'EFAULT' },
      { op: 'snapshot', region: 'buf' },
      { op: 'mprotect', region: 'buf', prot: 'read' },
      { op: 'cpu.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(errno(r, 3)).toBe('EFAULT');
    expect(snapshot(r, 4)).toEqual(all(PAGES, 'error'));
    expect(snapshot(r, 7)).toEqual(all(PAGES, 'read'));
  });

  it('anon_write: the device writes the buffer, which the CPU then reads', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.read', region: 'buf' },
    ]);
    expect(op(r, 1).faults).toBeGreaterThan(0);
    expect(snapshot(r, 2)).toEqual(all(PAGES, 'write'));
    expect(op(r, 3).error).toBeUndefined();
  });

  it('anon_write_prot: a device write to a read-only buffer is EPERM, the zero page stays; after mprotect(PROT_WRITE) it succeeds', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, prot: 'read' },
      { op: 'dev.read', region: 'buf', sizeBytes: 4 * KiB },
      { op: 'dev.write', region: 'buf', expect: 'EPERM' },
      { op: 'snapshot', region: 'buf', sizeBytes: 4 * KiB },
      { op: 'mprotect', region: 'buf', prot: 'read-write' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(errno(r, 2)).toBe('EPERM');
    expect(snapshot(r, 3)).toEqual(['zero']);
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'write'));
  });

  describe.each([
    { migrate: false, thp: false },
    { migrate: false, thp: true },
    { migrate: true, thp: false },
    { migrate: true, thp: true },
  ])('anon_write_child (migrate $migrate, THP $thp)', ({ migrate, thp }) => {
    const size = thp ? 2 * MiB : BUFFER;
    const pages = size / (4 * KiB);
    it("a device write after fork copies every page: the child's pages do not change", () => {
      const r = runSelftest(
        variant,
        [
          { op: 'mmap', name: 'buf', sizeBytes: size },
          { op: 'cpu.write', region: 'buf' },
          ...(migrate ? [{ op: 'migrate', region: 'buf' }] : [{ op: 'snapshot', region: 'buf' }]),
          { op: 'fork' },
          { op: 'snapshot', region: 'buf' },
          { op: 'dev.write', region: 'buf' },
          { op: 'snapshot', region: 'buf' },
        ],
        { thp },
      );
      if (!migrate) expect(snapshot(r, 2)).toEqual(all(pages, thp ? 'write-pmd' : 'write'));
      // After fork the pages are write-protected in the parent: read-only, read-only
      // device-private entries, or write-protected device-coherent pages.
      const onDevice = coherent(variant) ? 'device-coherent' : 'device-private';
      expect(snapshot(r, 4)).toEqual(
        all(pages, migrate ? (thp ? `${onDevice}-pmd` : onDevice) : thp ? 'read-pmd' : 'read'),
      );
      expect(metric(r, 'mm.notifier_invalidations')).toBeGreaterThan(0);
      // Every page was copied for the parent's write (a device-private page came back
      // first; a device-coherent one is copied straight from device memory) ...
      expect(metric(r, 'cpu.cow_faults')).toBe(pages);
      if (migrate) expect(metric(r, 'mm.pages_migrated_to_host')).toBe(coherent(variant) ? 0 : pages);
      // ... and is the parent's own, writable, 4 KiB page (a written THP is split).
      expect(snapshot(r, 6)).toEqual(all(pages, 'write'));
    });
  });

  it('anon_write_child_shared: after fork a device write to MAP_SHARED memory copies nothing: both processes see it', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, shared: true },
      { op: 'cpu.write', region: 'buf' },
      { op: 'fork' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(all(PAGES, 'write'));
    expect(metric(r, 'cpu.cow_faults')).toBe(0);
    expect(op(r, 4).error).toBeUndefined();
    expect(snapshot(r, 5)).toEqual(all(PAGES, 'write'));
  });

  it('anon_write_huge: the device writes a 2 MiB THP-backed range, mapped by one huge entry', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
        { op: 'dev.write', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'cpu.read', region: 'buf', sizeBytes: 2 * MiB },
      ],
      { thp: true },
    );
    expect(metric(r, 'cpu.huge_page_faults')).toBe(1);
    expect(snapshot(r, 2)).toEqual(all(512, 'write-pmd'));
    expect(op(r, 3).error).toBeUndefined();
  });

  it('compound (a THP in place of the hugetlbfs page): every page reports the PMD mapping, writable then read-only', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 2 * MiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'snapshot', region: 'buf' },
        { op: 'mprotect', region: 'buf', prot: 'read' },
        { op: 'snapshot', region: 'buf' },
      ],
      { thp: true },
    );
    expect(snapshot(r, 2)).toEqual(all(512, 'write-pmd'));
    expect(snapshot(r, 4)).toEqual(all(512, 'read-pmd'));
  });

  it('a partial mprotect or munmap splits the 2 MiB mapping into 4 KiB ones', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'mprotect', region: 'buf', prot: 'read', sizeBytes: 4 * KiB },
        { op: 'munmap', region: 'buf', offsetBytes: 2 * MiB, sizeBytes: 4 * KiB },
        { op: 'snapshot', region: 'buf' },
      ],
      { thp: true },
    );
    expect(snapshot(r, 4)).toEqual(['read', ...all(511, 'write'), 'error', ...all(511, 'write')]);
  });
});
