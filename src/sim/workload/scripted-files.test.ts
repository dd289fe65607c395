import { describe, expect, it } from 'vitest';
import { validateExperiment } from '../config/validate.js';
import { buildScripted, checkScript, scriptedSchema } from './scripted.js';

const env = { seed: 3, deviceContexts: 8, cpuContexts: 4 };
const parse = (ops: object[]) => scriptedSchema.parse({ impl: 'scripted', ops });
const issues = (ops: object[]) => checkScript(parse(ops).ops);

describe('scripted files: schema and plan', () => {
  it('an mmap without "file" parses as before: anonymous memory, no file fields', () => {
    expect(parse([{ op: 'mmap', name: 'a', sizeBytes: 4096 }]).ops[0]).toEqual({
      op: 'mmap',
      name: 'a',
      sizeBytes: 4096,
      prot: 'read-write',
      shared: false,
      expect: 'ok',
    });
    const plan = buildScripted(parse([{ op: 'mmap', name: 'a', sizeBytes: 4096 }]), env);
    expect(plan.regions[0]).toEqual({ name: 'a', sizeBytes: 4096, prot: 'read-write', shared: false });
    expect(plan.files).toBeUndefined();
  });

  it('a file is sized by the furthest mapping or write of it, and regions map it at their offsets', () => {
    const plan = buildScripted(
      parse([
        { op: 'file.write', file: 'data', sizeBytes: '16KiB' },
        { op: 'mmap', name: 'a', sizeBytes: '8KiB', file: 'data', fileOffsetBytes: '8KiB', shared: true },
        { op: 'mmap', name: 'b', sizeBytes: '64KiB', file: 'data' },
        { op: 'mremap', region: 'b', offsetBytes: '12KiB', sizeBytes: '4KiB', name: 'c' },
        { op: 'file.read', file: 'data', offsetBytes: '60KiB' },
        { op: 'msync', region: 'a' },
        { op: 'fsync', file: 'data' },
      ]),
      env,
    );
    expect(plan.files).toEqual([{ name: 'data', sizeBytes: 65536 }]);
    expect(plan.regions.map((r) => r.file)).toEqual([
      { index: 0, offsetBytes: 8192 },
      { index: 0, offsetBytes: 0 },
      { index: 0, offsetBytes: 12288 },
    ]);
    expect(plan.regions[0].shared).toBe(true);
    expect(plan.opNames).toEqual([
      'file.write data[0, 16384)',
      'mmap a',
      'mmap b',
      'mremap b[12288, 16384)',
      'file.read data[61440, 65536)',
      'msync a',
      'fsync data',
    ]);
    const hosts = plan.phases.map((p) => (p.kind === 'host' ? p.host : undefined));
    expect(hosts[0]).toEqual({ op: 'file.write', file: 0, offset: 0, bytes: 16384 });
    expect(hosts[4]).toEqual({ op: 'file.read', file: 0, offset: 61440, bytes: 4096 });
    expect(hosts[5]).toEqual({ op: 'msync', region: 0, offset: 0, bytes: 8192 });
    expect(hosts[6]).toEqual({ op: 'fsync', file: 0 });
  });
});

