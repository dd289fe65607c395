/**
 * The HMM selftests on migration to device memory and back (tools/testing/selftests/mm/
 * hmm-tests.c: migrate, migrate_fault, migrate_release, migrate_shared, migrate_multiple,
 * migrate_anon_huge_empty, migrate_anon_huge_zero, migrate_anon_huge_free,
 * migrate_anon_huge_fault, migrate_partial_unmap_fault, migrate_remap_fault, hmm_gup_test,
 * hmm_cow_in_device). Each test names the kernel test and asserts what it asserts.
 */
import { describe, expect, it } from 'vitest';
import {
  BUFFER,
  KiB,
  MiB,
  PAGES,
  VARIANTS,
  all,
  errno,
  metric,
  op,
  runSelftest,
  snapshot,
} from './hmm-selftests/harness.js';

describe.each(VARIANTS)('HMM selftests on migration, $memory with $pageSizeBytes device pages', (variant) => {
  it('migrate: the buffer moves to device memory, and the device reads it there', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
    ]);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(PAGES);
    expect(snapshot(r, 3)).toEqual(all(PAGES, 'device-private'));
    expect(op(r, 4).faults).toBe(0); // mapped by the migration
    expect(op(r, 4).h2dBytes).toBe(0); // read from device memory
  });

  it('migrate_fault: half faults back on a CPU read; migrating the mix again moves the rest', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'cpu.read', region: 'buf', sizeBytes: BUFFER / 2 },
      { op: 'snapshot', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 4)).toEqual([...all(PAGES / 2, 'write'), ...all(PAGES / 2, 'device-private')]);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES / 2);
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'device-private'));
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(PAGES + PAGES / 2);
  });

  it('migrate_release: releasing the device memory brings every page back; the CPU then reads without a fault', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'release' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.read', region: 'buf', sizeBytes: BUFFER / 2 },
    ]);
    expect(snapshot(r, 4)).toEqual(all(PAGES, 'write'));
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES);
    expect(op(r, 5).faults).toBe(0);
  });

  it('migrate_shared: MAP_SHARED anonymous memory cannot migrate: ENOENT', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, shared: true },
      { op: 'migrate', region: 'buf', expect: 'ENOENT' },
    ]);
    expect(errno(r, 1)).toBe('ENOENT');
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
  });

  it('migrate_multiple: ten times, migrate a buffer and fault it back by CPU reads', () => {
    const ops: Record<string, unknown>[] = [];
    for (let c = 0; c < 10; c++) {
      ops.push({ op: 'mmap', name: `buf${c}`, sizeBytes: 256 * KiB });
      ops.push({ op: 'cpu.write', region: `buf${c}` });
      ops.push({ op: 'migrate', region: `buf${c}` });
      ops.push({ op: 'cpu.read', region: `buf${c}` });
      ops.push({ op: 'snapshot', region: `buf${c}` });
    }
    const r = runSelftest(variant, ops);
    for (let c = 0; c < 10; c++) expect(snapshot(r, 5 * c + 4)).toEqual(all(64, 'write'));
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(640);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(640);
  });

  it('migrate_anon_huge_empty: an untouched 2 MiB range migrates with no copy; the device reads zeros', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB, prot: 'read' },
        { op: 'migrate', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'dev.read', region: 'buf', sizeBytes: 2 * MiB },
      ],
      { thp: true },
    );
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(512);
    expect(metric(r, 'copy.h2d_bytes')).toBe(0);
    expect(op(r, 2).error).toBeUndefined();
  });

  it('migrate_anon_huge_zero: the zero page migrates with no copy and faults back as zeros', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB, prot: 'read' },
        { op: 'cpu.read', region: 'buf', sizeBytes: 4 * KiB },
        { op: 'migrate', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'cpu.read', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
      ],
      { thp: true },
    );
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(512);
    expect(metric(r, 'copy.h2d_bytes')).toBe(0);
    expect(snapshot(r, 4)).toEqual(all(512, 'read'));
  });

  it('migrate_anon_huge_free: MADV_DONTNEED frees a migrated THP: the device frames go, the next touch is a zero page', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
        { op: 'cpu.write', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'migrate', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'madvise', region: 'buf', advice: 'dontneed', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'dev.read', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
      ],
      { thp: true },
    );
    expect(snapshot(r, 4)).toEqual(all(512, 'none'));
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
    expect(metric(r, 'device.memory_peak_bytes')).toBe(2 * MiB);
    expect(snapshot(r, 6)).toEqual(all(512, 'zero'));
  });

  it('migrate_anon_huge_fault: a migrated THP is one device-private PMD mapping; CPU reads fault it back', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
        { op: 'cpu.write', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'migrate', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'cpu.read', region: 'buf', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
      ],
      { thp: true },
    );
    expect(snapshot(r, 3)).toEqual(all(512, 'device-private-pmd'));
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(512);
    expect(snapshot(r, 5)).toEqual(all(512, 'write-pmd'));
  });

  describe.each([{ thp: false }, { thp: true }])('migrate_partial_unmap_fault (THP $thp)', ({ thp }) => {
    it.each([0, 512 * KiB, 1 * MiB])(
      'unmapping 1 MiB at offset %i of a migrated 2 MiB range frees its device pages; the rest faults back',
      (offset) => {
        const r = runSelftest(
          variant,
          [
            { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
            { op: 'cpu.write', region: 'buf', sizeBytes: 2 * MiB },
            { op: 'migrate', region: 'buf', sizeBytes: 2 * MiB },
            { op: 'munmap', region: 'buf', offsetBytes: offset, sizeBytes: 1 * MiB },
            { op: 'cpu.read', region: 'buf', sizeBytes: offset },
            { op: 'cpu.read', region: 'buf', offsetBytes: offset + MiB, sizeBytes: MiB - offset },
            { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
          ],
          { thp },
        );
        const before = offset / (4 * KiB);
        expect(snapshot(r, 6)).toEqual([...all(before, 'write'), ...all(256, 'error'), ...all(256 - before, 'write')]);
        expect(metric(r, 'mm.pages_migrated_to_host')).toBe(256);
      },
    );
  });

  describe.each([
    { before: false, dontUnmap: false },
    { before: true, dontUnmap: false },
    { before: false, dontUnmap: true },
    { before: true, dontUnmap: true },
  ])('migrate_remap_fault (mremap before migration $before, MREMAP_DONTUNMAP $dontUnmap)', ({ before, dontUnmap }) => {
    it.each([{ thp: false }, { thp: true }])('the moved range faults back from device memory (THP $thp)', ({ thp }) => {
      const remap = { op: 'mremap', region: 'buf', name: 'moved', dontUnmap };
      const target = before ? 'moved' : 'buf';
      const r = runSelftest(
        variant,
        [
          { op: 'mmap', name: 'buf', sizeBytes: 2 * MiB },
          { op: 'cpu.write', region: 'buf' },
          ...(before ? [remap] : []),
          { op: 'migrate', region: target },
          ...(before ? [] : [remap]),
          { op: 'snapshot', region: 'moved' },
          { op: 'snapshot', region: 'buf' },
          { op: 'cpu.read', region: 'moved' },
          { op: 'snapshot', region: 'moved' },
        ],
        { thp },
      );
      const pmd = thp ? '-pmd' : '';
      expect(snapshot(r, 4)).toEqual(all(512, `device-private${pmd}`));
      expect(snapshot(r, 5)).toEqual(all(512, dontUnmap ? 'none' : 'error'));
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(512);
      expect(snapshot(r, 7)).toEqual(all(512, `write${pmd}`));
    });
  });

  it('hmm_gup_test: GUP and long-term pins bring device-private pages back, with their data', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'pin', region: 'buf', target: 'host', sizeBytes: 16 * KiB },
      { op: 'snapshot', region: 'buf' },
      { op: 'migrate', region: 'buf', expect: 'ENOENT' },
      { op: 'cpu.read', region: 'buf' },
    ]);
    expect(snapshot(r, 4)).toEqual(all(4, 'write'));
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(4);
    expect(metric(r, 'mm.longterm_pins')).toBe(4);
    // A long-term pinned page cannot migrate again.
    expect(errno(r, 5)).toBe('ENOENT');
    expect(op(r, 6).faults).toBe(0);
  });

  it('hmm_cow_in_device: after fork, a CPU write to a device-private page brings it back, then copies it', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'fork' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(4);
    expect(metric(r, 'cpu.cow_faults')).toBe(4);
    expect(snapshot(r, 5)).toEqual(all(4, 'write'));
  });

  it('after fork the device maps a read-only device-private page read-only: its write that follows faults and copies', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'fork' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(op(r, 4).h2dBytes).toBeLessThan(4 * KiB); // read in place: only page-table updates cross the link
    expect(op(r, 5).faults).toBeGreaterThan(0);
    expect(metric(r, 'cpu.cow_faults')).toBe(16);
    expect(snapshot(r, 6)).toEqual(all(16, 'write'));
  });

  it('pinned in device memory: a CPU touch is SIGBUS in the op result; release unpins and brings the pages back', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'pin', region: 'buf', target: 'device' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'cpu.read', region: 'buf', expect: 'SIGBUS' },
      { op: 'release' },
      { op: 'cpu.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(all(16, 'pinned'));
    expect(op(r, 4).h2dBytes).toBe(0); // the device works on its own memory
    expect(errno(r, 5)).toBe('SIGBUS');
    expect(metric(r, 'mm.device_pins')).toBe(16);
    expect(snapshot(r, 8)).toEqual(all(16, 'write'));
  });
});
