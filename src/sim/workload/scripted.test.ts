import { describe, expect, it } from 'vitest';
import { drainPlan } from './drain.js';
import { buildScripted, checkScript, scriptedSchema } from './scripted.js';
import { collectAllRuns, collectRuns, findBadRun } from './testing.js';
import type { StreamSpec } from './types.js';

const env = { seed: 3, deviceContexts: 8, cpuContexts: 4 };
const parse = (ops: object[]) => scriptedSchema.parse({ impl: 'scripted', ops });

// Modelled on hmm-tests.c "anon_write_prot": a device write to a read-only range fails
// with EPERM, and succeeds after mprotect to read-write.
const WRITE_PROT = [
  { op: 'mmap', name: 'buf', sizeBytes: '16KiB', prot: 'read' },
  { op: 'dev.read', region: 'buf' },
  { op: 'dev.write', region: 'buf', expect: 'EPERM' },
  { op: 'mprotect', region: 'buf', prot: 'read-write' },
  { op: 'dev.write', region: 'buf' },
  { op: 'cpu.read', region: 'buf', offsetBytes: 4096, sizeBytes: 6000 },
  { op: 'snapshot', region: 'buf' },
  { op: 'munmap', region: 'buf', offsetBytes: '8KiB' },
];

describe('scripted schema', () => {
  it('fills the defaults of each op', () => {
    const c = parse(WRITE_PROT);
    expect(c.ops[0]).toEqual({ op: 'mmap', name: 'buf', sizeBytes: 16384, prot: 'read', shared: false, expect: 'ok' });
    expect(c.ops[1]).toEqual({ op: 'dev.read', region: 'buf', offsetBytes: 0, withPrevious: false, expect: 'ok' });
    expect(parse([{ op: 'mmap', name: 'x', sizeBytes: 4096 }]).ops[0]).toMatchObject({
      prot: 'read-write',
      shared: false,
    });
    expect(parse([{ op: 'dev.compute', region: 'x', generator: 'gather' }]).ops[0]).toMatchObject({
      iterations: 1,
      accesses: 100_000,
      elementBytes: 8,
      distribution: 'uniform',
    });
  });

  it('rejects an unknown op, an unknown expectation and a field of another op', () => {
    expect(scriptedSchema.safeParse({ impl: 'scripted', ops: [{ op: 'dev.raed', region: 'x' }] }).success).toBe(false);
    const bad = scriptedSchema.safeParse({
      impl: 'scripted',
      ops: [{ op: 'dev.read', region: 'x', expect: 'EAGAIN' }],
    });
    expect(bad.error?.issues[0].message).toBe(
      '"EAGAIN" is not an expected outcome; use "ok", "EFAULT", "EPERM", "EINVAL", "EBUSY", "ENOMEM", "ENOENT", "SIGSEGV", "SIGBUS" or "EREMOTEIO"',
    );
    const extra = scriptedSchema.safeParse({ impl: 'scripted', ops: [{ op: 'dev.read', region: 'x', prot: 'read' }] });
    expect(extra.error?.issues[0].path).toEqual(['ops', 0]);
    expect(scriptedSchema.safeParse({ impl: 'scripted', ops: [] }).error?.issues[0].message).toBe(
      'give at least one operation',
    );
  });
});

