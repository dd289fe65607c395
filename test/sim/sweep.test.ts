/** The sweep section: axis values, how axes combine, paths, and the point documents. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { presets } from './presets.js';
import {
  axisValues,
  checkSweepPaths,
  parseJsonPath,
  pointDocument,
  sweepPoints,
  sweepSchema,
  type Sweep,
} from '../../src/sim/config/sweep.js';
import { validateExperiment } from '../../src/sim/config/validate.js';

const sweep = (s: unknown): Sweep => sweepSchema.parse(s);
const base = {
  name: 'x',
  hardware: { preset: 'gpu-pcie4-hbm2' },
  strategy: { impl: 'hmm-mirror' },
  workload: { impl: 'stream' },
};

function issues(s: unknown): string[] {
  const r = validateExperiment({ ...base, sweep: s }, presets);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('axis values', () => {
  it('lists values, ranges with a step (no float drift) and evenly or log-spaced counts', () => {
    const axis = (a: object) => axisValues(sweep({ axes: [{ path: 'p', ...a }] }).axes[0]);
    expect(axis({ values: ['4KiB', '64KiB'] })).toEqual(['4KiB', '64KiB']);
    expect(axis({ from: 0.1, to: 0.5, step: 0.1 })).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(axis({ from: 1, to: 10, step: 4 })).toEqual([1, 5, 9]);
    expect(axis({ from: 0, to: 1, count: 3 })).toEqual([0, 0.5, 1]);
    expect(axis({ from: 4096, to: 2097152, count: 4, scale: 'log' })).toEqual([4096, 32768, 262144, 2097152]);
    // Log-spaced whole-number ends give whole numbers (sizes, counts); repeats after rounding are dropped.
    expect(axis({ from: 1, to: 4, count: 8, scale: 'log' })).toEqual([1, 2, 3, 4]);
  });

  it('rejects axes that are neither values nor a range, saying what would be valid', () => {
    expect(issues({ axes: [{ path: 'hardware.link.lanes' }] })).toEqual([
      'sweep.axes[0]: give `values`, or a range with `from` and `to`',
    ]);
    expect(issues({ axes: [{ path: 'hardware.link.lanes', values: [1], from: 1, to: 2, step: 1 }] })).toEqual([
      'sweep.axes[0]: give either `values` or a range (`from`, `to`, `step` or `count`), not both',
    ]);
    expect(issues({ axes: [{ path: 'x', from: 1, to: 8, step: 1, scale: 'log' }] })).toEqual([
      'sweep.axes[0].step: a log scale takes a `count`, not a `step`',
    ]);
    expect(issues({ axes: [{ path: 'x', from: 8, to: 1, step: 1 }] })).toEqual([
      'sweep.axes[0].to: 1 is below from (8); a range with a step goes up',
    ]);
    expect(issues({ mode: 'random', axes: [{ path: 'x', values: [1] }] })).toEqual([
      'sweep.samples: random mode needs `samples` (how many points to draw)',
    ]);
    expect(issues({ mode: 'mesh', axes: [{ path: 'x', values: [1] }] })[0]).toMatch(
      /^sweep\.mode: "mesh" is not a sweep mode; use "grid", "zip" or "random"/,
    );
    expect(issues({ axes: [{ path: 'x', valus: [1] }] })[0]).toMatch(
      /sweep\.axes\[0\]\.valus: unknown field; did you mean "values"\?/,
    );
  });
});

describe('sweep points', () => {
  it('combine as a grid (last axis fastest), repeated per seed', () => {
    const r = sweepPoints(
      sweep({
        repetitions: 2,
        axes: [
          { path: 'a', values: [1, 2] },
          { path: 'b', values: ['x', 'y'] },
        ],
      }),
    );
    expect(r.ok && r.points.map((p) => [...p.values, p.repetition])).toEqual([
      [1, 'x', 0],
      [1, 'x', 1],
      [1, 'y', 0],
      [1, 'y', 1],
      [2, 'x', 0],
      [2, 'x', 1],
      [2, 'y', 0],
      [2, 'y', 1],
    ]);
  });

  it('zip the i-th values together and name the axis whose length differs', () => {
    const r = sweepPoints(
      sweep({
        mode: 'zip',
        axes: [
          { path: 'a', values: [1, 2] },
          { path: 'b', values: [3, 4] },
        ],
      }),
    );
    expect(r.ok && r.points.map((p) => p.values)).toEqual([
      [1, 3],
      [2, 4],
    ]);
    const bad = sweepPoints(
      sweep({
        mode: 'zip',
        axes: [
          { path: 'a', values: [1, 2] },
          { path: 'b', values: [3] },
        ],
      }),
    );
    expect(bad).toEqual({
      ok: false,
      issues: [
        { path: 'sweep.axes[1]', message: 'b has 1 values but a has 2; zipped axes need the same number of values' },
      ],
    });
  });

  it('draw distinct grid points at random, the same for the same sampling seed', () => {
    const s = (samplingSeed: number) =>
      sweep({
        mode: 'random',
        samples: 5,
        samplingSeed,
        axes: [
          { path: 'a', from: 0, to: 9, step: 1 },
          { path: 'b', values: [0, 1] },
        ],
      });
    const draw = (seed: number) => {
      const r = sweepPoints(s(seed));
      return r.ok ? r.points.map((p) => JSON.stringify(p.values)) : [];
    };
    expect(draw(3)).toEqual(draw(3));
    expect(new Set(draw(3)).size).toBe(5);
    expect(draw(3)).not.toEqual(draw(4));
    const tooMany = sweepPoints(sweep({ mode: 'random', samples: 30, axes: [{ path: 'a', values: [1, 2] }] }));
    expect(tooMany.ok || tooMany.issues[0]).toEqual({
      path: 'sweep.samples',
      message: '30 is more than the 2 points of the grid; use at most 2',
    });
  });

  it('refuse sweeps with more points than anyone means to run', () => {
    const r = sweepPoints(
      sweep({
        axes: [
          { path: 'a', from: 1, to: 400, step: 1 },
          { path: 'b', from: 1, to: 400, step: 1 },
        ],
      }),
    );
    expect(r.ok || r.issues[0].message).toMatch(/^160000 combinations x 1 repetitions is more than 100000 points/);
  });

  it('a grid has the product of the axis lengths times the repetitions, each combination once (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (lengths, repetitions) => {
          const axes = lengths.map((n, a) => ({ path: `a${a}`, values: Array.from({ length: n }, (_, i) => i) }));
          const r = sweepPoints(sweep({ repetitions, axes }));
          if (!r.ok) return false;
          const combos = new Set(r.points.map((p) => JSON.stringify([p.values, p.repetition])));
          return (
            r.points.length === lengths.reduce((x, y) => x * y, 1) * repetitions && combos.size === r.points.length
          );
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });
});

describe('paths', () => {
  it('parse dotted keys and indices, and nothing else', () => {
    expect(parseJsonPath('hardware.devices[1].computeUnits')).toEqual(['hardware', 'devices', 1, 'computeUnits']);
    expect(parseJsonPath('a..b')).toBeNull();
    expect(parseJsonPath('a.')).toBeNull();
    expect(parseJsonPath('[0]')).toBeNull();
  });

  it('must name a field of the experiment, with the nearest one suggested', () => {
    const v = validateExperiment(base, presets);
    if (!v.ok) throw new Error('base invalid');
    const check = (...paths: string[]) =>
      checkSweepPaths(sweep({ axes: paths.map((path) => ({ path, values: [1] })) }), v.experiment).map(
        (i) => `${i.path}: ${i.message}`,
      );
    expect(check('hardware.link.lanes', 'hardware.devices[0].computeUnits')).toEqual([]);
    expect(check('hardware.link.lane')).toEqual([
      'sweep.axes[0].path: "hardware.link.lane" does not exist: "hardware.link" has no field "lane"; did you mean "hardware.link.lanes"?',
    ]);
    expect(check('hardware.devices[3].computeUnits')).toEqual([
      'sweep.axes[0].path: "hardware.devices[3].computeUnits" does not exist: "hardware.devices" has no entry 3; it has 1 entries',
    ]);
    expect(check('seed')).toEqual(['sweep.axes[0].path: "seed" cannot be swept: sweep seeds with "repetitions"']);
    expect(check('hardware.link.lanes', 'hardware.link.lanes')[0]).toMatch(/axes\[1\]\.path: .* is swept twice/);
  });
});

describe('point documents', () => {
  it('drop the sweep, write each value at its path (creating objects beside a preset) and set the seed', () => {
    const s = sweep({
      axes: [
        { path: 'hardware.link.lanes', values: [8] },
        { path: 'workload.arrayBytes', values: ['2MiB'] },
      ],
    });
    const doc = { ...base, seed: 5, sweep: s };
    const point = { index: 0, values: [8, '2MiB'], repetition: 2 };
    expect(pointDocument(doc, s, point, 5)).toEqual({
      ...base,
      seed: 7,
      hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 8 } },
      workload: { impl: 'stream', arrayBytes: '2MiB' },
    });
    expect(doc.hardware).toEqual({ preset: 'gpu-pcie4-hbm2' }); // the input is not changed
  });
});
