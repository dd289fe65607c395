/**
 * The HMM selftests on file-backed memory (tools/testing/selftests/mm/hmm-tests.c:
 * file_read, file_write, migrate_file_private), and the page-cache behaviour they rest on.
 * The kernel tests check the data: here the data's path is checked instead (which pages
 * the device mapped, what crossed the link, which page-cache pages are dirty, what moved
 * to device memory). The file is created as hmm_create_file does (an empty file extended to
 * the buffer's size) by the mmap or file.write op that first names it.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, Simulation } from '../../src/sim/index.js';
import {
  BUFFER,
  KiB,
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
  type Variant,
} from './hmm-selftests/harness.js';

/** What a snapshot calls a page in the variant's device memory. */
const onDevice = (variant: Variant) => (coherent(variant) ? 'device-coherent' : 'device-private');

describe.each(VARIANTS)('HMM selftests on file-backed memory, $memory with $pageSizeBytes device pages', (variant) => {
  it('file_read: the device reads a read-only MAP_SHARED mapping of what write(2) put in the file', () => {
    const r = runSelftest(variant, [
      { op: 'file.write', file: 'data', sizeBytes: BUFFER },
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, prot: 'read', shared: true, file: 'data' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    // write(2) filled the page cache: every page of the file is dirty, not yet written back.
    expect(metric(r, 'file.write_bytes')).toBe(BUFFER);
    expect(metric(r, 'file.dirty_pages')).toBe(PAGES);
    expect(op(r, 2).error).toBeUndefined();
    expect(op(r, 2).faults).toBeGreaterThan(0);
    // The device mapped the page-cache pages themselves (read-only, never the zero page)
    // and read every byte of them across the link.
    expect(snapshot(r, 3)).toEqual(all(PAGES, 'read'));
    expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(BUFFER);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    // Reading changes nothing in the file.
    expect(metric(r, 'file.pages_dirtied')).toBe(PAGES);
  });

  it('file_write: the device writes a MAP_SHARED mapping; the CPU reads it without a fault and read(2) gets it from the file', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, shared: true, file: 'data' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.read', region: 'buf' },
      { op: 'file.read', file: 'data' },
    ]);
    expect(op(r, 1).error).toBeUndefined();
    expect(op(r, 1).faults).toBeGreaterThan(0);
    // The device wrote the page-cache pages in system memory, which it mapped writable.
    expect(op(r, 1).d2hBytes).toBeGreaterThanOrEqual(BUFFER);
    expect(snapshot(r, 2)).toEqual(all(PAGES, 'write'));
    // The CPU's entries are the ones hmm_range_fault made: no fault on the read.
    expect(op(r, 3).faults).toBe(0);
    // The device's writes dirtied the file's pages: read(2) finds them in the page cache.
    expect(metric(r, 'file.pages_dirtied')).toBe(PAGES);
    expect(metric(r, 'file.dirty_pages')).toBe(PAGES);
    expect(op(r, 4).error).toBeUndefined();
    expect(metric(r, 'file.read_bytes')).toBe(BUFFER);
  });

  it('migrate_file_private: after the CPU writes a MAP_PRIVATE file mapping, every page migrates; munmap then frees the device pages', () => {
    const sim = new Simulation(
      selftestExperiment(variant, [
        { op: 'mmap', name: 'buf', sizeBytes: BUFFER, file: 'data' },
        { op: 'cpu.write', region: 'buf' },
        { op: 'migrate', region: 'buf' },
        { op: 'snapshot', region: 'buf' },
        { op: 'dev.read', region: 'buf' },
        { op: 'munmap', region: 'buf' },
      ]),
    );
    while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
    const r = sim.finish();
    expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
    // Each write copied its page-cache page into an anonymous page (do_cow_fault)...
    expect(metric(r, 'cpu.cow_faults')).toBe(PAGES);
    expect(metric(r, 'file.pages_dirtied')).toBe(0);
    // ...and anonymous pages migrate: cpages == npages.
    expect(op(r, 2).error).toBeUndefined();
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'mm.bytes_to_device')).toBe(BUFFER);
    expect(snapshot(r, 3)).toEqual(all(PAGES, onDevice(variant)));
    // The device reads what migrated from its own memory.
    expect(op(r, 4).faults).toBe(0);
    expect(op(r, 4).h2dBytes).toBe(0);
    // hmm_buffer_free: unmapping the device-private entries of a file VMA frees them.
    expect(op(r, 5).error).toBeUndefined();
    expect(sim.machine.devices[0].memoryUsed).toBe(0);
  });
});

