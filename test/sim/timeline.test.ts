/**
 * The component timeline of whole runs: which components it shows, that their busy time is
 * the one the metrics report, that its budget holds, and that it can be turned off.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import type { TimelineTrack } from '../../src/sim/result/types.js';
import { presets } from './presets.js';

const stream = { impl: 'stream', arrayBytes: '4MiB', iterations: 1, initOnCpu: true, readBackOnCpu: true };
const small = { computeUnits: 8, contextsPerUnit: 4 };

function run(doc: Record<string, unknown>): RunResult {
  return simulate(
    parseExperiment({ name: 'timeline', hardware: { device: small }, workload: stream, ...doc }, presets),
  );
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
const endNs = (r: RunResult) => Math.max(...r.ops.map((o) => o.startNs + o.durationNs));
const track = (r: RunResult, component: string): TimelineTrack => {
  const t = r.timeline!.tracks.find((x) => x.component === component);
  if (!t) throw new Error(`no track ${component} in ${r.timeline!.tracks.map((x) => x.component).join(', ')}`);
  return t;
};

describe('component timeline', () => {
  it('explicit copies: both link directions, copy engines and DRAM channels, busy as long as the metrics say', () => {
    const r = run({ strategy: { impl: 'explicit-copy' } });
    const names = r.timeline!.tracks.map((t) => t.component);
    expect(names).toContain('device0.link.h2d');
    expect(names).toContain('device0.link.d2h');
    expect(names).toContain('device0.copy0');
    expect(names.filter((n) => n.startsWith('device0.dram.ch')).length).toBeGreaterThan(1);
    expect(names).toContain('host.dram');
    // The link's calendar is its busy time: equal to the utilisation metric's, to rounding.
    for (const dir of ['h2d', 'd2h']) {
      const busy = sum(track(r, `device0.link.${dir}`).busyNs);
      expect(busy).toBeCloseTo(r.metrics[`link.${dir}_utilization`]!.value * endNs(r), 3);
    }
    // A copy engine's chunks carry the copied bytes.
    const copied = sum(names.filter((n) => n.includes('.copy')).flatMap((n) => track(r, n).bytes!));
    expect(copied).toBe(r.metrics['copy.h2d_bytes']!.value + r.metrics['copy.d2h_bytes']!.value);
    // DRAM channels move whole bursts: at least the bytes read and written.
    const dram = r.timeline!.tracks.filter((t) => t.kind === 'dram-channel');
    const moved = r.metrics['dram.device.read_bytes']!.value + r.metrics['dram.device.write_bytes']!.value;
    expect(sum(dram.flatMap((t) => t.bytes!))).toBeGreaterThanOrEqual(moved * 0.999999);
    expect(sum(dram.flatMap((t) => t.bytes!))).toBeLessThan(moved * 1.1);
  });

  it('hmm-mirror: the fault handler, batch by batch, with the faults each serviced', () => {
    const r = run({ strategy: { impl: 'hmm-mirror' } });
    const handler = track(r, 'device0.fault-handler');
    expect(handler.countUnit).toBe('faults');
    expect(sum(handler.count!)).toBe(r.metrics['device.page_faults']!.value);
    expect(handler.startNs.length).toBe(r.metrics['device.fault_batches']!.value);
    for (let i = 1; i < handler.startNs.length; i++)
      expect(handler.startNs[i]).toBeGreaterThanOrEqual(handler.endNs[i - 1]);
  });

  it('holds its budget over all components together, keeping busy time, and says what it closed', () => {
    const budget = 64;
    const r = run({ strategy: { impl: 'explicit-copy' }, sampling: { timelineIntervals: budget } });
    const full = run({ strategy: { impl: 'explicit-copy' } });
    const tl = r.timeline!;
    expect(tl.maxIntervals).toBe(budget);
    expect(sum(tl.tracks.map((t) => t.startNs.length))).toBeLessThanOrEqual(budget);
    expect(tl.tracks.some((t) => t.closedGaps > 0 && t.closedGapNs > 0)).toBe(true);
    const busy = (x: RunResult, c: string) => sum(track(x, c).busyNs);
    expect(busy(r, 'device0.link.d2h')).toBeCloseTo(busy(full, 'device0.link.d2h'), 3);
    // The timeline only watches: the run is the same.
    expect(r.metrics).toEqual(full.metrics);
  });

  it('sampling.timelineIntervals 0 records none', () => {
    const r = run({ strategy: { impl: 'hmm-mirror' }, sampling: { timelineIntervals: 0 } });
    expect(r.timeline).toBeUndefined();
    expect('timeline' in r).toBe(false);
  });

  it("a PCIe switch adds its shared upstream link as the host's", () => {
    const r = simulate(
      parseExperiment(
        {
          name: 'switch',
          strategy: { impl: 'explicit-copy' },
          hardware: {
            devices: [
              { ...small, name: 'gpu0' },
              { ...small, name: 'gpu1' },
            ],
            pcieSwitch: { upstreamLink: { impl: 'pcie', generation: 4, lanes: 16 } },
          },
          workload: stream,
        },
        presets,
      ),
    );
    const up = track(r, 'switch.link.h2d');
    expect(up.agent).toBe('host');
    expect(track(r, 'gpu1.link.h2d').agent).toBe('gpu1');
    expect(sum(up.busyNs)).toBeCloseTo(r.metrics['switch.upstream_h2d_utilization']!.value * endNs(r), 3);
  });
});
