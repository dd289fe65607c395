/**
 * ats-sva: shared virtual addressing through the IOMMU with ATS and PRI. What it needs,
 * what it saves (no device faults on pages the CPU populated), and what it costs (an ATS
 * round trip per ATC miss, which a device page table does not pay).
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, validateExperiment, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

function stream(impl: string, iommu: Record<string, unknown>): RunResult {
  return simulate(
    parseExperiment(
      {
        name: impl,
        hardware: { preset: 'accel-pcie5-ats', iommu },
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
    const mirror = phase(stream('hmm-mirror', { ats: { enabled: false } }), 'triad 2/2').durationNs;
    // 1024 ATC entries: 4 MiB of reach against 96 MiB of arrays.
    const small = phase(stream('ats-sva', {}), 'triad 2/2').durationNs;
    expect(small).toBeGreaterThan(mirror * 1.03);
    // 32768 entries: 128 MiB of reach, the arrays fit.
    const large = phase(stream('ats-sva', { ats: { atcEntries: 32768, atcWays: 8 } }), 'triad 2/2').durationNs;
    expect(large).toBeLessThan(small);
    expect(large).toBeLessThan(mirror * 1.01);
  });
});
