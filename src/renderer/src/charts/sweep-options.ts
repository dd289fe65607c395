/**
 * The sweep view's charts, from a SweepView: a metric against one axis as lines (one per
 * value of a second axis, mean ± standard deviation as a band), against two axes as a
 * heatmap, and across every axis as parallel coordinates. What is not on the chart (the
 * other axes, and the repetitions' seeds) is pooled into each mark's mean and spread.
 * Each mark carries its runs' ids (`runIds`), so a click can open one. No animation: the
 * view redraws while a sweep runs, and a chart should show the data, not a transition.
 */
import type { EChartsOption } from 'echarts';
import type { SweepView } from '../../../shared/api.js';
import { formatValue } from '../format.js';

export interface SweepGroup {
  /** The values of the grouping axes, in the order asked. */
  key: unknown[];
  n: number;
  mean: number;
  /** Sample standard deviation; 0 with one value, NaN with none. */
  sd: number;
  /** Every run of the group: the done ones first, then the others, each by id. */
  runIds: number[];
}

/** An axis value as shown: strings as they are, the rest as JSON. */
export const showValue = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The distinct values of axis `a`, numbers ascending, otherwise in first-seen order. */
export function axisValues(view: SweepView, a: number): unknown[] {
  const seen = new Map<string, unknown>();
  for (const p of view.points)
    if (!seen.has(JSON.stringify(p.values[a]))) seen.set(JSON.stringify(p.values[a]), p.values[a]);
  const values = [...seen.values()];
  return values.every((v) => typeof v === 'number') ? (values as number[]).sort((x, y) => x - y) : values;
}

/** Points grouped by the values of `axes` (indices), with the mean and spread of the metric over each group. */
export function groupPoints(view: SweepView, axes: readonly number[]): SweepGroup[] {
  const groups = new Map<string, { key: unknown[]; samples: number[]; done: number[]; other: number[] }>();
  for (const p of view.points) {
    const key = axes.map((a) => p.values[a]);
    const id = JSON.stringify(key);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, samples: [], done: [], other: [] }));
    (p.status === 'done' ? g.done : g.other).push(p.runId);
    if (p.value !== null) g.samples.push(p.value);
  }
  const byId = (x: number, y: number) => x - y;
  return [...groups.values()].map(({ key, samples, done, other }) => {
    const runIds = [...done.sort(byId), ...other.sort(byId)];
    const n = samples.length;
    const mean = n ? samples.reduce((s, v) => s + v, 0) / n : NaN;
    const sd = n > 1 ? Math.sqrt(samples.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : n ? 0 : NaN;
    return { key, n, mean, sd, runIds };
  });
}

const metricLabel = (view: SweepView) => `${view.metric}${view.unit ? ` (${view.unit})` : ''}`;
const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** The metric against axis `x`: one line per value of axis `by` (or one line), each with a mean ± sd band. */
export function sweepLinesOption(view: SweepView, x: number, by: number | null): EChartsOption {
  const xs = axisValues(view, x);
  const lines = by === null ? [undefined] : axisValues(view, by);
  const groups = new Map(groupPoints(view, by === null ? [x] : [x, by]).map((g) => [JSON.stringify(g.key), g]));
  const series = lines.flatMap((line, i) => {
    const name = by === null ? view.metric : `${view.axes[by]}=${showValue(line)}`;
    const of = (xv: unknown) => groups.get(JSON.stringify(by === null ? [xv] : [xv, line]));
    const stack = `band-${i}`;
    return [
      {
        name,
        type: 'line' as const,
        symbolSize: 8,
        data: xs.map((xv) => {
          const g = of(xv);
          return { value: g ? finite(g.mean) : null, runIds: g?.runIds ?? [], n: g?.n ?? 0, sd: g?.sd ?? NaN };
        }),
      },
      // The band: an invisible line at mean - sd, and the 2 sd above it stacked and filled.
      {
        name,
        type: 'line' as const,
        stack,
        symbol: 'none',
        lineStyle: { opacity: 0 },
        tooltip: { show: false },
        data: xs.map((xv) => {
          const g = of(xv);
          return g && Number.isFinite(g.sd) ? g.mean - g.sd : null;
        }),
      },
      {
        name,
        type: 'line' as const,
        stack,
        symbol: 'none',
        lineStyle: { opacity: 0 },
        areaStyle: { opacity: 0.2 },
        tooltip: { show: false },
        data: xs.map((xv) => {
          const g = of(xv);
          return g && Number.isFinite(g.sd) ? 2 * g.sd : null;
        }),
      },
    ];
  });
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p: unknown) => {
        const { seriesName, name, data } = p as {
          seriesName: string;
          name: string;
          data: { value: number | null; n: number; sd: number };
        };
        const spread = data.n > 1 ? ` ± ${formatValue(data.sd)} (sd over ${data.n})` : '';
        return `${seriesName}<br>${view.axes[x]}=${name}: ${data.value === null ? '—' : formatValue(data.value)}${spread}<br>click to open its run`;
      },
    },
    legend: by === null ? undefined : { top: 0, data: lines.map((l) => `${view.axes[by]}=${showValue(l)}`) },
    grid: { left: 8, right: 24, top: by === null ? 30 : 44, bottom: 40, containLabel: true },
    xAxis: { type: 'category', data: xs.map(showValue), name: view.axes[x], nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', name: metricLabel(view), scale: true },
    series,
  };
}

