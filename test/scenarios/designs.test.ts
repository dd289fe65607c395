/**
 * The designs' known behaviour, head to head on one machine (issue 7's "results that must
 * show"): directions and ratios on the metrics, not exact numbers.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

const metric = (r: RunResult, name: string) => r.metrics[name].value;
const phase = (r: RunResult, label: string) => r.ops.find((o) => o.op.startsWith(label))!;

function run(strategy: string, workload: Record<string, unknown>): RunResult {
  return simulate(
    parseExperiment(
      { name: strategy, hardware: { preset: 'gpu-pcie4-hbm2' }, strategy: { impl: strategy }, workload },
      presets,
    ),
  );
}

describe('explicit copies against on-demand migration', () => {
  it('explicit-copy wins for a kernel that touches all its data once', () => {
    const stream = { impl: 'stream', arrayBytes: '64MiB', iterations: 1, initOnCpu: true, readBackOnCpu: true };
    const copy = metric(run('explicit-copy', stream), 'sim.time_ns');
    for (const onDemand of ['hmm-migrate', 'gmem']) {
      expect(copy).toBeLessThan(metric(run(onDemand, stream), 'sim.time_ns'));
    }
  });

  it('and loses for one that touches a small sparse part of it: 500 reads of a 1 GiB table', () => {
    const gather = { impl: 'gather', tableBytes: '1GiB', accesses: 500, elementBytes: 8, initOnCpu: true };
    const copy = run('explicit-copy', gather);
    const gmem = run('gmem', gather);
    // The copy moves the whole table; gmem migrates the 500 pages touched (64 KiB device pages).
    expect(phase(gmem, 'gather').durationNs).toBeLessThan(phase(copy, 'gather').durationNs / 4);
    expect(metric(gmem, 'sim.time_ns')).toBeLessThan(metric(copy, 'sim.time_ns'));
    expect(metric(gmem, 'link.h2d_bytes')).toBeLessThan(metric(copy, 'link.h2d_bytes') / 10);
  });
});
