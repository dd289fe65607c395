/**
 * Property: the simulator is deterministic. For any small experiment (strategy, workload,
 * link, device page size, seed), running it twice gives the same result, bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate } from '../../src/sim/index.js';
import { presets } from './presets.js';

const workloadArb = fc.oneof(
  fc.record({
    impl: fc.constant('stream'),
    arrayBytes: fc.constantFrom('256KiB', '1MiB'),
    iterations: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({
    impl: fc.constant('gather'),
    tableBytes: fc.constantFrom('1MiB', '16MiB'),
    accesses: fc.integer({ min: 100, max: 3000 }),
    distribution: fc.constantFrom('uniform', 'zipf'),
  }),
  fc.record({
    impl: fc.constant('pointer-chase'),
    nodes: fc.integer({ min: 64, max: 4096 }),
    chains: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    impl: fc.constant('ping-pong'),
    bufferBytes: fc.constantFrom('64KiB', '256KiB'),
    rounds: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ impl: fc.constant('gemm'), n: fc.constantFrom(64, 128), tileElements: fc.constantFrom(16, 32) }),
);

const strategyArb = fc.oneof(
  fc.record({ impl: fc.constantFrom('explicit-copy', 'hmm-mirror', 'hmm-migrate', 'gmem') }),
  fc.record({
    impl: fc.constant('coherent'),
    placement: fc.constantFrom('first-touch', 'device-preferred', 'host'),
    accessCounterMigration: fc.constantFrom('off', 'to-device', 'both'),
    accessCounterThreshold: fc.integer({ min: 1, max: 512 }),
    accessCounterGranularityBytes: fc.constantFrom('64KiB', '2MiB'),
  }),
);

const experimentArb = fc
  .record({
    name: fc.constant('determinism'),
    seed: fc.nat(1000),
    hardware: fc.record({
      preset: fc.constantFrom(...Object.keys(presets)),
      device: fc.record({
        computeUnits: fc.integer({ min: 1, max: 8 }),
        mmu: fc.record({ pageSizeBytes: fc.constantFrom('4KiB', '64KiB', '2MiB') }),
      }),
    }),
    strategy: strategyArb,
    workload: workloadArb,
  })
  // Device-coherent memory needs the coherent link.
  .map((doc) =>
    doc.strategy.impl === 'coherent' ? { ...doc, hardware: { ...doc.hardware, preset: 'cxl-coherent' } } : doc,
  );

describe('determinism', () => {
  it('the same experiment and seed give the same result, bit for bit', () => {
    fc.assert(
      fc.property(experimentArb, (doc) => {
        const experiment = parseExperiment(doc, presets);
        const first = JSON.stringify(simulate(experiment));
        const second = JSON.stringify(simulate(experiment));
        expect(second).toBe(first);
      }),
      { seed: 20261202, numRuns: 50 },
    );
  });
});
