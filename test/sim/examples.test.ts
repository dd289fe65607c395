/** Every shipped example experiment validates against the presets and runs to a result. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTraceFile } from '../../src/main/services/runner/trace-file.js';
import { parseExperiment, simulate } from '../../src/sim/index.js';
import { STRATEGY_NAMES } from '../../src/sim/mm/strategies/index.js';
import { presets } from './presets.js';

const folder = path.resolve(import.meta.dirname, '../../resources/experiments');
const files = readdirSync(folder).filter((f) => f.endsWith('.json'));

describe('example experiments', () => {
  it('there are examples for every strategy and every preset', () => {
    const docs = files.map((f) => JSON.parse(readFileSync(path.join(folder, f), 'utf8')));
    expect(new Set(docs.map((d) => d.strategy.impl))).toEqual(new Set(STRATEGY_NAMES));
    expect(new Set(docs.map((d) => d.hardware.preset))).toEqual(new Set(Object.keys(presets)));
  });

  for (const file of files) {
    it(`${file} runs`, () => {
      const experiment = parseExperiment(JSON.parse(readFileSync(path.join(folder, file), 'utf8')), presets);
      const trace =
        experiment.workload.impl === 'trace'
          ? openTraceFile(path.resolve(folder, experiment.workload.path))
          : undefined;
      try {
        const result = simulate(experiment, { traceSource: trace });
        expect(result.metrics['sim.time_ns'].value).toBeGreaterThan(0);
        expect(result.ops.filter((o) => o.unexpected)).toEqual([]);
      } finally {
        trace?.close();
      }
    });
  }
});
