/** The sweep view's pure parts: grouping with mean and spread, the charts' marks, and which run a click opens. */
import { describe, expect, it } from 'vitest';
import type { SweepView } from '../src/shared/api.js';
import {
  axisValues,
  groupPoints,
  runOfClick,
  sweepHeatmapOption,
  sweepLinesOption,
} from '../src/renderer/src/charts/sweep-options.js';

const point = (runId: number, values: unknown[], value: number | null, status: 'done' | 'failed' = 'done') => ({
  runId,
  values,
  value,
  status,
  seed: runId,
});
const view: SweepView = {
  id: '0123456789ab',
  name: 's',
  axes: ['lanes', 'size'],
  metrics: ['t'],
  metric: 't',
  unit: 'ns',
  progress: null,
  points: [
    point(1, [16, '1MiB'], 10),
    point(2, [16, '1MiB'], 14),
    point(3, [4, '1MiB'], 20),
    point(4, [4, '1MiB'], null, 'failed'),
    point(5, [4, '2MiB'], 30),
    point(6, [16, '2MiB'], 12),
  ],
};

describe('sweep view helpers', () => {
  it('orders numeric axis values, keeps others as first seen', () => {
    expect(axisValues(view, 0)).toEqual([4, 16]);
    expect(axisValues(view, 1)).toEqual(['1MiB', '2MiB']);
  });

  it('groups by the chosen axes with the mean and sample sd; done runs come first', () => {
    const byLanes = groupPoints(view, [0]);
    const g16 = byLanes.find((g) => g.key[0] === 16)!;
    expect(g16).toMatchObject({ n: 3, mean: 12, sd: 2, runIds: [1, 2, 6] });
    const g4 = groupPoints(view, [0, 1]).find((g) => g.key[0] === 4 && g.key[1] === '1MiB')!;
    expect(g4).toMatchObject({ n: 1, mean: 20, sd: 0, runIds: [3, 4] });
  });

  it('draws the band as mean - sd plus 2 sd, stacked, and carries the runs for a click', () => {
    const option = sweepLinesOption(view, 0, null) as { series: { data: unknown[]; stack?: string }[] };
    const [line, lower, spread] = option.series;
    expect(line!.data.map((d) => (d as { value: number }).value)).toEqual([25, 12]); // x = 4, 16
    expect(lower!.data).toEqual([25 - Math.SQRT2 * 5, 10]);
    expect(spread!.data).toEqual([2 * Math.SQRT2 * 5, 4]);
    expect(lower!.stack).toBe(spread!.stack);
    expect(runOfClick({ data: line!.data[1] })).toBe(1);
    expect(runOfClick({ data: 10 })).toBeNull(); // a band: nothing to open
  });

  it('places heatmap cells by the axes’ value order', () => {
    const option = sweepHeatmapOption(view, 0, 1) as { series: { data: { value: number[]; runIds: number[] }[] }[] };
    const cells = option.series[0]!.data.map((d) => [d.value, d.runIds]);
    expect(cells).toContainEqual([
      [1, 0, 12],
      [1, 2],
    ]);
    expect(cells).toContainEqual([[0, 1, 30], [5]]);
  });
});
