/**
 * The renderer's pure parts under Node: the one-line verdict, chart options built from
 * whatever the result holds (a new agent, category or series shows up unasked), the
 * flattening that finds differing parameters, and the hash routes.
 */
import { describe, expect, it } from 'vitest';
import type { Attribution, Timeline } from '../src/shared/api.js';
import {
  coarseningNote,
  describeBar,
  timelineOption,
  timelineRows,
} from '../src/renderer/src/charts/timeline-options.js';
import { differingPaths, flattenDocument } from '../src/shared/flatten.js';
import { attributionOption, metricBarsOption, seriesOption } from '../src/renderer/src/charts/options.js';
import { formatDurationNs, formatMetric } from '../src/renderer/src/format.js';
import { href, parseRoute, type Route } from '../src/renderer/src/routes.js';
import { timeVerdict } from '../src/renderer/src/verdict.js';

const agent = (name: string, ns: Record<string, number>): Attribution =>
  ({ agent: name, contexts: 1, totalNs: Object.values(ns).reduce((a, b) => a + b, 0), ns }) as Attribution;

describe('timeVerdict', () => {
  it('names the most stalled agent and its two largest stalls, with its compute share', () => {
    const verdict = timeVerdict([
      agent('cpu', { compute: 10, idle: 90 }),
      agent('gpu0', { compute: 0.01, fault_service: 30.9, link_wait: 17.1, dram_wait: 2, idle: 49.99 }),
    ]);
    expect(verdict).toBe(
      'Most time went to fault service (30.9%), then waiting on the link (17.1%) on gpu0; it computed 0.01% of the run.',
    );
  });

  it('words a category the model adds later from its name', () => {
    expect(timeVerdict([agent('gpu1', { compute: 50, peer_wait: 40, idle: 10 })])).toMatch(/peer wait \(40%\) on gpu1/);
  });

  it('says so when nothing held an agent up, or nothing was recorded', () => {
    expect(timeVerdict([agent('cpu', { compute: 100, idle: 0 })])).toBe(
      'cpu spent 100% of the run computing and was never held up by memory.',
    );
    expect(timeVerdict([])).toBe('No time attribution was recorded for this run.');
  });
});

describe('chart options', () => {
  it('stack every category of every agent, new ones included, in % of each agent’s time', () => {
    const option = attributionOption([
      agent('gpu0', { compute: 50, idle: 50 }),
      agent('gpu1', { compute: 25, peer_wait: 75 }),
    ]);
    expect((option.yAxis as { data: string[] }).data).toEqual(['gpu0', 'gpu1']);
    const series = option.series as { name: string; data: number[] }[];
    expect(series.map((s) => s.name)).toEqual(['compute', 'idle', 'peer wait']);
    expect(series.find((s) => s.name === 'peer wait')!.data).toEqual([0, 75]);
  });

  it('overlays series on one simulated-time axis in µs, with LTTB sampling; NaN becomes a gap', () => {
    const s = { name: 'link.h2d_bandwidth', unit: 'GB/s', intervalNs: 2000, values: [1, NaN, 3] };
    const option = seriesOption([
      { label: '#1', series: s },
      { label: '#2', series: { ...s, intervalNs: 1000 } },
    ]);
    const lines = option.series as { name: string; sampling: string; data: [number, number | null][] }[];
    expect(lines.map((l) => l.name)).toEqual(['#1', '#2']);
    expect(lines[0]!.sampling).toBe('lttb');
    expect(lines[0]!.data).toEqual([
      [0, 1],
      [2, null],
      [4, 3],
    ]);
    expect(lines[1]!.data[2]).toEqual([2, 3]);
  });

  it('scales grouped metric bars to the largest run', () => {
    const option = metricBarsOption(
      ['a'],
      [
        { label: 'x', metrics: { a: { value: 50, unit: '' } } },
        { label: 'y', metrics: { a: { value: 200, unit: '' } } },
      ],
    );
    expect((option.series as { data: number[] }[]).map((s) => s.data)).toEqual([[25], [100]]);
  });
});

describe('differing parameters', () => {
  it('flattens documents and lists the paths whose values differ, names aside', () => {
    const a = flattenDocument({ name: 'a', hardware: { link: { lanes: 16 } }, workload: { ops: [{ op: 'mmap' }] } });
    const b = flattenDocument({
      name: 'b',
      hardware: { link: { lanes: 8 } },
      workload: { ops: [{ op: 'mmap' }, { op: 'x' }] },
    });
    expect(a).toEqual({ name: 'a', 'hardware.link.lanes': 16, 'workload.ops[0].op': 'mmap' });
    expect(differingPaths([a, b])).toEqual(['hardware.link.lanes', 'workload.ops[1].op']);
    expect(differingPaths([a, a])).toEqual([]);
  });
});

