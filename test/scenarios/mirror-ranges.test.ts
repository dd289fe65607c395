/**
 * Mirroring one window per region against ad-hoc 2 MiB ranges (the drm/xe SVM
 * discussion), under a game's sparse-residency loop: thousands of tile binds and unbinds
 * per simulated second. An ad-hoc range is destroyed whole when the CPU unmaps part of
 * it, so each unbind costs the range's teardown and the device's faults on the tiles the
 * range still held.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

const metric = (r: RunResult, name: string) => r.metrics[name].value;

function loop(ranges: string): RunResult {
  return simulate(
    parseExperiment(
      {
        name: `sparse residency, ${ranges}`,
        hardware: { preset: 'gpu-pcie4-hbm2', device: { mmu: { pageSizeBytes: '4KiB' } } },
        strategy: { impl: 'hmm-mirror', ranges },
        workload: { impl: 'sparse-residency', poolBytes: '64MiB', residentTiles: 64, tilesPerFrame: 16, frames: 10 },
      },
      presets,
    ),
  );
}

describe('a sparse-residency game loop: one mirrored window against ad-hoc ranges', () => {
  const window = loop('window');
  const adHoc = loop('ad-hoc');
  const unbinds = (r: RunResult) => r.ops.filter((o) => o.op.includes('unbind tile'));
  const mapOps = 10 * 16 * 2;

  it('runs thousands of map and unmap operations per simulated second', () => {
    for (const r of [window, adHoc]) {
      expect(r.ops.filter((o) => /(un)?bind tile/.test(o.op))).toHaveLength(mapOps);
      expect(mapOps / (metric(r, 'sim.time_ns') / 1e9)).toBeGreaterThan(1000);
    }
  });

  it('costs more per map/unmap with ad-hoc ranges: the teardown of a whole range, then the faults to rebuild it', () => {
    expect(metric(window, 'mm.device_ranges_created')).toBe(0);
    expect(metric(adHoc, 'mm.device_ranges_created')).toBeGreaterThan(mapOps / 4);
    expect(metric(adHoc, 'mm.device_ranges_destroyed')).toBeGreaterThan(0);
    const meanNs = (r: RunResult) => unbinds(r).reduce((a, o) => a + o.durationNs, 0) / unbinds(r).length;
    expect(meanNs(adHoc)).toBeGreaterThan(meanNs(window));
    // Tiles a destroyed range held are faulted in again.
    expect(metric(adHoc, 'device.page_faults')).toBeGreaterThan(1.5 * metric(window, 'device.page_faults'));
    const perOpNs = (metric(adHoc, 'sim.time_ns') - metric(window, 'sim.time_ns')) / mapOps;
    expect(perOpNs).toBeGreaterThan(1000);
  });
});
