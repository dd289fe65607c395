/**
 * Large explicit copies run at the bandwidth pcie-model computes (Neugebauer et al.,
 * SIGCOMM 2018), within 2 %, for PCIe Gen3/4/5 x16 with MPS 128 and 256, both ways: host
 * to device (the copy engine's DMA reads of host memory, completions up to MPS) and
 * device to host (its posted writes).
 *
 * The references are pcie-model's own output, not this repository's formulas (see
 * bench/references.ts for how they were printed).
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate } from '../../src/sim/index.js';
import { PCIE_MODEL_X16 } from '../../bench/references.js';
import { presets } from './presets.js';

function copyRates(generation: number, mpsBytes: number) {
  const experiment = parseExperiment(
    {
      name: 'copy bandwidth',
      hardware: { preset: 'gpu-pcie4-hbm2', link: { impl: 'pcie', generation, lanes: 16, mpsBytes } },
      strategy: { impl: 'explicit-copy', skipCleanCopies: false },
      // One triad: b and c (2 x 64 MiB) copied in, a (64 MiB) copied out.
      workload: { impl: 'stream', arrayBytes: '64MiB', iterations: 1, initOnCpu: false, readBackOnCpu: false },
    },
    presets,
  );
  const { metrics } = simulate(experiment);
  expect([metrics['copy.h2d_bytes'].value, metrics['copy.d2h_bytes'].value]).toEqual([128 * 2 ** 20, 64 * 2 ** 20]);
  return { h2d: metrics['copy.h2d_GBps'].value, d2h: metrics['copy.d2h_GBps'].value };
}

describe('explicit copies run at the bandwidth pcie-model computes', () => {
  for (const { generation, mps, write, read } of PCIE_MODEL_X16) {
    it(`PCIe gen${generation} x16, MPS ${mps}: within 2 % both ways`, () => {
      const { h2d, d2h } = copyRates(generation, mps);
      expect(Math.abs(h2d / read - 1), `host to device ${h2d} GB/s vs ${read}`).toBeLessThan(0.02);
      expect(Math.abs(d2h / write - 1), `device to host ${d2h} GB/s vs ${write}`).toBeLessThan(0.02);
    });
  }
});