describe.each(VARIANTS)('page-cache pages and migration, $memory with $pageSizeBytes device pages', (variant) => {
  it('a MAP_SHARED file mapping cannot migrate: ENOENT, the pages stay in the page cache', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, shared: true, file: 'data' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf', expect: 'ENOENT' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(errno(r, 2)).toBe('ENOENT');
    expect(op(r, 2).error).toMatch(/MAP_SHARED memory cannot migrate/);
    expect(snapshot(r, 3)).toEqual(all(PAGES, 'write'));
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
  });

  it('a MAP_PRIVATE page moves only once a write has copied it: page-cache pages and file holes stay', () => {
    const quarter = BUFFER / 4;
    const r = runSelftest(variant, [
      { op: 'file.write', file: 'data', sizeBytes: BUFFER },
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, file: 'data' },
      { op: 'migrate', region: 'buf', expect: 'ENOENT' },
      { op: 'cpu.read', region: 'buf', sizeBytes: 2 * quarter },
      { op: 'cpu.write', region: 'buf', offsetBytes: quarter, sizeBytes: 2 * quarter },
      { op: 'migrate', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    // Nothing mapped yet: the holes of a file VMA are not collected (migrate_vma_collect_hole).
    expect(op(r, 2).error).toMatch(/page-cache pages of a file mapping cannot migrate/);
    const q = PAGES / 4;
    // Read only: the page-cache page; written: an anonymous copy, which moved; untouched: no entry.
    expect(snapshot(r, 6)).toEqual([...all(q, 'read'), ...all(2 * q, onDevice(variant)), ...all(q, 'none')]);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(2 * q);
  });

  it('contents persist across munmap and mmap of the same file: the page cache keeps the dirty pages until fsync', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'first', sizeBytes: BUFFER, shared: true, file: 'data' },
      { op: 'dev.write', region: 'first' },
      { op: 'munmap', region: 'first' },
      { op: 'mmap', name: 'again', sizeBytes: BUFFER, shared: true, prot: 'read', file: 'data' },
      { op: 'snapshot', region: 'again' },
      { op: 'dev.read', region: 'again' },
      { op: 'snapshot', region: 'again' },
      { op: 'fsync', file: 'data' },
    ]);
    // munmap writes nothing back; the new mapping starts empty and maps the same pages.
    expect(snapshot(r, 4)).toEqual(all(PAGES, 'none'));
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'read'));
    expect(metric(r, 'file.pages_dirtied')).toBe(PAGES);
    // fsync writes back the device's data, dirtied through the first mapping.
    expect(metric(r, 'file.pages_written_back')).toBe(PAGES);
    expect(metric(r, 'file.dirty_pages')).toBe(0);
    expect(op(r, 7).durationNs).toBeGreaterThanOrEqual(PAGES * 1000);
  });

  it('msync write-protects the device-written pages (the notifier drops the device mapping); the next device write faults and dirties them again', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, shared: true, file: 'data' },
      { op: 'dev.write', region: 'buf' },
      { op: 'msync', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(metric(r, 'file.pages_written_back')).toBe(PAGES);
    expect(snapshot(r, 3)).toEqual(all(PAGES, 'read'));
    // The device lost its mapping: it faults to read, and again to write (page_mkwrite).
    expect(op(r, 4).faults).toBeGreaterThan(0);
    expect(op(r, 5).faults).toBeGreaterThan(0);
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'write'));
    expect(metric(r, 'file.pages_dirtied')).toBe(2 * PAGES);
    expect(metric(r, 'file.dirty_pages')).toBe(PAGES);
  });

  it('writeback never meets device memory: msync of a MAP_PRIVATE mapping writes nothing and leaves its migrated pages on the device', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER, file: 'data' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'msync', region: 'buf' },
      { op: 'fsync', file: 'data' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(metric(r, 'file.pages_written_back')).toBe(0);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
    expect(snapshot(r, 5)).toEqual(all(PAGES, onDevice(variant)));
  });

  it('a CPU write to a page-cache page the device mirrors (MAP_PRIVATE) copies it and invalidates the mirror', () => {
    const r = runSelftest(variant, [
      { op: 'file.write', file: 'data', sizeBytes: 64 * KiB },
      { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB, file: 'data' },
      { op: 'dev.read', region: 'buf' },
      { op: 'cpu.write', region: 'buf', sizeBytes: 4 * KiB },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(metric(r, 'cpu.cow_faults')).toBe(1);
    expect(op(r, 4).faults).toBeGreaterThan(0);
    expect(snapshot(r, 5)).toEqual(['write', ...all(15, 'read')]);
  });

  it('device-exclusive access takes anonymous pages only: EBUSY on a MAP_SHARED file, granted on a MAP_PRIVATE one (after its copy)', () => {
    // Over a coherent link the atomics need no exclusive access: they reach the page cache directly.
    const atomic = coherent(variant) ? 'ok' : 'EBUSY';
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'shared', sizeBytes: 64 * KiB, shared: true, file: 'data' },
      { op: 'exclusive', region: 'shared', expect: 'EBUSY' },
      { op: 'dev.atomic', region: 'shared', expect: atomic },
      { op: 'mmap', name: 'private', sizeBytes: 64 * KiB, file: 'data' },
      { op: 'exclusive', region: 'private' },
      { op: 'snapshot', region: 'private' },
    ]);
    expect(errno(r, 1)).toBe('EBUSY');
    expect(op(r, 1).error).toMatch(/only anonymous pages can be made device-exclusive/);
    expect(errno(r, 2)).toBe(atomic === 'ok' ? undefined : atomic);
    expect(snapshot(r, 5)).toEqual(all(16, 'device-exclusive'));
  });

  it('a long-term pin of a writable MAP_SHARED file mapping is EFAULT; of a read-only one it is allowed', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'rw', sizeBytes: 64 * KiB, shared: true, file: 'data' },
      { op: 'pin', region: 'rw', target: 'host', expect: 'EFAULT' },
      { op: 'mmap', name: 'ro', sizeBytes: 64 * KiB, shared: true, prot: 'read', file: 'data' },
      { op: 'pin', region: 'ro', target: 'host' },
    ]);
    expect(op(r, 1).error).toMatch(/writable MAP_SHARED file mapping/);
    expect(metric(r, 'mm.longterm_pins')).toBe(16);
  });
});

