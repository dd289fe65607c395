/**
 * A DRAM-only trace replay against DRAMSim3 (Li et al., IEEE CAL 2020) on the same traces:
 * the figures DRAMSim3 printed for its HBM2_8Gb_x128 configuration are in
 * bench/dram-reference/results.json (how they were made: its README). The model's one HBM2
 * stack is set up as DRAMSim3 simulates it (8 channels, 2 KiB rows interleaved every 2 KiB,
 * one request admitted per cycle, 32-entry queues).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dramSim3Hbm2, replayOnDramSim3Hbm2 } from '../../bench/validate-dram.js';
import { presets } from './presets.js';

function replay(folder: string, trace: string) {
  const m = replayOnDramSim3Hbm2(`${folder}/${trace}.trace`, presets);
  return {
    latency: m['dram.device.read_latency_mean_ns'].value,
    hitRate: m['dram.device.row_hit_rate'].value,
    bandwidth: m['dram.device.bandwidth_GBps'].value,
  };
}

describe('device DRAM against DRAMSim3 on the same traces', () => {
  const folder = mkdtempSync(join(tmpdir(), 'hetmem-dramsim3-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  execFileSync(process.execPath, ['bench/dram-reference/generate-traces.mjs', folder]);

  it('sequential and sparse random reads: latency within 10 %, row hits within 0.01, bandwidth within 3 %', () => {
    for (const trace of ['sequential', 'sparse-random']) {
      const model = replay(folder, trace);
      const ref = dramSim3Hbm2(trace);
      expect(Math.abs(model.latency / ref.averageReadLatencyNs - 1), `${trace} latency ${model.latency}`).toBeLessThan(
        0.1,
      );
      expect(Math.abs(model.hitRate - ref.rowBufferHitRate), trace).toBeLessThan(0.01);
      expect(Math.abs(model.bandwidth / ref.bandwidthGBps - 1), `${trace} bandwidth ${model.bandwidth}`).toBeLessThan(
        0.03,
      );
    }
  });

  it('saturated random traffic: FR-FCFS queues and refresh give queued latency within 15 %, bandwidth within 5 %', () => {
    const model = replay(folder, 'saturated-random');
    const ref = dramSim3Hbm2('saturated-random');
    // Queueing, not the 45 ns of one row conflict, is most of the latency: 386 ns in DRAMSim3.
    expect(Math.abs(model.latency / ref.averageReadLatencyNs - 1), `latency ${model.latency}`).toBeLessThan(0.15);
    // DRAMSim3 loses about 4 % more to refresh here (it closes the banks command by command
    // and issues one command per cycle); see docs/validation.md.
    expect(Math.abs(model.bandwidth / ref.bandwidthGBps - 1), `bandwidth ${model.bandwidth}`).toBeLessThan(0.05);
    expect(model.hitRate).toBeLessThan(0.01);
  });
});