/** Fixed margins, so a test can aim at the plot area. */
export const HEATMAP_GRID = { left: 120, right: 100, top: 30, bottom: 60 } as const;

/** The metric's mean over axes `x` and `y`, one cell per pair. */
export function sweepHeatmapOption(view: SweepView, x: number, y: number): EChartsOption {
  const xs = axisValues(view, x);
  const ys = axisValues(view, y);
  const groups = groupPoints(view, [x, y]);
  const means = groups.map((g) => g.mean).filter(Number.isFinite);
  const index = (values: unknown[], v: unknown) => values.findIndex((w) => JSON.stringify(w) === JSON.stringify(v));
  return {
    animation: false,
    tooltip: {
      formatter: (p: unknown) => {
        const { data } = p as { data: { value: [number, number, number | null]; n: number } };
        const [xi, yi, v] = data.value;
        return `${view.axes[x]}=${showValue(xs[xi])}<br>${view.axes[y]}=${showValue(ys[yi])}<br>${view.metric}: ${v === null ? '—' : formatValue(v)} (mean of ${data.n})<br>click to open its run`;
      },
    },
    grid: { ...HEATMAP_GRID },
    xAxis: { type: 'category', data: xs.map(showValue), name: view.axes[x], nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'category', data: ys.map(showValue), name: view.axes[y] },
    visualMap: {
      min: means.length ? Math.min(...means) : 0,
      max: means.length ? Math.max(...means) : 1,
      calculable: true,
      orient: 'vertical',
      right: 8,
      top: 'middle',
      text: [metricLabel(view), ''],
    },
    series: [
      {
        type: 'heatmap',
        name: view.metric,
        label: { show: true, formatter: (p: unknown) => formatValue(Number((p as { value: number[] }).value[2])) },
        data: groups.map((g) => ({
          value: [index(xs, g.key[0]), index(ys, g.key[1]), finite(g.mean)],
          runIds: g.runIds,
          n: g.n,
        })),
      },
    ],
  };
}

/** One line per combination of every axis (pooled over seeds) through an axis each, and the metric. */
export function sweepParallelOption(view: SweepView): EChartsOption {
  const all = view.axes.map((_, a) => a);
  const groups = groupPoints(view, all);
  return {
    animation: false,
    tooltip: { trigger: 'item' },
    parallelAxis: [
      ...view.axes.map((name, a) => ({
        dim: a,
        name,
        type: 'category' as const,
        data: axisValues(view, a).map(showValue),
      })),
      { dim: view.axes.length, name: metricLabel(view), type: 'value' as const, scale: true },
    ],
    parallel: { left: 60, right: 80, top: 50, bottom: 30 },
    series: [
      {
        type: 'parallel',
        name: view.metric,
        lineStyle: { width: 2, opacity: 0.6 },
        emphasis: { lineStyle: { width: 4, opacity: 1 } },
        data: groups.map((g) => ({ value: [...g.key.map(showValue), finite(g.mean)], runIds: g.runIds })),
      },
    ],
  };
}

/** The run a clicked mark opens (from echarts' click params): its group's first done run, if any. */
export function runOfClick(params: unknown): number | null {
  const ids = (params as { data?: { runIds?: unknown } } | null)?.data?.runIds;
  return Array.isArray(ids) && typeof ids[0] === 'number' ? ids[0] : null;
}
