/**
 * The HMM selftests on device-exclusive access (tools/testing/selftests/mm/hmm-tests.c:
 * exclusive, exclusive_mprotect, exclusive_cow), and device atomics on system memory over
 * a link with and without PCIe AtomicOps. Each test names the kernel test and asserts what
 * it asserts, for device-coherent memory what its hmm_is_coherent_type() branches assert.
 */
import { describe, expect, it } from 'vitest';
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
  snapshot,
} from './hmm-selftests/harness.js';

describe.each(VARIANTS)('HMM selftests on exclusive access, $memory with $pageSizeBytes device pages', (variant) => {
  it('exclusive: the device gets exclusive access and reads the data; CPU touches revoke it', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'exclusive', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(all(PAGES, 'device-exclusive'));
    expect(op(r, 4).faults).toBe(0); // mapped read-write by the grant
    expect(metric(r, 'mm.exclusive_grants')).toBe(PAGES);
    // HMM_DMIRROR_CHECK_EXCLUSIVE: the CPU writes revoked every page's exclusivity.
    expect(metric(r, 'mm.exclusive_revocations')).toBe(PAGES);
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'write'));
    expect(op(r, 7).faults).toBeGreaterThan(0); // the device's mapping went with it
  });

  it('exclusive_mprotect: after mprotect(PROT_READ) the device write fails with EPERM', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'exclusive', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'mprotect', region: 'buf', prot: 'read' },
      { op: 'dev.write', region: 'buf', expect: 'EPERM' },
    ]);
    expect(errno(r, 5)).toBe('EPERM');
  });

  it('exclusive_cow: fork revokes exclusivity; both processes then write their own copies', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: BUFFER },
      { op: 'cpu.write', region: 'buf' },
      { op: 'exclusive', region: 'buf' },
      { op: 'fork' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(metric(r, 'mm.exclusive_revocations')).toBe(PAGES);
    expect(snapshot(r, 4)).toEqual(all(PAGES, 'read'));
    expect(metric(r, 'cpu.cow_faults')).toBe(PAGES);
    expect(snapshot(r, 6)).toEqual(all(PAGES, 'write'));
  });

  it('exclusive access to a device-private page brings it back first (a device-coherent one is granted in place); a read-only range is EFAULT', () => {
    const r = runSelftest(variant, [
      { op: 'mmap', name: 'buf', sizeBytes: 64 * KiB },
      { op: 'mmap', name: 'ro', sizeBytes: 64 * KiB, prot: 'read' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'migrate', region: 'buf' },
      { op: 'exclusive', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'exclusive', region: 'ro', expect: 'EFAULT' },
      { op: 'snapshot', region: 'ro' },
    ]);
    // make_device_exclusive takes any anonymous page: a device-coherent one stays in device memory.
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(coherent(variant) ? 0 : 16);
    expect(snapshot(r, 5)).toEqual(all(16, 'device-exclusive'));
    expect(snapshot(r, 7)).toEqual(all(16, 'none')); // nothing changed
  });

  it('dev.atomic over PCIe without AtomicOps takes exclusive access first; with AtomicOps (or a coherent link) it goes straight over the link', () => {
    const ops = [
      { op: 'mmap', name: 'counters', sizeBytes: 64 * KiB },
      { op: 'cpu.write', region: 'counters' },
      { op: 'dev.atomic', region: 'counters' },
      { op: 'snapshot', region: 'counters' },
      { op: 'dev.atomic', region: 'counters' },
      { op: 'cpu.read', region: 'counters' },
    ];
    if (coherent(variant)) {
      // A coherent link carries the device's atomics to system memory itself.
      const r = runSelftest(variant, ops);
      expect(snapshot(r, 3)).toEqual(all(16, 'write'));
      expect(metric(r, 'mm.exclusive_grants')).toBe(0);
      expect(op(r, 5).faults).toBe(0);
      return;
    }
    const without = runSelftest(variant, ops);
    expect(snapshot(without, 3)).toEqual(all(16, 'device-exclusive'));
    expect(metric(without, 'mm.exclusive_grants')).toBe(16); // the second atomic finds the grant in place
    expect(op(without, 4).faults).toBe(0);
    expect(metric(without, 'mm.exclusive_revocations')).toBe(16); // the CPU read takes the pages back
    const withAtomics = runSelftest(variant, ops, { atomicOps: true });
    expect(snapshot(withAtomics, 3)).toEqual(all(16, 'write'));
    expect(metric(withAtomics, 'mm.exclusive_grants')).toBe(0);
    expect(op(withAtomics, 5).faults).toBe(0);
  });
});

