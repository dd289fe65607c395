/**
 * Export formats built from stored runs beyond the store's own (SQLite, long CSV, JSON):
 * a wide CSV, one row per run with the parameters that differ and every metric as
 * columns, and a run's timeline as Chrome trace-event JSON (opens in Perfetto's UI and
 * chrome://tracing).
 */
import { differingPaths, flattenDocument, type Leaf } from '../../../shared/flatten.js';
import type { Store } from '../store/store.js';

function csvField(v: Leaf | undefined): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180, like the long form: CRLF line ends, fields quoted when they must be. */
export function exportRunsToWideCsv(store: Store, runIds: readonly number[]): string {
  store.requireRuns(runIds);
  const runs = runIds.map((id) => store.getRun(id));
  const flat = runs.map((r) => flattenDocument(JSON.parse(r.experimentJson)));
  const params = differingPaths(flat);
  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.result?.metrics ?? {})))].sort();
  const header = ['run_id', 'run_name', 'strategy', 'workload', 'seed', 'status', ...params, ...metricNames];
  const lines = [header.map(csvField).join(',')];
  runs.forEach((r, i) => {
    const metrics = r.result?.metrics ?? {};
    lines.push(
      [
        r.id,
        r.name,
        r.strategy,
        r.workload,
        r.seed,
        r.status,
        ...params.map((p) => flat[i]![p]),
        ...metricNames.map((m) => metrics[m]?.value),
      ]
        .map((v) => csvField(v as Leaf))
        .join(','),
    );
  });
  return lines.join('\r\n') + '\r\n';
}

interface TraceEvent {
  name: string;
  ph: 'X' | 'C' | 'M' | 'i';
  /** Microseconds, as the format wants. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

/**
 * One process per run: the workload's phases (or script operations) as slices on one
 * track, unexpected outcomes as instant events, and every series as a counter track.
 */
export function exportRunsToTrace(store: Store, runIds: readonly number[]): string {
  store.requireRuns(runIds);
  const traceEvents: TraceEvent[] = [];
  for (const id of runIds) {
    const run = store.getRun(id);
    const pid = id;
    traceEvents.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: `run ${id}: ${run.name}` } });
    traceEvents.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: 1, args: { name: 'phases' } });
    for (const op of run.result?.ops ?? []) {
      traceEvents.push({
        name: op.op,
        ph: 'X',
        ts: op.startNs / 1000,
        dur: op.durationNs / 1000,
        pid,
        tid: 1,
        args: { faults: op.faults, h2dBytes: op.h2dBytes, d2hBytes: op.d2hBytes, error: op.error ?? null },
      });
      if (op.unexpected) {
        traceEvents.push({
          name: `unexpected: ${op.error ?? 'ok'} (expected ${op.expected ?? 'ok'})`,
          ph: 'i',
          ts: op.startNs / 1000,
          pid,
          tid: 1,
          s: 't',
        });
      }
    }
    for (const s of run.result?.series ?? []) {
      s.values.forEach((value, i) => {
        if (!Number.isFinite(value)) return;
        traceEvents.push({
          name: `${s.name} (${s.unit})`,
          ph: 'C',
          ts: (i * s.intervalNs) / 1000,
          pid,
          tid: 0,
          args: { value },
        });
      });
    }
  }
  return JSON.stringify({ traceEvents, displayTimeUnit: 'ns' });
}
