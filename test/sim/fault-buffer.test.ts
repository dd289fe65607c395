/** A full replayable fault buffer drops faults; their accesses fault again after the next replay. */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from './presets.js';

function gather(entries: number): RunResult {
  return simulate(
    parseExperiment(
      {
        name: 'full buffer',
        hardware: { preset: 'gpu-pcie4-hbm2', device: { faultBuffer: { entries, batchSize: Math.min(entries, 256) } } },
        strategy: { impl: 'hmm-mirror' },
        workload: { impl: 'gather', tableBytes: '64MiB', accesses: 20_000, elementBytes: 8, initOnCpu: true },
      },
      presets,
    ),
  );
}
const metric = (r: RunResult, name: string) => r.metrics[name].value;

describe('a full fault buffer', () => {
  it('drops faults, and their accesses fault again after the replay until they are serviced', () => {
    const roomy = gather(4096);
    const tight = gather(16);
    expect(metric(roomy, 'device.fault_buffer_full')).toBe(0);
    expect(metric(tight, 'device.fault_buffer_full')).toBeGreaterThan(0);
    // Every access still completes, and every device page is resolved once.
    expect(metric(tight, 'device.accesses')).toBe(metric(roomy, 'device.accesses'));
    const resolved = (r: RunResult) =>
      metric(r, 'device.page_faults') -
      metric(r, 'device.faults_coalesced') -
      metric(r, 'mm.faults_already_serviced') -
      metric(r, 'device.fault_buffer_full');
    expect(resolved(tight)).toBe(resolved(roomy));
    // Dropped faults are raised again: more faults in all, and the run takes longer.
    expect(metric(tight, 'device.page_faults')).toBeGreaterThan(metric(roomy, 'device.page_faults'));
    expect(metric(tight, 'sim.time_ns')).toBeGreaterThan(metric(roomy, 'sim.time_ns'));
  });
});

describe('PCIe PRI: the Outstanding Page Request Allocation', () => {
  it('holds back a request while the allocation is in flight: filed and fetched-but-unanswered both count', async () => {
    const { FaultBuffer } = await import('../../src/sim/machine/fault-buffer.js');
    const fb = new FaultBuffer({ entries: 8, batchSize: 8, interruptNs: 0, batchFetchNs: 0, replayNs: 0 }, 16);
    fb.outstandingLimit = 3;
    expect([0, 1, 2, 3].map((c) => fb.push(c, c, false, 0))).toEqual([true, true, true, false]);
    // The driver fetches two: they stay outstanding until the response.
    const e = { context: 0, page: 0, write: false, time: 0 };
    fb.shift(e);
    fb.shift(e);
    fb.inFlight = 2;
    expect(fb.push(4, 4, false, 0)).toBe(false);
    // The response: the allocation frees.
    fb.inFlight = 0;
    expect(fb.push(5, 5, false, 0)).toBe(true);
    expect(fb.push(6, 6, false, 0)).toBe(true);
    expect(fb.push(7, 7, false, 0)).toBe(false);
    expect([0, 1].map((i) => fb.droppedContext(i))).toEqual([3, 4]);
  });
});