describe('file faults on the CPU', () => {
  const run = (ops: Record<string, unknown>[], strategy: Record<string, unknown> = { impl: 'hmm-mirror' }) =>
    simulate(
      parseExperiment({
        name: 'file faults',
        hardware: {
          cpu: { transparentHugePages: true },
          link: { impl: strategy.impl === 'coherent' ? 'coherent' : 'pcie' },
          iommu: { ats: { enabled: strategy.impl === 'ats-sva' } },
          devices: [{ computeUnits: 4, contextsPerUnit: 2 }],
        },
        strategy,
        workload: { impl: 'scripted', ops },
      }),
    );

  it('a read maps the 64 KiB around the faulting page (fault-around): 16 times fewer faults than anonymous memory', () => {
    const r = run([
      { op: 'mmap', name: 'f', sizeBytes: BUFFER, shared: true, file: 'data' },
      { op: 'cpu.read', region: 'f' },
      { op: 'mmap', name: 'p', sizeBytes: BUFFER, file: 'data' },
      { op: 'cpu.read', region: 'p' },
    ]);
    expect(op(r, 1).faults).toBe(PAGES / 16);
    expect(op(r, 3).faults).toBe(PAGES / 16);
    expect(metric(r, 'file.fault_around_pages')).toBe(2 * (PAGES - PAGES / 16));
  });

  it('a write to a clean MAP_SHARED page takes a write-protect fault (page_mkwrite) that dirties it, and never a huge page', () => {
    const r = run([
      { op: 'mmap', name: 'f', sizeBytes: BUFFER, shared: true, file: 'data' },
      { op: 'cpu.read', region: 'f' },
      { op: 'cpu.write', region: 'f' },
      { op: 'cpu.write', region: 'f' },
    ]);
    expect(op(r, 2).faults).toBe(PAGES);
    expect(op(r, 3).faults).toBe(0);
    expect(metric(r, 'cpu.cow_faults')).toBe(0);
    expect(metric(r, 'cpu.huge_page_faults')).toBe(0);
    expect(metric(r, 'file.pages_dirtied')).toBe(PAGES);
  });

  it('under ats-sva a device write to a clean MAP_SHARED page its ATC holds read-only faults once, and maps it writable (found by the file property)', () => {
    const r = run(
      [
        { op: 'mmap', name: 'f', sizeBytes: 64 * KiB, shared: true, file: 'data' },
        { op: 'dev.read', region: 'f' },
        { op: 'dev.write', region: 'f' },
        { op: 'fsync', file: 'data' },
        { op: 'dev.write', region: 'f' },
        { op: 'snapshot', region: 'f' },
      ],
      { impl: 'ats-sva' },
    );
    expect(op(r, 2).faults).toBeGreaterThan(0);
    expect(op(r, 4).faults).toBeGreaterThan(0);
    expect(snapshot(r, 5)).toEqual(all(16, 'write'));
    expect(metric(r, 'file.pages_dirtied')).toBe(32);
  });

  it('madvise(DONTNEED) drops a MAP_PRIVATE copy: the next read sees the page cache again, not a zero page', () => {
    const r = run([
      { op: 'mmap', name: 'p', sizeBytes: 64 * KiB, file: 'data' },
      { op: 'cpu.write', region: 'p' },
      { op: 'madvise', region: 'p' },
      { op: 'cpu.read', region: 'p' },
      { op: 'snapshot', region: 'p' },
    ]);
    expect(snapshot(r, 4)).toEqual(all(16, 'read'));
    expect(metric(r, 'file.pages_dirtied')).toBe(0);
  });

  // gmem's prefetch that moves nothing reports ENOMEM (its message names both causes).
  it.each([
    { strategy: { impl: 'gmem' }, nothingMoved: 'ENOMEM' },
    { strategy: { impl: 'coherent', placement: 'device-preferred' }, nothingMoved: 'ENOENT' },
  ])(
    '$strategy.impl moves no page-cache page: the device maps file pages over the link',
    ({ strategy, nothingMoved }) => {
      const r = run(
        [
          { op: 'file.write', file: 'data', sizeBytes: BUFFER },
          { op: 'mmap', name: 'private', sizeBytes: BUFFER, file: 'data' },
          { op: 'dev.read', region: 'private' },
          { op: 'mmap', name: 'shared', sizeBytes: BUFFER, shared: true, file: 'data' },
          { op: 'dev.write', region: 'shared' },
          { op: 'snapshot', region: 'private' },
          { op: 'snapshot', region: 'shared' },
          { op: 'migrate', region: 'private', expect: nothingMoved },
          { op: 'migrate', region: 'shared', expect: nothingMoved },
        ],
        strategy,
      );
      expect(snapshot(r, 5)).toEqual(all(PAGES, 'read'));
      expect(snapshot(r, 6)).toEqual(all(PAGES, 'write'));
      // The device read the page cache across the link.
      expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(BUFFER);
      expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
      expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
    },
  );

  it('hmm-migrate migrating on device faults mirrors page-cache pages over the link and migrates the anonymous copies', () => {
    const strategy = { impl: 'hmm-migrate', migrateOnFault: true };
    const r = run(
      [
        { op: 'mmap', name: 'shared', sizeBytes: BUFFER, shared: true, file: 'data' },
        { op: 'dev.write', region: 'shared' },
        { op: 'mmap', name: 'private', sizeBytes: BUFFER, file: 'data' },
        { op: 'cpu.write', region: 'private' },
        { op: 'dev.read', region: 'private' },
        { op: 'snapshot', region: 'shared' },
        { op: 'snapshot', region: 'private' },
      ],
      strategy,
    );
    expect(snapshot(r, 5)).toEqual(all(PAGES, 'write'));
    expect(metric(r, 'mm.migration_fallback_pages')).toBeGreaterThanOrEqual(PAGES);
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'device-private'));
  });
});
