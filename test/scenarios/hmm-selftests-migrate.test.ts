/**
 * The HMM selftests on migration to device memory and back (tools/testing/selftests/mm/
 * hmm-tests.c: migrate, migrate_fault, migrate_release, migrate_shared, migrate_multiple,
 * migrate_anon_huge_empty, migrate_anon_huge_zero, migrate_anon_huge_free,
 * migrate_anon_huge_fault, migrate_anon_huge_err, migrate_partial_unmap_fault, migrate_remap_fault, hmm_gup_test,
 * hmm_cow_in_device). Each test names the kernel test and asserts what it asserts; for
 * device-coherent memory, what its hmm_is_coherent_type() branches assert: a CPU touch
 * reads the page where it is (no fault back), pages come back only when migrated
 * explicitly (or released, or pinned long-term), and snapshots say device-coherent.
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
  snapshot,
} from './hmm-selftests/harness.js';

describe.each(VARIANTS)('HMM selftests on migration, $memory with $pageSizeBytes device pages', (variant) => {
  /** What a snapshot reports for a page migrated to this device. */
  const onDevice = coherent(variant) ? 'device-coherent' : 'device-private';

  it('migrate: the buffer moves to device memory, and the device reads it there', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
    ]);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(PAGES);
    expect(snapshot(r, 3)).toEqual(all(PAGES, onDevice));
    expect(op(r, 4).faults).toBe(0); // mapped by the migration
    expect(op(r, 4).h2dBytes).toBe(0); // read from device memory
  });

  it('migrate_fault: a CPU read faults half back (device-coherent: reads it in place); migrating again moves the rest', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'cpu.read', region: 'buf', sizeBytes: BUFFER / 2 },
      { op: 'snapshot', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(op(r, 5).error).toBeUndefined();
    expect(snapshot(r, 6)).toEqual(all(PAGES, onDevice));
    if (coherent(variant)) {
      // The CPU reads device-coherent memory across the link: nothing faults or moves back.
      expect(op(r, 3).faults).toBe(0);
      expect(op(r, 3).d2hBytes).toBe(BUFFER / 2);
      expect(snapshot(r, 4)).toEqual(all(PAGES, 'device-coherent'));
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
      expect(metric(r, 'mm.pages_migrated_to_device')).toBe(PAGES);
      return;
    }
    expect(snapshot(r, 4)).toEqual([...all(PAGES / 2, 'write'), ...all(PAGES / 2, 'device-private')]);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(PAGES / 2);
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

  it('migrate_multiple: ten times, migrate a buffer and bring it back (CPU reads; device-coherent: an explicit migration)', () => {
    const ops: Record<string, unknown>[] = [];
    for (let c = 0; c < 10; c++) {
      ops.push({ op: 'mmap', name: `buf${c}`, sizeBytes: 256 * KiB });
      ops.push({ op: 'cpu.write', region: `buf${c}` });
      ops.push({ op: 'migrate', region: `buf${c}` });
      // hmm_migrate_dev_to_sys for device-coherent memory, which a CPU touch does not bring back.
      ops.push(
        coherent(variant) ? { op: 'migrate', region: `buf${c}`, to: 'host' } : { op: 'cpu.read', region: `buf${c}` },
      );
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

  it('migrate_anon_huge_zero: the zero page migrates with no copy and reads back as zeros', () => {
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
    expect(op(r, 3).error).toBeUndefined();
    // Faulted back, or (device-coherent) read where it is.
    expect(snapshot(r, 4)).toEqual(all(512, coherent(variant) ? 'device-coherent' : 'read'));
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(coherent(variant) ? 0 : 512);
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

  it('migrate_anon_huge_fault: a migrated THP is one device-private PMD mapping; CPU reads fault it back (device-coherent: read in place)', () => {
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
    expect(op(r, 4).error).toBeUndefined();
    if (coherent(variant)) {
      // The kernel checks only the data for device-coherent memory: the CPU reads it in place.
      expect(op(r, 4).faults).toBe(0);
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
      return;
    }
    expect(snapshot(r, 3)).toEqual(all(512, 'device-private-pmd'));
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(512);
    expect(snapshot(r, 5)).toEqual(all(512, 'write-pmd'));
  });

  it('migrate_anon_huge_err: a failed huge page allocation splits the THP, which moves as 4 KiB pages, to the device and back', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 4 * MiB },
        { op: 'cpu.write', region: 'buf', sizeBytes: 2 * MiB },
        // HMM_DMIRROR_FLAG_FAIL_ALLOC, then hmm_migrate_sys_to_dev: ret 0, cpages == npages.
        { op: 'migrate', region: 'buf', sizeBytes: 2 * MiB, failHugeAlloc: true },
        { op: 'snapshot', region: 'buf', sizeBytes: 2 * MiB },
        // ptr[2048]: the CPU reads one 4 KiB page (page 2).
        { op: 'cpu.read', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB },
        // munmap and mmap again; a THP migrates whole; FAIL_ALLOC, then hmm_migrate_dev_to_sys.
        { op: 'munmap', region: 'buf' },
        { op: 'mmap', name: 'again', sizeBytes: 4 * MiB },
        { op: 'cpu.write', region: 'again', sizeBytes: 2 * MiB },
        { op: 'migrate', region: 'again', sizeBytes: 2 * MiB },
        { op: 'snapshot', region: 'again', sizeBytes: 2 * MiB },
        { op: 'migrate', region: 'again', sizeBytes: 2 * MiB, to: 'host', failHugeAlloc: true },
        { op: 'snapshot', region: 'again', sizeBytes: 2 * MiB },
        { op: 'cpu.read', region: 'again', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB },
      ],
      { thp: true },
    );
    // Every page moved, each mapped by a 4 KiB device-private (device-coherent) entry.
    expect(snapshot(r, 3)).toEqual(all(512, onDevice));
    expect(op(r, 4).error).toBeUndefined();
    // Without the injected failure the THP moves whole and is mapped by a PMD ...
    expect(snapshot(r, 9)).toEqual(all(512, `${onDevice}-pmd`));
    // ... and with it, it comes back to system memory as 512 4 KiB pages.
    expect(snapshot(r, 11)).toEqual(all(512, 'write'));
    expect(op(r, 12).error).toBeUndefined();
    expect(op(r, 12).faults).toBe(0);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(1024);
  });

  describe.each([{ thp: false }, { thp: true }])('migrate_partial_unmap_fault (THP $thp)', ({ thp }) => {
    it.each([0, 512 * KiB, 1 * MiB])(
      'unmapping 1 MiB at offset %i of a migrated 2 MiB range frees its device pages; the rest faults back (device-coherent: is read in place)',
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
        const kept = coherent(variant) ? 'device-coherent' : 'write';
        expect(snapshot(r, 6)).toEqual([...all(before, kept), ...all(256, 'error'), ...all(256 - before, kept)]);
        expect(metric(r, 'mm.pages_migrated_to_host')).toBe(coherent(variant) ? 0 : 256);
      },
    );
  });

  describe.each([
    { before: false, dontUnmap: false },
    { before: true, dontUnmap: false },
    { before: false, dontUnmap: true },
    { before: true, dontUnmap: true },
  ])('migrate_remap_fault (mremap before migration $before, MREMAP_DONTUNMAP $dontUnmap)', ({ before, dontUnmap }) => {
    it.each([{ thp: false }, { thp: true }])(
      'the moved range faults back from device memory, or is read there (THP $thp)',
      ({ thp }) => {
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
        expect(snapshot(r, 4)).toEqual(all(512, `${onDevice}${pmd}`));
        expect(snapshot(r, 5)).toEqual(all(512, dontUnmap ? 'none' : 'error'));
        expect(op(r, 6).error).toBeUndefined();
        expect(metric(r, 'mm.pages_migrated_to_host')).toBe(coherent(variant) ? 0 : 512);
        expect(snapshot(r, 7)).toEqual(all(512, coherent(variant) ? `device-coherent${pmd}` : `write${pmd}`));
      },
    );
  });

  it('hmm_gup_test: GUP and long-term pins bring device-private pages back, with their data', () => {
    if (coherent(variant)) return gupCoherent();
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

  /**
   * hmm_gup_test, device-coherent: plain GUP (GUP_BASIC_TEST, GUP_FAST_BENCHMARK) of pages
   * 0 and 1 leaves them in device memory (the model has no plain-GUP op: leaving them
   * alone is the same); a FOLL_LONGTERM pin of pages 2 and 3 migrates them back first, as
   * device-coherent folios are not long-term pinnable.
   */
  function gupCoherent(): void {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'pin', region: 'buf', target: 'host', offsetBytes: 8 * KiB, sizeBytes: 8 * KiB },
      { op: 'snapshot', region: 'buf' },
      { op: 'migrate', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 8 * KiB, expect: 'ENOENT' },
      { op: 'cpu.read', region: 'buf' },
    ]);
    // DEV_COHERENT_LOCAL | WRITE, DEV_COHERENT_LOCAL | WRITE, WRITE, WRITE.
    expect(snapshot(r, 4)).toEqual(['device-coherent', 'device-coherent', 'write', 'write']);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(2);
    expect(metric(r, 'mm.longterm_pins')).toBe(2);
    expect(errno(r, 5)).toBe('ENOENT');
    expect(op(r, 6).faults).toBe(0);
  }

  it('hmm_cow_in_device: after fork, a CPU write to a device page copies it into system memory (device-private: brought back first)', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'fork' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    // Device-coherent pages are duplicated directly from device memory: no migration, a copy across the link.
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(coherent(variant) ? 0 : 4);
    if (coherent(variant)) expect(op(r, 4).d2hBytes).toBeGreaterThanOrEqual(16 * KiB);
    expect(metric(r, 'cpu.cow_faults')).toBe(4);
    expect(snapshot(r, 5)).toEqual(all(4, 'write'));
  });

  it('after fork the device maps a read-only device page read-only: its write that follows faults and copies', () => {
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

  // Device-coherent memory is ordinary memory to the CPU: pinned there, the CPU still reads it in place.
  if (coherent(variant)) {
    it('pinned in device-coherent memory: a CPU touch reads in place, no SIGBUS; release unpins and brings the pages back', () => {
      const r = runSelftest(variant, [
        { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'pin', region: 'buf', target: 'device' },
        { op: 'snapshot', region: 'buf' },
        { op: 'cpu.read', region: 'buf' },
        { op: 'release' },
        { op: 'snapshot', region: 'buf' },
      ]);
      expect(metric(r, 'mm.device_pins')).toBe(16);
      expect(snapshot(r, 3)).toEqual(all(16, 'device-coherent'));
      expect(op(r, 4).faults).toBe(0);
      expect(metric(r, 'cpu.device_memory_bytes')).toBe(64 * KiB);
      expect(snapshot(r, 6)).toEqual(all(16, 'write'));
    });
  } else {
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
  }
});
