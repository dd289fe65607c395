/**
 * Export formats built from stored runs beyond the store's own (SQLite, long CSV, JSON):
 * a wide CSV, one row per run with the parameters that differ and every metric as
 * columns. The Chrome trace-event timeline is in trace.ts.
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
