/**
 * Scenarios after the Linux kernel's HMM selftests (tools/testing/selftests/mm/hmm-tests.c,
 * driven through lib/test_hmm.c): each is a scripted workload whose outcome is the one the
 * kernel's test asserts. The device has 4 KiB pages, like the test driver (dmirror).
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';

const KiB = 1024;

function runScript(
  ops: Record<string, unknown>[],
  strategy: Record<string, unknown> = { impl: 'hmm-mirror' },
): RunResult {
  const r = simulate(
    parseExperiment({
      name: 'hmm selftest scenario',
      hardware: { device: { computeUnits: 4, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } } },
      strategy,
      workload: { impl: 'scripted', ops },
    }),
  );
  // Every op did what the script said it would.
  expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
  return r;
}

const op = (r: RunResult, i: number) => r.ops.find((o) => o.index === i)!;
const snapshot = (r: RunResult, i: number) => r.snapshots.find((s) => s.opIndex === i)!.pages;
const errno = (r: RunResult, i: number) => op(r, i).error?.split(':')[0];

describe('HMM selftests, hmm-mirror', () => {
  it('anon_read: the device reads what the CPU wrote, one fault per page, then no fault', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * 4 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(op(r, 1).faults).toBe(16); // CPU first-touch faults
    expect(op(r, 2).error).toBeUndefined();
    expect(op(r, 2).faults).toBe(16); // one device fault per page
    expect(op(r, 2).h2dBytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(op(r, 3).faults).toBe(0); // mirrored now
    expect(snapshot(r, 4)).toEqual(new Array(16).fill('write'));
  });

  it('anon_read_prot: a device read of a PROT_NONE range fails with EFAULT', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 4 * 4 * KiB, prot: 'none' },
      { op: 'dev.read', region: 'buf', expect: 'EFAULT' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(errno(r, 1)).toBe('EFAULT');
    expect(snapshot(r, 2)).toEqual(['error', 'error', 'error', 'error']);
  });

  it('anon_write_prot: a device write to a read-only range fails with EPERM, and succeeds after mprotect(PROT_WRITE)', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 4 * 4 * KiB, prot: 'read' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf', expect: 'EPERM' },
      { op: 'mprotect', region: 'buf', prot: 'read-write' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(op(r, 1).error).toBeUndefined();
    expect(errno(r, 2)).toBe('EPERM');
    expect(op(r, 4).error).toBeUndefined();
    expect(snapshot(r, 5)).toEqual(new Array(4).fill('write'));
    expect(r.metrics['mm.notifier_invalidations'].value).toBeGreaterThanOrEqual(1); // the mprotect
  });

  it('anon_write_child-like zero page: a device read maps the zero page; a CPU write replaces it and invalidates the device', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 2 * 4 * KiB },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
    ]);
    expect(snapshot(r, 2)).toEqual(['zero', 'zero']);
    expect(snapshot(r, 4)).toEqual(['write', 'write']);
    expect(r.metrics['cpu.cow_faults'].value).toBe(2);
    expect(r.metrics['mm.tlb_shootdowns'].value).toBeGreaterThanOrEqual(1);
    expect(op(r, 5).faults).toBe(2); // the device must fault again on the new pages
  });

  it('munmap: the notifier clears the device mapping; a later device read fails with EFAULT', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 8 * 4 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'munmap', region: 'buf', offsetBytes: 4 * 4 * KiB, sizeBytes: 4 * 4 * KiB },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf', offsetBytes: 0, sizeBytes: 4 * 4 * KiB },
      { op: 'dev.read', region: 'buf', offsetBytes: 4 * 4 * KiB, sizeBytes: 4 * 4 * KiB, expect: 'EFAULT' },
    ]);
    expect(snapshot(r, 4)).toEqual([...new Array(4).fill('write'), ...new Array(4).fill('error')]);
    expect(op(r, 5).error).toBeUndefined();
    expect(op(r, 5).faults).toBe(0); // the first half is still mirrored
    expect(errno(r, 6)).toBe('EFAULT');
    expect(r.metrics['mm.tlb_shootdowns'].value).toBeGreaterThanOrEqual(1);
  });

  it('mprotect to read-only after a device write: the next device write fails with EPERM', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 4 * 4 * KiB },
      { op: 'dev.write', region: 'buf' },
      { op: 'mprotect', region: 'buf', prot: 'read' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf', expect: 'EPERM' },
    ]);
    expect(op(r, 1).error).toBeUndefined();
    expect(op(r, 3).error).toBeUndefined();
    expect(errno(r, 4)).toBe('EPERM');
  });

  it('a CPU touch of a PROT_NONE page is a SIGSEGV', () => {
    const r = runScript([
      { op: 'mmap', name: 'buf', sizeBytes: 4 * KiB, prot: 'none' },
      { op: 'cpu.read', region: 'buf', expect: 'SIGSEGV' },
    ]);
    expect(errno(r, 1)).toBe('SIGSEGV');
  });
});

describe('the same scenarios under explicit-copy', () => {
  it('copies from a PROT_NONE range fail with EFAULT; copies back into a read-only range fail with EPERM', () => {
    const r = runScript(
      [
        { op: 'mmap', name: 'none', sizeBytes: 4 * KiB, prot: 'none' },
        { op: 'mmap', name: 'ro', sizeBytes: 4 * KiB, prot: 'read' },
        { op: 'dev.read', region: 'none', expect: 'EFAULT' },
        { op: 'dev.write', region: 'ro', expect: 'EPERM' },
      ],
      { impl: 'explicit-copy', skipCleanCopies: false },
    );
    expect(errno(r, 2)).toBe('EFAULT');
    expect(errno(r, 3)).toBe('EPERM'); // the copy back after the kernel cannot land
    expect(r.metrics['device.page_faults'].value).toBe(0);
  });

  it('a careful programmer copies nothing the device already holds: the device never touches the PROT_NONE range', () => {
    const r = runScript(
      [
        { op: 'mmap', name: 'none', sizeBytes: 4 * KiB, prot: 'none' },
        { op: 'dev.read', region: 'none' },
      ],
      { impl: 'explicit-copy', skipCleanCopies: true },
    );
    expect(r.metrics['copy.count'].value).toBe(0);
  });

  it('reports an op whose outcome differs from what the script expected', () => {
    const r = simulate(
      parseExperiment({
        name: 'unexpected',
        strategy: { impl: 'hmm-mirror' },
        workload: {
          impl: 'scripted',
          ops: [
            { op: 'mmap', name: 'a', sizeBytes: 4096 },
            { op: 'dev.read', region: 'a', expect: 'EFAULT' },
          ],
        },
      }),
    );
    expect(op(r, 1)).toMatchObject({ expected: 'EFAULT', unexpected: true });
    expect(r.metrics['workload.unexpected_outcomes'].value).toBe(1);
  });
});
