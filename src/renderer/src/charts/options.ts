/**
 * echarts options built from results. Everything is read from the data (agents,
 * categories, series and metric names), so what the model adds later shows up with no
 * change here. Long series use LTTB sampling, so a million points stay smooth.
 */
import type { EChartsOption } from 'echarts';
import type { Attribution, Histogram, Series } from '../../../shared/api.js';
import { categoryLabel } from '../verdict.js';
import { formatValue } from '../format.js';

const zoom = [
  { type: 'inside', xAxisIndex: 0 },
  { type: 'slider', xAxisIndex: 0, height: 18, bottom: 4 },
] as const;

/** Attribution categories in first-seen order over all agents. */
export function attributionCategories(attribution: readonly Attribution[]): string[] {
  return [...new Set(attribution.flatMap((a) => Object.keys(a.ns)))];
}

/** One horizontal bar per agent (labelled by `labelOf`), stacked by category, in % of its time. */
export function attributionOption(
  attribution: readonly Attribution[],
  labelOf: (a: Attribution, i: number) => string = (a) => a.agent,
): EChartsOption {
  const categories = attributionCategories(attribution);
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => `${Number(v).toFixed(1)}%` },
    legend: { top: 0 },
    grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', data: attribution.map(labelOf), inverse: true },
    series: categories.map((c) => ({
      name: categoryLabel(c),
      type: 'bar',
      stack: 'time',
      emphasis: { focus: 'series' },
      data: attribution.map((a) =>
        a.totalNs > 0 ? (((a.ns as Record<string, number>)[c] ?? 0) / a.totalNs) * 100 : 0,
      ),
    })),
  };
}

/** Series over simulated time (µs), several overlaid: all must share a unit to share an axis. */
export function seriesOption(lines: readonly { label: string; series: Series }[]): EChartsOption {
  const unit = lines[0]?.series.unit ?? '';
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${formatValue(Number(v))} ${unit}` },
    legend: lines.length > 1 ? { top: 0 } : undefined,
    grid: { left: 8, right: 24, top: lines.length > 1 ? 44 : 30, bottom: 48, containLabel: true },
    xAxis: { type: 'value', name: 'simulated µs', nameLocation: 'middle', nameGap: 24, scale: true },
    yAxis: { type: 'value', name: unit, scale: false },
    dataZoom: [...zoom],
    series: lines.map(({ label, series }) => ({
      name: label,
      type: 'line',
      showSymbol: false,
      sampling: 'lttb',
      large: true,
      data: series.values.map((v, i) => [(i * series.intervalNs) / 1000, Number.isFinite(v) ? v : null]),
    })),
  };
}

/** Buckets as bars: "≤ bound" labels, the last one "> last bound". */
export function histogramOption(h: Histogram): EChartsOption {
  const labels = h.counts.map((_, i) =>
    i < h.bounds.length && Number.isFinite(h.bounds[i])
      ? `≤ ${formatValue(h.bounds[i]!)}`
      : `> ${formatValue(h.bounds[h.bounds.length - 1] ?? 0)}`,
  );
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: labels, name: h.unit, axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', name: 'count' },
    series: [{ type: 'bar', data: h.counts, name: h.name }],
  };
}

/** Grouped bars: one group per metric, one bar per run, each metric scaled to its largest run (100%). */
export function metricBarsOption(
  metricNames: readonly string[],
  runs: readonly { label: string; metrics: Record<string, { value: number; unit: string }> }[],
): EChartsOption {
  const max = metricNames.map((m) => Math.max(0, ...runs.map((r) => Math.abs(r.metrics[m]?.value ?? 0))));
  return {
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params];
        const metric = metricNames[list[0]?.dataIndex ?? 0] ?? '';
        return [
          metric,
          ...list.map((p) => {
            const m = runs[p.seriesIndex ?? 0]?.metrics[metric];
            return `${p.marker} ${p.seriesName}: ${m ? `${formatValue(m.value)} ${m.unit}` : '—'}`;
          }),
        ].join('<br/>');
      },
    },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: [...metricNames],
      axisLabel: { interval: 0, rotate: metricNames.length > 4 ? 20 : 0 },
    },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' }, name: '% of largest' },
    series: runs.map((r) => ({
      name: r.label,
      type: 'bar',
      data: metricNames.map((m, i) => (max[i]! > 0 ? (Math.abs(r.metrics[m]?.value ?? 0) / max[i]!) * 100 : 0)),
    })),
  };
}

/** Parallel coordinates: an axis per parameter or metric (numbers or categories), a line per run; brushable. */
export function parallelOption(axes: readonly string[], rows: readonly (string | number | null)[][]): EChartsOption {
  return {
    parallelAxis: axes.map((name, dim) => {
      const numeric = rows.every((r) => r[dim] === null || typeof r[dim] === 'number');
      return numeric
        ? { dim, name, nameRotate: 20 }
        : { dim, name, nameRotate: 20, type: 'category', data: [...new Set(rows.map((r) => String(r[dim])))] };
    }),
    parallel: { left: 40, right: 80, top: 60, bottom: 30 },
    series: [{ type: 'parallel', lineStyle: { width: 1.5, opacity: 0.6 }, data: rows.map((r) => [...r]) }],
  };
}

/** Scatter of a metric against a parameter, one colour per value of a grouping parameter. */
export function scatterOption(
  xName: string,
  yName: string,
  points: readonly { x: number | string; y: number; group: string; label: string }[],
): EChartsOption {
  const groups = [...new Set(points.map((p) => p.group))];
  const categorical = points.some((p) => typeof p.x !== 'number');
  return {
    tooltip: { trigger: 'item', formatter: (p) => String((p as { data: unknown[] }).data[2]) },
    legend: groups.length > 1 ? { top: 0 } : undefined,
    grid: { left: 8, right: 24, top: 36, bottom: 24, containLabel: true },
    xAxis: categorical
      ? { type: 'category', name: xName, data: [...new Set(points.map((p) => String(p.x)))] }
      : { type: 'value', name: xName, scale: true },
    yAxis: { type: 'value', name: yName, scale: true },
    series: groups.map((g) => ({
      name: g,
      type: 'scatter',
      symbolSize: 10,
      data: points.filter((p) => p.group === g).map((p) => [categorical ? String(p.x) : p.x, p.y, p.label]),
    })),
  };
}

/** A live line that grows while a run runs: simulated time against wall time. */
export function liveOption(points: readonly [number, number][], yName: string): EChartsOption {
  return {
    animation: false,
    grid: { left: 8, right: 24, top: 24, bottom: 24, containLabel: true },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'wall s', nameLocation: 'middle', nameGap: 22 },
    yAxis: { type: 'value', name: yName },
    series: [{ type: 'line', showSymbol: false, data: points.map((p) => [...p]) }],
  };
}
