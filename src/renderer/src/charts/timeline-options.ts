/**
 * The component timeline as an echarts custom series, in the spirit of Akita's Daisen: one
 * row per component (the run's phases on top), a bar per busy interval, and zoom on the
 * time axis from the whole run down to single transfers. A bar is at least a pixel wide,
 * so a lone transfer in a long run still shows; a bar that holds idle gaps the budget
 * closed is drawn fainter, as busy as it really was.
 */
import {
  graphic,
  type CustomSeriesRenderItemAPI,
  type CustomSeriesRenderItemParams,
  type EChartsOption,
} from 'echarts';
import type { OpReport, Timeline, TimelineTrack } from '../../../shared/api.js';
import { formatDurationNs, formatMetric, formatValue } from '../format.js';

const KIND_COLOURS: Record<string, string> = {
  phase: '#9a60b4',
  link: '#5470c6',
  'copy-engine': '#3ba272',
  'fault-handler': '#ee6666',
  'dram-channel': '#fac858',
  'host-memory': '#73c0de',
};

/** One bar: [row, start µs, end µs, busy fraction, track index (-1: a phase), interval index]. */
type Bar = [number, number, number, number, number, number];

export interface TimelineRows {
  /** Row labels, top to bottom: 'phases' (when there are any), then the components. */
  rows: string[];
  bars: Bar[];
}

/** The rows and bars of a timeline, phases first. */
export function timelineRows(timeline: Timeline, ops: readonly OpReport[]): TimelineRows {
  const rows: string[] = [];
  const bars: Bar[] = [];
  if (ops.length > 0) {
    rows.push('phases');
    ops.forEach((op, i) => bars.push([0, op.startNs / 1000, (op.startNs + op.durationNs) / 1000, 1, -1, i]));
  }
  timeline.tracks.forEach((t, k) => {
    const row = rows.length;
    rows.push(t.component);
    for (let i = 0; i < t.startNs.length; i++) {
      const length = t.endNs[i]! - t.startNs[i]!;
      bars.push([row, t.startNs[i]! / 1000, t.endNs[i]! / 1000, length > 0 ? t.busyNs[i]! / length : 1, k, i]);
    }
  });
  return { rows, bars };
}

/** What the tooltip says about one bar. */
export function describeBar(bar: Bar, timeline: Timeline, ops: readonly OpReport[]): string {
  const [, startUs, endUs, busy, k, i] = bar;
  const lines: string[] = [];
  if (k < 0) {
    const op = ops[i]!;
    lines.push(`<b>${escapeHtml(op.op)}</b>`);
  } else {
    const t = timeline.tracks[k]!;
    lines.push(`<b>${escapeHtml(t.component)}</b>`);
    if (t.bytes) lines.push(`${formatMetric(t.bytes[i]!, 'bytes')}${t.kind === 'link' ? ' on the wire' : ''}`);
    if (t.count && t.countUnit) lines.push(`${formatValue(t.count[i]!)} ${escapeHtml(t.countUnit)}`);
    if (busy < 1) lines.push(`busy ${(busy * 100).toPrecision(3)} % of it (short idle gaps merged)`);
    const phase = ops.find((op) => op.startNs <= startUs * 1000 && startUs * 1000 < op.startNs + op.durationNs);
    if (phase) lines.push(`in ${escapeHtml(phase.op)}`);
  }
  lines.push(`start ${formatDurationNs(startUs * 1000)}, lasts ${formatDurationNs((endUs - startUs) * 1000)}`);
  return lines.join('<br>');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function kindOf(track: TimelineTrack | undefined): string {
  return track?.kind ?? 'phase';
}

export function timelineOption(timeline: Timeline, ops: readonly OpReport[]): EChartsOption {
  const { rows, bars } = timelineRows(timeline, ops);
  const renderItem = (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI) => {
    const row = api.value(0) as number;
    const [x0, y] = api.coord([api.value(1), row]) as [number, number];
    const [x1] = api.coord([api.value(2), row]) as [number, number];
    const height = (api.size!([0, 1]) as number[])[1]! * 0.7;
    const coordSys = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
    // Phases follow each other without a gap: a pixel of space tells them apart.
    const isPhase = (api.value(4) as number) < 0;
    const width = isPhase && x1 - x0 > 3 ? x1 - x0 - 1 : Math.max(1, x1 - x0);
    const shape = graphic.clipRectByRect(
      { x: x0, y: y - height / 2, width, height },
      { x: coordSys.x, y: coordSys.y, width: coordSys.width, height: coordSys.height },
    );
    if (!shape) return null;
    const track = timeline.tracks[api.value(4) as number];
    const busy = api.value(3) as number;
    return {
      type: 'rect' as const,
      shape,
      style: { fill: KIND_COLOURS[kindOf(track)] ?? '#888', opacity: 0.3 + 0.7 * busy },
    };
  };
  return {
    tooltip: {
      trigger: 'item',
      formatter: (p) => describeBar((p as unknown as { value: Bar }).value, timeline, ops),
    },
    grid: { left: 8, right: 24, top: 36, bottom: 56, containLabel: true },
    xAxis: {
      type: 'value',
      name: 'simulated µs',
      nameLocation: 'middle',
      nameGap: 24,
      min: 'dataMin',
      max: 'dataMax',
      // The window's ends are odd numbers that crowd the round ones next to them.
      axisLabel: { formatter: (v: number) => formatValue(v), showMinLabel: false, showMaxLabel: false },
    },
    yAxis: {
      type: 'category',
      data: rows,
      inverse: true,
      axisTick: { show: false },
      splitLine: { show: true, lineStyle: { opacity: 0.3 } },
    },
    dataZoom: [
      // weakFilter keeps a bar that is only partly in view.
      { type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter' },
      { type: 'slider', xAxisIndex: 0, filterMode: 'weakFilter', height: 18, bottom: 4, labelFormatter: '' },
    ],
    series: [
      {
        type: 'custom',
        name: 'busy',
        renderItem,
        encode: { x: [1, 2], y: 0, tooltip: [1, 2] },
        data: bars,
        // Tens of thousands of bars: drawn in slices so the page stays responsive.
        progressive: 5000,
        animation: false,
      },
    ],
  };
}

/** The chart's height for `rows` rows: a readable row each, within reason. */
export function timelineHeight(rows: number): number {
  return 90 + Math.min(rows, 60) * 18;
}

/** Says how much the interval budget coarsened the timeline, when it did. */
export function coarseningNote(timeline: Timeline): string {
  const coarse = timeline.tracks.filter((t) => t.closedGaps > 0);
  if (coarse.length === 0) return '';
  const longest = Math.max(...coarse.map((t) => t.closedGapNs));
  return `To keep within ${timeline.maxIntervals.toLocaleString('en-US')} intervals, idle gaps up to ${formatDurationNs(longest)} were merged on ${coarse.length} of ${timeline.tracks.length} components: fainter bars were busy only part of the time.`;
}
