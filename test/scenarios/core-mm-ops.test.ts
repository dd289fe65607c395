/**
 * The core-MM operations of scripted workloads beyond the HMM selftests: Linux's rules for
 * madvise, mremap, pin, exclusive and release (an error, and nothing changes), what each
 * does to a mirror (hmm-mirror), and the script checks for their names and devices.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, validateExperiment } from '../../src/sim/index.js';
import { KiB, all, metric, op, snapshot } from './hmm-selftests/harness.js';

function run(
  ops: Record<string, unknown>[],
  strategy: Record<string, unknown> = { impl: 'hmm-mirror' },
  hardware = {},
) {
  const r = simulate(
    parseExperiment({
      name: 'core-mm ops',
      hardware: { device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } }, ...hardware },
      strategy,
      workload: { impl: 'scripted', ops },
    }),
  );
  expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
  return r;
}

describe('madvise(MADV_DONTNEED)', () => {
  it('drops the pages and the device mapping; the next touch faults in a zero page', () => {
    const r = run([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'madvise', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 8 * KiB },
      { op: 'snapshot', region: 'buf' },
      { op: 'dev.read', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 4)).toEqual(['write', 'none', 'none', 'write']);
    expect(op(r, 5).faults).toBe(2); // only the dropped pages fault again
    expect(snapshot(r, 6)).toEqual(['write', 'zero', 'zero', 'write']);
  });

  it('is EINVAL at an unaligned start and ENOMEM over a hole, and then changes nothing', () => {
    const r = run([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'munmap', region: 'buf', offsetBytes: 12 * KiB, sizeBytes: 4 * KiB },
      { op: 'madvise', region: 'buf', offsetBytes: 100, sizeBytes: 4 * KiB, expect: 'EINVAL' },
      { op: 'madvise', region: 'buf', expect: 'ENOMEM' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 5)).toEqual([...all(3, 'write'), 'error']);
  });
});

describe('mremap', () => {
  it('runs the notifier for the old range; the device faults on the new one; the old one is gone (or empty with MREMAP_DONTUNMAP)', () => {
    for (const dontUnmap of [false, true]) {
      const r = run([
        { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
        { op: 'cpu.write', region: 'buf' },
        { op: 'dev.read', region: 'buf' },
        { op: 'mremap', region: 'buf', offsetBytes: 8 * KiB, name: 'moved', dontUnmap },
        { op: 'snapshot', region: 'buf' },
        { op: 'snapshot', region: 'moved' },
        { op: 'dev.read', region: 'moved' },
        { op: 'dev.read', region: 'buf', sizeBytes: 8 * KiB },
      ]);
      expect(snapshot(r, 4)).toEqual(['write', 'write', ...all(2, dontUnmap ? 'none' : 'error')]);
      expect(snapshot(r, 5)).toEqual(['write', 'write']);
      expect(op(r, 6).faults).toBe(2);
      expect(op(r, 7).faults).toBe(0); // the rest of the old range is still mirrored
    }
  });

  it('is EFAULT over a hole and EINVAL at an unaligned start, and then moves nothing', () => {
    const r = run([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'cpu.write', region: 'buf' },
      { op: 'munmap', region: 'buf', offsetBytes: 4 * KiB, sizeBytes: 4 * KiB },
      { op: 'mremap', region: 'buf', name: 'moved', expect: 'EFAULT' },
      { op: 'mremap', region: 'buf', offsetBytes: 10, sizeBytes: 4 * KiB, name: 'other', expect: 'EINVAL' },
      { op: 'snapshot', region: 'buf' },
      { op: 'cpu.read', region: 'moved', expect: 'SIGSEGV' },
    ]);
    expect(snapshot(r, 5)).toEqual(['write', 'error', 'write', 'write']);
  });
});

describe('fork under hmm-mirror', () => {
  it("drops the devices' writable mappings: the device refaults to read, and its write copies each page", () => {
    const r = run([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'dev.write', region: 'buf' },
      { op: 'fork' },
      { op: 'dev.read', region: 'buf' },
      { op: 'dev.write', region: 'buf' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(op(r, 3).faults).toBe(4); // the notifier dropped the writable mappings
    expect(metric(r, 'cpu.cow_faults')).toBe(4);
    expect(snapshot(r, 5)).toEqual(all(4, 'write'));
  });

  it('keeps long-term pinned pages writable in the parent (copied for the child at once)', () => {
    const r = run([
      { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
      { op: 'pin', region: 'buf', target: 'host', sizeBytes: 8 * KiB },
      { op: 'fork' },
      { op: 'snapshot', region: 'buf' },
    ]);
    expect(snapshot(r, 3)).toEqual(['write', 'write', 'none', 'none']);
  });
});

describe('dev.atomic over a coherent link', () => {
  it('needs no exclusive access', () => {
    const r = run(
      [
        { op: 'mmap', name: 'c', sizeBytes: 16 * KiB },
        { op: 'dev.atomic', region: 'c' },
        { op: 'snapshot', region: 'c' },
      ],
      { impl: 'hmm-mirror' },
      { link: { impl: 'coherent' } },
    );
    expect(metric(r, 'mm.exclusive_grants')).toBe(0);
    expect(snapshot(r, 2)).toEqual(all(4, 'write'));
  });
});

describe('operations a strategy or the hardware cannot do', () => {
  it('fail with EINVAL and a sentence', () => {
    const r = run(
      [
        { op: 'mmap', name: 'buf', sizeBytes: 16 * KiB },
        { op: 'exclusive', region: 'buf', expect: 'EINVAL' },
        { op: 'pin', region: 'buf', target: 'device', expect: 'EINVAL' },
        { op: 'release', device: 3, expect: 'EINVAL' },
        { op: 'snapshot', region: 'buf', device: 2, expect: 'EINVAL' },
      ],
      { impl: 'explicit-copy' },
    );
    expect(op(r, 1).error).toMatch(/exclusive access needs a device page table/);
    expect(op(r, 2).error).toMatch(/does not migrate pages/);
    expect(op(r, 3).error).toMatch(/the hardware has 1/);
  });
});

describe('script checks', () => {
  const issues = (ops: Record<string, unknown>[]) => {
    const v = validateExperiment({ name: 'x', strategy: { impl: 'hmm-migrate' }, workload: { impl: 'scripted', ops } });
    return v.ok ? [] : v.issues.map((e) => `${e.path}: ${e.message}`);
  };

  it('mremap names its new region, which later ops use; a taken name is refused', () => {
    expect(
      issues([
        { op: 'mmap', name: 'a', sizeBytes: 8192 },
        { op: 'snapshot', region: 'b' },
        { op: 'mremap', region: 'a', name: 'b' },
        { op: 'cpu.read', region: 'b' },
        { op: 'mremap', region: 'b', name: 'a' },
      ]),
    ).toEqual([
      expect.stringContaining('uses region "b" before op 2 maps it'),
      expect.stringContaining('region "a" is already mapped by op 0; give the new region its own name'),
    ]);
  });

  it('fork and release need no region; a release names a device by index', () => {
    expect(issues([{ op: 'fork' }, { op: 'release' }])).toEqual([]);
    expect(issues([{ op: 'release', device: -1 }])).toEqual([
      'workload.ops[0].device: -1 is out of range; use an integer from 0 to 14',
    ]);
  });
});