describe('checkScript', () => {
  it('accepts a valid script', () => {
    expect(checkScript(parse(WRITE_PROT).ops)).toEqual([]);
  });

  it('names the op index and the valid names for an unknown region', () => {
    const ops = parse([
      { op: 'mmap', name: 'src', sizeBytes: 4096 },
      { op: 'mmap', name: 'dst', sizeBytes: 4096 },
      { op: 'dev.read', region: 'sr' },
    ]).ops;
    expect(checkScript(ops)).toEqual([
      {
        path: [2, 'region'],
        message:
          'op 2 (dev.read): no region named "sr"; regions mapped before it: "src" or "dst" (did you mean "src"?)',
      },
    ]);
    expect(checkScript(parse([{ op: 'cpu.write', region: 'x' }]).ops)).toEqual([
      {
        path: [0, 'region'],
        message: 'op 0 (cpu.write): no region named "x"; no region is mapped before it; add an mmap op first',
      },
    ]);
  });

  it('rejects an op on a region before its mmap, and a name mapped twice', () => {
    const ops = parse([
      { op: 'mmap', name: 'a', sizeBytes: 4096 },
      { op: 'snapshot', region: 'b' },
      { op: 'mmap', name: 'b', sizeBytes: 4096 },
      { op: 'mmap', name: 'a', sizeBytes: 8192 },
    ]).ops;
    expect(checkScript(ops)).toEqual([
      {
        path: [1, 'region'],
        message: 'op 1 (snapshot) uses region "b" before op 2 maps it; regions mapped before it: "a"',
      },
      { path: [3, 'name'], message: 'op 3 (mmap): region "a" is already mapped by op 0; give each mmap its own name' },
    ]);
  });

  it('runs a munmap, mprotect or madvise during the previous access only, one per group', () => {
    const ops = parse([
      { op: 'mmap', name: 'a', sizeBytes: 8192 },
      { op: 'munmap', region: 'a', withPrevious: true },
      { op: 'dev.read', region: 'a' },
      { op: 'mprotect', region: 'a', prot: 'read', withPrevious: true, afterNs: 1000 },
      { op: 'madvise', region: 'a', withPrevious: true },
    ]).ops;
    expect(checkScript(ops)).toEqual([
      {
        path: [1, 'withPrevious'],
        message: 'op 1 (munmap): withPrevious runs it during the previous op, which must be an access or dev.compute',
      },
      {
        path: [4, 'withPrevious'],
        message: 'op 4 (madvise): withPrevious runs it during the previous op, which must be an access or dev.compute',
      },
    ]);
    const plan = buildScripted(parse([ops[0], ops[2], ops[3]]), env);
    expect(plan.phases[1]).toMatchObject({
      kind: 'streams',
      label: 'op 1: dev.read a + op 2: mprotect a',
      during: { host: { op: 'mprotect', prot: 'read' }, afterNs: 1000 },
    });
  });

  it('rejects ranges outside the region and unaligned gathers', () => {
    const ops = parse([
      { op: 'mmap', name: 'a', sizeBytes: 8192 },
      { op: 'dev.read', region: 'a', offsetBytes: 4096, sizeBytes: 8192 },
      { op: 'munmap', region: 'a', offsetBytes: 9000 },
      { op: 'dev.compute', region: 'a', generator: 'gather', offsetBytes: 4 },
    ]).ops;
    expect(checkScript(ops)).toEqual([
      {
        path: [1, 'sizeBytes'],
        message:
          'op 1 (dev.read): 8192 bytes from offset 4096 run past the end of region "a" (8192 bytes); use at most 4096',
      },
      {
        path: [2, 'offsetBytes'],
        message: 'op 2 (munmap): offsetBytes 9000 is past the end of region "a" (8192 bytes)',
      },
      {
        path: [3, 'offsetBytes'],
        message:
          'op 3 (dev.compute): offsetBytes 4 is not a multiple of elementBytes 8, so elements could straddle pages; align it',
      },
    ]);
    expect(() => buildScripted(parse([{ op: 'dev.read', region: 'nope' }]), env)).toThrow(/no region named "nope"/);
  });
});

