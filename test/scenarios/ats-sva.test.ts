/**
 * ats-sva: shared virtual addressing through the IOMMU with ATS and PRI. What it needs,
 * what it saves (no device faults on pages the CPU populated), and what it costs (an ATS
 * round trip per ATC miss, which a device page table does not pay, and which 2 MiB
 * translations of transparent huge pages pay once per 512 pages).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pointDocument, sweepPoints, sweepSchema } from '../../src/sim/config/sweep.js';
import { parseExperiment, simulate, validateExperiment, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

/** `transparentHugePages`: the CPU's setting; undefined keeps the preset's (on). */
function stream(impl: string, iommu: Record<string, unknown>, transparentHugePages?: boolean): RunResult {
  return simulate(
    parseExperiment(
      {
        name: impl,
        hardware: { preset: 'accel-pcie5-ats', iommu, cpu: { transparentHugePages } },
        strategy: { impl },
        workload: { impl: 'stream', arrayBytes: '32MiB', iterations: 2, initOnCpu: true, readBackOnCpu: false },
      },
      presets,
    ),
  );
}
const metric = (r: RunResult, name: string) => r.metrics[name].value;
const phase = (r: RunResult, label: string) => r.ops.find((o) => o.op.startsWith(label))!;

describe('ats-sva', () => {
  it('needs a translating IOMMU with ATS, and says so', () => {
    const v = validateExperiment(
      {
        name: 'x',
        hardware: { preset: 'gpu-pcie4-hbm2' },
        strategy: { impl: 'ats-sva' },
        workload: { impl: 'stream', arrayBytes: '1MiB' },
      },
      presets,
    );
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.issues[0].path).toBe('hardware.iommu');
      expect(v.issues[0].message).toMatch(/ats\.enabled to true .*ATS off/);
    }
  });

  it('faults only pages the CPU never populated, each through a PRI page request; nothing is DMA-mapped', () => {
    const r = stream('ats-sva', {});
    // b and c were written by the CPU: only a (written by the device) faults. A fault is a
    // page request, or held back while the device's allocation of 32 is in flight.
    expect(metric(r, 'iommu.pri_requests') + metric(r, 'device.fault_buffer_full')).toBe(
      metric(r, 'device.page_faults'),
    );
    expect(metric(r, 'iommu.pri_requests')).toBeGreaterThan(0);
    expect(metric(r, 'mm.dma_mapped_pages')).toBe(0);
    const mirror = stream('hmm-mirror', { ats: { enabled: false } });
    expect(metric(r, 'iommu.pri_requests')).toBeLessThan(metric(mirror, 'device.page_faults') / 2);
    expect(metric(mirror, 'iommu.pri_requests')).toBe(0);
  });

  it('never has more page requests outstanding than its PRI allocation: the rest wait for a response', () => {
    const held = (depth: number) =>
      metric(stream('ats-sva', { pri: { queueDepth: depth } }), 'device.fault_buffer_full');
    // 4096 is the fault buffer's own size: nothing is held below it in this stream.
    expect(held(4096)).toBe(0);
    expect(held(32)).toBeGreaterThan(0);
    expect(held(4)).toBeGreaterThan(0);
  });

  it('loses to a device page table in steady state when the ATC reach is far below the working set, not when it covers it', () => {
    // 4 KiB pages only (no transparent huge pages): every ATC entry covers 4 KiB.
    const mirror = phase(stream('hmm-mirror', { ats: { enabled: false } }, false), 'triad 2/2').durationNs;
    // 1024 ATC entries: 4 MiB of reach against 96 MiB of arrays.
    const small = phase(stream('ats-sva', {}, false), 'triad 2/2').durationNs;
    expect(small).toBeGreaterThan(mirror * 1.03);
    // 32768 entries: 128 MiB of reach, the arrays fit.
    const large = phase(stream('ats-sva', { ats: { atcEntries: 32768, atcWays: 8 } }, false), 'triad 2/2').durationNs;
    expect(large).toBeLessThan(small);
    expect(large).toBeLessThan(mirror * 1.01);
  });

  it('with transparent huge pages the gap shrinks: one 2 MiB ATC entry serves 512 pages, even with the ATC far below the working set', () => {
    // 16 ATC entries: 64 KiB of 4 KiB reach, 32 MiB of 2 MiB reach, against 96 MiB of arrays.
    const atc = { ats: { atcEntries: 16, atcWays: 4 } };
    const triad = (r: RunResult) => phase(r, 'triad 2/2').durationNs;
    const gap = (thp: boolean) => {
      const sva = stream('ats-sva', atc, thp);
      const mirror = stream('hmm-mirror', { ats: { enabled: false } }, thp);
      return { sva, ratio: triad(sva) / triad(mirror) };
    };
    const small = gap(false);
    const huge = gap(true);
    expect(metric(small.sva, 'iommu.ats_huge_translations')).toBe(0);
    // Every 2 MiB block of the three arrays, once per triad at least.
    expect(metric(huge.sva, 'iommu.ats_huge_translations')).toBeGreaterThanOrEqual(48 * 2);
    expect(metric(huge.sva, 'iommu.ats_requests')).toBeLessThan(metric(small.sva, 'iommu.ats_requests') / 10);
    expect(small.ratio).toBeGreaterThan(1.1);
    expect(huge.ratio - 1).toBeLessThan((small.ratio - 1) / 4);
  });

  it('the huge-pages example shows it: the gap to hmm-mirror shrinks when transparent huge pages are on', () => {
    const file = path.resolve(import.meta.dirname, '../../resources/experiments/accel-stream-ats-sva-huge-pages.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const sweep = sweepSchema.parse(doc.sweep);
    const points = sweepPoints(sweep);
    if (!points.ok) throw new Error(JSON.stringify(points.issues));
    const runs = points.points.map((p) => simulate(parseExperiment(pointDocument(doc, sweep, p, 1), presets)));
    expect(runs.map((r) => r.strategy)).toEqual(['hmm-mirror', 'ats-sva', 'hmm-mirror', 'ats-sva']);
    const [mirrorSmall, svaSmall, mirrorHuge, svaHuge] = runs.map((r) => phase(r, 'triad 2/2').durationNs);
    const gapSmall = svaSmall / mirrorSmall - 1;
    const gapHuge = svaHuge / mirrorHuge - 1;
    expect(gapSmall).toBeGreaterThan(0.1);
    expect(gapHuge).toBeLessThan(gapSmall / 4);
    expect(metric(runs[3], 'iommu.ats_huge_translations')).toBeGreaterThan(0);
  });
});
