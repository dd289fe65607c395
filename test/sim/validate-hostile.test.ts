/**
 * Validation of hostile and careless documents: prototype keys, problems reported all at
 * once, nesting, bounded error output, and the one size grammar.
 */
import { describe, expect, it } from 'vitest';
import { validateExperiment, type ConfigIssue } from '../../src/sim/index.js';
import { MAX_ISSUES } from '../../src/sim/config/validate.js';
import { presets } from './presets.js';

const base = {
  name: 'x',
  hardware: { preset: 'gpu-pcie4-hbm2' },
  strategy: { impl: 'hmm-mirror' },
  workload: { impl: 'stream', arrayBytes: '64KiB', iterations: 1 },
};

function issues(doc: unknown): string[] {
  const r = validateExperiment(doc, presets);
  return r.ok ? [] : r.issues.map((i: ConfigIssue) => `${i.path}: ${i.message}`);
}

describe('names are looked up as own properties only', () => {
  it('refuses "toString" and "constructor" as preset names', () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(issues({ ...base, hardware: { preset: name } })[0]).toMatch(
        /^hardware\.preset: ".*" is not a hardware preset/,
      );
    }
  });

  it('refuses a "__proto__" key and applies nothing under it', () => {
    const text = JSON.stringify(base).replace('"hardware":{', '"hardware":{"__proto__":{"cpu":{"cores":3}},');
    expect(issues(JSON.parse(text))).toEqual([
      'hardware.__proto__: unknown field; "__proto__" is never a field of an experiment',
    ]);
    const nested = JSON.parse(JSON.stringify(base).replace('"impl":"stream"', '"impl":"stream","__proto__":{"x":1}'));
    expect(issues(nested)).toEqual([
      'workload.__proto__: unknown field; "__proto__" is never a field of an experiment',
    ]);
  });
});

describe('problems are reported all at once', () => {
  it('a wrong preset does not hide a wrong strategy or a wrong distribution', () => {
    const found = issues({
      ...base,
      hardware: { preset: 'gpu-pcie4-hbm3' },
      strategy: { impl: 'hmm-mirorr' },
      workload: { impl: 'gather', distribution: 'zipff' },
    });
    expect(found.map((f) => f.split(':')[0])).toEqual(['hardware.preset', 'strategy.impl', 'workload.distribution']);
  });
});

describe('error output is bounded', () => {
  it('nesting deeper than any experiment is one error naming the path, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i++) deep = [deep];
    const found = issues({ ...base, description: deep });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^description(\[0\])+: nested more than 32 levels deep/);
  });

  it('an unknown region lists a few alternatives, and at most MAX_ISSUES problems are listed', () => {
    const ops: unknown[] = [];
    for (let i = 0; i < 2000; i++) ops.push({ op: 'mmap', name: `region-number-${i}`, sizeBytes: 4096 });
    for (let i = 0; i < 2000; i++) ops.push({ op: 'munmap', region: `missing-${i}` });
    const r = validateExperiment({ ...base, workload: { impl: 'scripted', ops } }, presets);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(MAX_ISSUES + 1);
    expect(r.issues[0].message).toMatch(/regions mapped before it: "region-number-0", .* or 1992 more$/);
    expect(r.issues.at(-1)!.message).toBe(`and ${4000 - 2000 - MAX_ISSUES} more problems (fix these first)`);
    expect(JSON.stringify(r.issues).length).toBeLessThan(30_000);
  });

  it('quotes at most 60 characters of a wrong value', () => {
    const [found] = issues({ ...base, strategy: { impl: 'x'.repeat(100_000) } });
    expect(found.length).toBeLessThan(300);
  });
});

describe('sizes have one grammar', () => {
  it.each([
    ['16MiB', 16 * 2 ** 20],
    ['1.5MiB', 1.5 * 2 ** 20],
    ['64kib', 65536],
    ['4096B', 4096],
    ['4096', 4096],
  ])('accepts %s', (text, bytes) => {
    const r = validateExperiment({ ...base, workload: { impl: 'stream', arrayBytes: text, iterations: 1 } }, presets);
    expect(r.ok && r.experiment.workload.impl === 'stream' && r.experiment.workload.arrayBytes).toBe(bytes);
  });

  it.each([
    ['16GB', '"16GB" is ambiguous (GB would mean 10^9 bytes to some and 2^30 to others); write "16GiB"'],
    ['16G', '"16G" is ambiguous; write "16GiB"'],
    ['2MB', '"2MB" is ambiguous (MB would mean 10^6 bytes to some and 2^20 to others); write "2MiB"'],
    ['64 MiB', '"64 MiB": write sizes without spaces, as "64MiB"'],
  ])('refuses %s with the spelling the user likely meant', (text, message) => {
    const [found] = issues({ ...base, workload: { impl: 'stream', arrayBytes: text } });
    expect(found).toContain(`workload.arrayBytes: ${message}`);
  });
});