describe('routes and formats', () => {
  it('round-trips every route through the hash', () => {
    for (const route of [
      { view: 'editor' },
      { view: 'runs' },
      { view: 'run', id: 7 },
      { view: 'queued', queueId: 2 },
      { view: 'compare', ids: [1, 2, 3] },
      { view: 'export', ids: [4] },
    ] satisfies Route[]) {
      expect(parseRoute(href(route))).toEqual(route);
    }
    expect(parseRoute('#/run/x')).toEqual({ view: 'editor' });
    expect(parseRoute('#/queued/0')).toEqual({ view: 'editor' });
    expect(parseRoute('#/compare/1,zz,3')).toEqual({ view: 'compare', ids: [1, 3] });
  });

  it('reads simulated durations and sizes as people do', () => {
    expect(formatDurationNs(850)).toBe('850 ns');
    expect(formatDurationNs(58_100_000)).toBe('58.1 ms');
    expect(formatMetric(201_326_592, 'bytes')).toBe('192 MiB');
    expect(formatMetric(0.14451, 'fraction')).toBe('14.5 %');
    expect(formatMetric(5.1859, 'GB/s')).toBe('5.186 GB/s');
  });
});

describe('the component timeline chart', () => {
  const timeline: Timeline = {
    maxIntervals: 100,
    tracks: [
      {
        component: 'gpu0.link.h2d',
        agent: 'gpu0',
        kind: 'link',
        startNs: [1000, 5000],
        endNs: [2000, 9000],
        busyNs: [1000, 1000],
        bytes: [16384, 32768],
        closedGaps: 3,
        closedGapNs: 250,
      },
      {
        component: 'gpu0.fault-handler',
        agent: 'gpu0',
        kind: 'fault-handler',
        startNs: [0],
        endNs: [4000],
        busyNs: [4000],
        count: [12],
        countUnit: 'faults',
        closedGaps: 0,
        closedGapNs: 0,
      },
    ],
  };
  const ops = [
    { index: 0, op: 'kernel <a & b>', startNs: 0, durationNs: 6000, faults: 12, h2dBytes: 0, d2hBytes: 0 },
    { index: 1, op: 'read back', startNs: 6000, durationNs: 4000, faults: 0, h2dBytes: 0, d2hBytes: 0 },
  ];

  it('has a row for the phases, then one per component, with a bar per interval in µs', () => {
    const { rows, bars } = timelineRows(timeline, ops);
    expect(rows).toEqual(['phases', 'gpu0.link.h2d', 'gpu0.fault-handler']);
    expect(bars).toEqual([
      [0, 0, 6, 1, -1, 0],
      [0, 6, 10, 1, -1, 1],
      [1, 1, 2, 1, 0, 0],
      [1, 5, 9, 0.25, 0, 1],
      [2, 0, 4, 1, 1, 0],
    ]);
    expect(timelineRows(timeline, []).rows[0]).toBe('gpu0.link.h2d');
  });

  it('says what a bar is: bytes or items, how busy, in which phase, escaped for the tooltip', () => {
    const [phase, , , coarse, batch] = timelineRows(timeline, ops).bars;
    expect(describeBar(phase!, timeline, ops)).toBe('<b>kernel &#60;a &#38; b&#62;</b><br>start 0 ns, lasts 6 µs');
    expect(describeBar(coarse!, timeline, ops)).toBe(
      '<b>gpu0.link.h2d</b><br>32 KiB on the wire<br>busy 25.0 % of it (short idle gaps merged)<br>in kernel &#60;a &#38; b&#62;<br>start 5 µs, lasts 4 µs',
    );
    expect(describeBar(batch!, timeline, ops)).toBe(
      '<b>gpu0.fault-handler</b><br>12 faults<br>in kernel &#60;a &#38; b&#62;<br>start 0 ns, lasts 4 µs',
    );
  });

  it('says when the budget coarsened it, and nothing when it did not', () => {
    expect(coarseningNote(timeline)).toBe(
      'To keep within 100 intervals, idle gaps up to 250 ns were merged on 1 of 2 components: fainter bars were busy only part of the time.',
    );
    expect(coarseningNote({ ...timeline, tracks: [timeline.tracks[1]!] })).toBe('');
    const option = timelineOption(timeline, ops);
    expect((option.yAxis as { data: string[] }).data).toHaveLength(3);
  });
});
