/** Experiment validation: presets, overrides, defaults and the wording of every kind of error. */
import { describe, expect, it } from 'vitest';
import { validateExperiment, type ConfigIssue } from '../../src/sim/index.js';
import { deepMerge } from '../../src/sim/config/validate.js';
import { presets } from './presets.js';

const base = {
  name: 'x',
  hardware: { preset: 'gpu-pcie4-hbm2' },
  strategy: { impl: 'hmm-mirror' },
  workload: { impl: 'stream' },
};

function issues(doc: unknown): string[] {
  const r = validateExperiment(doc, presets);
  return r.ok ? [] : r.issues.map((i: ConfigIssue) => `${i.path}: ${i.message}`);
}

describe('validateExperiment', () => {
  it('merges the preset under the overrides and fills defaults', () => {
    const r = validateExperiment({ ...base, hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 8 } } }, presets);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const hw = r.experiment.hardware;
    expect(hw.link).toMatchObject({ impl: 'pcie', generation: 4, lanes: 8 });
    expect(hw.devices[0].computeUnits).toBe(108); // from the preset
    expect(hw.devices[0].dram.capacityBytes).toBe(40 * 2 ** 30); // "40GiB" parsed
    expect(r.experiment.seed).toBe(1);
  });

  it('replaces a preset component whose impl the overrides change', () => {
    expect(deepMerge({ link: { impl: 'pcie', lanes: 16 } }, { link: { impl: 'coherent' } })).toEqual({
      link: { impl: 'coherent' },
    });
    const r = validateExperiment(
      { ...base, hardware: { preset: 'gpu-pcie4-hbm2', link: { impl: 'coherent' } } },
      presets,
    );
    expect(r.ok).toBe(true);
  });

  it('ignores "$" keys anywhere', () => {
    expect(
      issues({ ...base, $schema: './s.json', hardware: { preset: 'gpu-pcie4-hbm2', link: { $comment: 'x' } } }),
    ).toEqual([]);
  });

  it.each([
    [
      { ...base, hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 3 } } },
      'hardware.link.lanes: 3 is not a PCIe link width; use 1, 2, 4, 8 or 16',
    ],
    [
      { ...base, hardware: { preset: 'gpu-pcie4-hbm2', link: { lanse: 8 } } },
      'hardware.link.lanse: unknown field; did you mean "lanes"?',
    ],
    [
      { ...base, hardware: { preset: 'gpu' } },
      'hardware.preset: "gpu" is not a hardware preset; use "accel-pcie5-ats", "cxl-coherent", "gpu-pcie4-hbm2" or "npu-64k-pages"',
    ],
    [
      { ...base, strategy: { impl: 'hmm-mirrror' } },
      'strategy.impl: "hmm-mirrror" is not a valid strategy impl; use "explicit-copy", "hmm-mirror", "hmm-migrate", "ats-sva", "gmem" or "coherent" (did you mean "hmm-mirror"?)',
    ],
    [
      { ...base, strategy: {} },
      'strategy.impl: missing; set "impl" to "explicit-copy", "hmm-mirror", "hmm-migrate", "ats-sva", "gmem" or "coherent"',
    ],
    [
      { ...base, workload: { impl: 'stream', arrayBytes: '16 gigs' } },
      'workload.arrayBytes: "16 gigs" is not a size; use a whole number of bytes or a string such as "4KiB", "64KiB", "2MiB", "16GiB"',
    ],
    [
      { ...base, hardware: { device: { mmu: { pageSizeBytes: '8KiB' } } } },
      'hardware.device.mmu.pageSizeBytes: 8192 bytes is not a device page size; use "4KiB", "64KiB", "2MiB" or "1GiB"',
    ],
    [
      { ...base, hardware: { device: { mmu: { l1Tlb: { entries: 30, ways: 4 } } } } },
      'hardware.device.mmu.l1Tlb.entries: 30 entries is not a multiple of 4 ways; use e.g. 28 or 32',
    ],
    [{ ...base, seed: -1 }, 'seed: -1 is out of range; use an integer from 0 to 4294967295'],
    [
      { ...base, hardware: { link: { generation: 4 } } },
      'hardware.link.impl: the link has no "impl"; use "pcie" or "coherent"',
    ],
  ])('explains a bad document: %#', (doc, message) => {
    expect(issues(doc)).toContain(message);
  });

  it('reports every problem, not only the first', () => {
    const doc = {
      ...base,
      seed: -1,
      hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 3 } },
      workload: { impl: 'stream', iterashuns: 2 },
    };
    expect(issues(doc)).toHaveLength(3);
  });

  it("checks a scripted workload's ops against the regions it maps", () => {
    const doc = { ...base, workload: { impl: 'scripted', ops: [{ op: 'dev.read', region: 'buf' }] } };
    expect(issues(doc)).toEqual([expect.stringMatching(/^workload\.ops\[0\]\.region: .*"buf"/)]);
  });
});
