/**
 * Lookups for sweeps: finished runs by experiment hash (a sweep point's identity) and
 * one metric across many runs. Read-only queries over the store's tables.
 */
import type { Store } from './store.js';

/** The newest 'done' run of each point: one search of the runs_point index per hash (never a scan of the runs). */
export const DONE_RUNS_BY_HASH = `
  SELECT hashes.value AS hash,
         (SELECT max(id) FROM runs
           WHERE experiment_hash = hashes.value AND model_version = ? AND status = 'done') AS id
  FROM json_each(?) AS hashes`;

/** Experiment hash -> id of its newest 'done' run with this model version, for the hashes that have one. */
export function doneRunsByHash(store: Store, hashes: readonly string[], modelVersion: string): Map<string, number> {
  const rows = store.db.prepare(DONE_RUNS_BY_HASH).all(modelVersion, JSON.stringify(hashes)) as {
    hash: string;
    id: number | null;
  }[];
  return new Map(rows.filter((r) => r.id !== null).map((r) => [r.hash, r.id as number]));
}

/** Run id -> the value (null for NaN) and unit of metric `name`, for the runs that have it. */
export function metricOfRuns(
  store: Store,
  runIds: readonly number[],
  name: string,
): Map<number, { value: number | null; unit: string }> {
  const rows = store.db
    .prepare('SELECT run_id, value, unit FROM metrics WHERE name = ? AND run_id IN (SELECT value FROM json_each(?))')
    .all(name, JSON.stringify(runIds)) as { run_id: number; value: number | null; unit: string }[];
  return new Map(rows.map((r) => [r.run_id, { value: r.value, unit: r.unit }]));
}

/** The metric names of a run, sorted. */
export function metricNames(store: Store, runId: number): string[] {
  return store.db.prepare('SELECT name FROM metrics WHERE run_id = ? ORDER BY name').pluck().all(runId) as string[];
}