describe('buildScripted', () => {
  const plan = buildScripted(parse(WRITE_PROT), env);

  it('maps nothing up front and adds a region per mmap', () => {
    expect(plan.premapped).toEqual([]);
    expect(plan.regions).toEqual([{ name: 'buf', sizeBytes: 16384, prot: 'read', shared: false }]);
  });

  it('makes host phases for mmap, mprotect, snapshot, munmap and stream phases for accesses', () => {
    expect(plan.phases.map((p) => [p.kind, p.label, p.opIndex, p.expectError])).toEqual([
      ['host', 'op 0: mmap buf', 0, undefined],
      ['streams', 'op 1: dev.read buf', 1, undefined],
      ['streams', 'op 2: dev.write buf', 2, 'EPERM'],
      ['host', 'op 3: mprotect buf', 3, undefined],
      ['streams', 'op 4: dev.write buf', 4, undefined],
      ['streams', 'op 5: cpu.read buf[4096, 10096)', 5, undefined],
      ['host', 'op 6: snapshot buf', 6, undefined],
      ['host', 'op 7: munmap buf[8192, 16384)', 7, undefined],
    ]);
    expect(plan.opNames).toEqual(plan.phases.map((p) => p.label.replace(/^op \d+: /, '')));
    const hosts = plan.phases.flatMap((p) => (p.kind === 'host' ? [p.host] : []));
    expect(hosts).toEqual([
      { op: 'mmap', region: 0 },
      { op: 'mprotect', region: 0, offset: 0, bytes: 16384, prot: 'read-write' },
      { op: 'snapshot', region: 0, offset: 0, bytes: 16384, device: 0 },
      { op: 'munmap', region: 0, offset: 8192, bytes: 8192 },
    ]);
    expect('expectError' in plan.phases[1]).toBe(false);
  });

  it('runs device ops on all device contexts in 4 KiB chunks, CPU ops on one core', () => {
    const streamOf = (i: number) => (plan.phases[i] as { streams: StreamSpec[] }).streams[0];
    const devWrite = streamOf(2);
    expect([devWrite.agent, devWrite.contexts, devWrite.reads, devWrite.writes, devWrite.plannedBytes]).toEqual([
      'device',
      0,
      [],
      [0],
      16384,
    ]);
    expect(collectRuns(devWrite, 1, 4).map((r) => [r.offset, r.bytes, r.write])).toEqual([[4096, 4096, true]]);
    const cpuRead = streamOf(5);
    expect([cpuRead.agent, cpuRead.contexts, cpuRead.reads]).toEqual(['cpu', 1, [0]]);
    expect(collectRuns(cpuRead).map((r) => [r.offset, r.bytes, r.write])).toEqual([
      [4096, 4096, false],
      [8192, 1904, false],
    ]);
    expect(findBadRun(plan)).toBeNull();
    expect(drainPlan(plan, { device: 4, cpu: 1 })).toMatchObject({ runs: 4 * 3 + 2, bytes: 3 * 16384 + 6000 });
  });

  it('builds dev.compute from the stream and gather generators', () => {
    const p = buildScripted(
      parse([
        { op: 'mmap', name: 'm', sizeBytes: '64KiB', shared: true },
        { op: 'dev.compute', region: 'm', generator: 'stream', iterations: 2, sizeBytes: 8192 },
        {
          op: 'dev.compute',
          region: 'm',
          generator: 'gather',
          accesses: 100,
          offsetBytes: 16384,
          sizeBytes: 16384,
          expect: 'EFAULT',
        },
      ]),
      env,
    );
    expect(p.regions[0].shared).toBe(true);
    expect(p.opNames).toEqual(['mmap m', 'dev.compute m[0, 8192) (stream)', 'dev.compute m[16384, 32768) (gather)']);
    const stream = (p.phases[1] as { streams: StreamSpec[] }).streams[0];
    expect(collectAllRuns(stream, 2).map((r) => [r.offset, r.write])).toEqual([
      [0, false],
      [0, true],
      [0, false],
      [0, true],
      [4096, false],
      [4096, true],
      [4096, false],
      [4096, true],
    ]);
    const gather = p.phases[2] as { streams: StreamSpec[]; expectError?: string };
    expect(gather.expectError).toBe('EFAULT');
    const runs = collectAllRuns(gather.streams[0], 3);
    expect(runs.length).toBe(100);
    expect(runs.every((r) => r.offset >= 16384 && r.offset < 32768 && r.offset % 8 === 0 && r.bytes === 8)).toBe(true);
    expect(findBadRun(p)).toBeNull();
  });
});