describe.each(VARIANTS)('HMM selftests with two devices, $memory with $pageSizeBytes device pages', (variant) => {
  /** What device 0 sees of a page migrated to it, and of one migrated to device 1. */
  const local = coherent(variant) ? 'device-coherent' : 'device-private';
  const remote = `${local}-remote`;

  it('migrate_mixed: a PROT_NONE range and a hole are EINVAL; zero, read-only and read-write pages move; a page on the other device is ENOENT', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 24 * KiB, prot: 'none' },
        { op: 'migrate', region: 'buf', device: 1, expect: 'EINVAL' },
        { op: 'munmap', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB },
        { op: 'migrate', region: 'buf', sizeBytes: 12 * KiB, device: 1, expect: 'EINVAL' },
        { op: 'mprotect', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'cpu.read', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB },
        { op: 'mprotect', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB, prot: 'read-write' },
        { op: 'cpu.write', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB },
        { op: 'mprotect', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'mprotect', region: 'buf', offsetBytes: 16 * KiB, sizeBytes: 8 * KiB, prot: 'read-write' },
        { op: 'cpu.write', region: 'buf', offsetBytes: 16 * KiB, sizeBytes: 8 * KiB },
        { op: 'migrate', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 16 * KiB, device: 1 },
        { op: 'snapshot', region: 'buf', device: 1 },
        { op: 'migrate', region: 'buf', offsetBytes: 20 * KiB, sizeBytes: 4 * KiB, device: 0, expect: 'ENOENT' },
      ],
      { devices: 2 },
    );
    expect([errno(r, 1), errno(r, 3), errno(r, 13)]).toEqual(['EINVAL', 'EINVAL', 'ENOENT']);
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(4);
    expect(snapshot(r, 12)).toEqual(['error', 'error', ...all(4, local)]);
  });

  it('snapshot: every state told apart, seen from device 0', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 28 * KiB, prot: 'none' },
        { op: 'munmap', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB },
        { op: 'mprotect', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'cpu.read', region: 'buf', offsetBytes: 8 * KiB, sizeBytes: 4 * KiB },
        { op: 'mprotect', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB, prot: 'read-write' },
        { op: 'cpu.write', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB },
        { op: 'mprotect', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'mprotect', region: 'buf', offsetBytes: 16 * KiB, sizeBytes: 12 * KiB, prot: 'read-write' },
        { op: 'cpu.write', region: 'buf', offsetBytes: 16 * KiB, sizeBytes: 4 * KiB },
        { op: 'migrate', region: 'buf', offsetBytes: 20 * KiB, sizeBytes: 4 * KiB, device: 0 },
        { op: 'migrate', region: 'buf', offsetBytes: 24 * KiB, sizeBytes: 4 * KiB, device: 1 },
        { op: 'snapshot', region: 'buf', device: 0 },
        { op: 'snapshot', region: 'buf', device: 1 },
      ],
      { devices: 2 },
    );
    // HMM_DMIRROR_PROT_ERROR, ERROR, ZERO|READ, READ, WRITE, DEV_PRIVATE_LOCAL|WRITE and
    // NONE (the other device's private page); device-coherent: DEV_COHERENT_LOCAL|WRITE and
    // DEV_COHERENT_REMOTE|WRITE.
    expect(snapshot(r, 11)).toEqual(['error', 'error', 'zero', 'read', 'write', local, remote]);
    expect(snapshot(r, 12).slice(5)).toEqual([remote, local]);
  });

  it('double_map: both devices read a read-only buffer; after it migrates to device 1, device 0 still reads it (device-coherent: where it is)', () => {
    const r = runSelftest(
      variant,
      [
        { op: 'mmap', name: 'buf', sizeBytes: 24 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'mprotect', region: 'buf', prot: 'read' },
        { op: 'dev.read', region: 'buf', device: 0 },
        { op: 'dev.read', region: 'buf', device: 1 },
        { op: 'migrate', region: 'buf', device: 1 },
        { op: 'dev.read', region: 'buf', device: 0 },
        { op: 'snapshot', region: 'buf', device: 0 },
      ],
      { devices: 2 },
    );
    for (const i of [3, 4, 6]) expect(op(r, i).error).toBeUndefined();
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(6);
    if (coherent(variant)) {
      // hmm_range_fault hands device 0 the device-coherent pages themselves: nothing moves.
      expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
      expect(snapshot(r, 7)).toEqual(all(6, 'device-coherent-remote'));
      return;
    }
    // Device 0's read faulted the pages back from device 1 (hmm_range_fault on another device's page).
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(6);
    expect(snapshot(r, 7)).toEqual(all(6, 'read'));
  });
});