describe('scripted files: bad input names the op and the field', () => {
  it('file.read and fsync of a file no op created', () => {
    expect(issues([{ op: 'file.read', file: 'data', sizeBytes: 4096 }])).toEqual([
      {
        path: [0, 'file'],
        message:
          'op 0 (file.read): no file named "data"; no file is created before it; create one with an mmap op with "file", or with file.write',
      },
    ]);
    expect(
      issues([
        { op: 'mmap', name: 'a', sizeBytes: 4096, file: 'data' },
        { op: 'fsync', file: 'dta' },
      ]),
    ).toEqual([
      {
        path: [1, 'file'],
        message: 'op 1 (fsync): no file named "dta"; files created before it: "data" (did you mean "data"?)',
      },
    ]);
  });

  it('a file used before the op that creates it', () => {
    expect(
      issues([
        { op: 'fsync', file: 'data' },
        { op: 'file.write', file: 'data', sizeBytes: 4096 },
      ]),
    ).toEqual([
      {
        path: [0, 'file'],
        message:
          'op 0 (fsync) uses file "data" before op 1 creates it; no file is created before it; create one with an mmap op with "file", or with file.write',
      },
    ]);
  });

  it('msync of an anonymous region', () => {
    expect(
      issues([
        { op: 'mmap', name: 'a', sizeBytes: 4096 },
        { op: 'mremap', region: 'a', name: 'b' },
        { op: 'msync', region: 'b' },
      ]),
    ).toEqual([
      {
        path: [2, 'region'],
        message:
          'op 2 (msync): region "b" is anonymous memory, which has nothing to write back; msync a region mapped with "file"',
      },
    ]);
  });

  it('fileOffsetBytes without a file, or not 4 KiB aligned', () => {
    expect(issues([{ op: 'mmap', name: 'a', sizeBytes: 4096, fileOffsetBytes: 4096 }])).toEqual([
      {
        path: [0, 'fileOffsetBytes'],
        message:
          'op 0 (mmap): fileOffsetBytes is an offset in a mapped file; give the file to map in "file", or leave fileOffsetBytes out for anonymous memory',
      },
    ]);
    expect(issues([{ op: 'mmap', name: 'a', sizeBytes: 4096, file: 'f', fileOffsetBytes: 100 }])).toEqual([
      {
        path: [0, 'fileOffsetBytes'],
        message:
          'op 0 (mmap): fileOffsetBytes 100 is not a multiple of 4 KiB (mmap would fail with EINVAL); use 0 or 4096',
      },
    ]);
  });

  it('a read past the end of the file as it is at that op', () => {
    const ops = [
      { op: 'file.write', file: 'f', sizeBytes: 8192 },
      { op: 'file.read', file: 'f', offsetBytes: 4096, sizeBytes: 8192 },
      { op: 'file.read', file: 'f', offsetBytes: 12288 },
      { op: 'file.write', file: 'f', sizeBytes: 16384 },
      { op: 'file.read', file: 'f', offsetBytes: 4096, sizeBytes: 8192 },
    ];
    expect(issues(ops)).toEqual([
      {
        path: [1, 'sizeBytes'],
        message:
          'op 1 (file.read): 8192 bytes from offset 4096 run past the end of file "f" (8192 bytes at this op); read at most 4096',
      },
      {
        path: [2, 'offsetBytes'],
        message: 'op 2 (file.read): offsetBytes 12288 is past the end of file "f" (8192 bytes at this op)',
      },
    ]);
  });

  it('reaches the experiment as a JSON path and a sentence', () => {
    const r = validateExperiment({
      name: 'x',
      strategy: { impl: 'hmm-mirror' },
      workload: {
        impl: 'scripted',
        ops: [
          { op: 'mmap', name: 'a', sizeBytes: 4096 },
          { op: 'file.read', file: 'nope' },
          { op: 'msync', region: 'a' },
        ],
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(['workload.ops[1].file', 'workload.ops[2].region']);
    expect(r.issues[0].message).toMatch(/^op 1 \(file.read\): no file named "nope"/);
  });

  it('files count whole against host memory; a MAP_SHARED mapping of one adds nothing, a MAP_PRIVATE one its copies', () => {
    const run = (shared: boolean) =>
      validateExperiment({
        name: 'x',
        strategy: { impl: 'hmm-mirror' },
        hardware: { cpu: { memory: { capacityBytes: '1MiB' } } },
        workload: {
          impl: 'scripted',
          ops: [
            { op: 'file.write', file: 'f', sizeBytes: '768KiB' },
            { op: 'mmap', name: 'a', sizeBytes: '768KiB', file: 'f', shared },
          ],
        },
      });
    expect(run(true).ok).toBe(true);
    const r = run(false);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      {
        path: 'workload',
        message:
          "the workload maps 1.50 MiB (its files counted whole, as the page cache holds them), more than the host's memory (hardware.cpu.memory.capacityBytes = 1 MiB); shrink the workload or raise the capacity",
      },
    ]);
  });

  it('the schema refuses a file op without its file, and a file.write without its size', () => {
    const bad = scriptedSchema.safeParse({ impl: 'scripted', ops: [{ op: 'file.write', file: 'f' }] });
    expect(bad.error?.issues.map((i) => i.path)).toEqual([['ops', 0, 'sizeBytes']]);
    const noFile = scriptedSchema.safeParse({ impl: 'scripted', ops: [{ op: 'fsync' }] });
    expect(noFile.error?.issues[0].path).toEqual(['ops', 0, 'file']);
    expect(noFile.error?.issues[0].message).toBe('expected the name of a file');
  });
});
