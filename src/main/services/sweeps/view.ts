/**
 * A sweep as the app's sweep view reads it back from the store: its runs (tag
 * `sweep:<id>`), each point's axis values (its `<path>=<value>` tags) and metrics. Works
 * for sweeps run by the CLI, on a cluster or imported, since it needs only the tags.
 */
import type { SweepListing, SweepView } from '../../../shared/api.js';
import { metricNames, metricOfRuns } from '../store/points.js';
import type { Store } from '../store/store.js';
import { DEFAULT_SWEEP_METRIC } from './summary.js';

const SWEEP_TAG = /^sweep:([0-9a-f]{12})$/;

export function listSweeps(store: Store): SweepListing[] {
  const rows = store.db
    .prepare(
      `SELECT t.tag, count(*) AS runs, sum(r.status = 'done') AS done, sum(r.status = 'failed') AS failed,
              min(r.name) AS name, max(r.started_at) AS last
       FROM tags t JOIN runs r ON r.id = t.run_id
       WHERE t.tag LIKE 'sweep:%' GROUP BY t.tag ORDER BY last DESC`,
    )
    .all() as { tag: string; runs: number; done: number; failed: number; name: string; last: string }[];
  return rows
    .filter((r) => SWEEP_TAG.test(r.tag))
    .map((r) => ({
      id: r.tag.slice('sweep:'.length),
      name: sweepName(r.name),
      runs: r.runs,
      done: r.done,
      failed: r.failed,
    }));
}

/** `lanes sweep [hardware.link.lanes=4 repetition 0]` -> `lanes sweep`. */
function sweepName(runName: string): string {
  return runName.replace(/ \[[^\]]*\]$/, '');
}

/**
 * The sweep's points with the value of `metric` (default: simulated time, or the first
 * metric the runs have). Null when no run carries the sweep's tag.
 */
export function loadSweep(store: Store, id: string, metric?: string): Omit<SweepView, 'progress'> | null {
  const runs = store.listRuns({ tag: `sweep:${id}` });
  if (runs.length === 0) return null;
  // The axes: tag keys that every run of the sweep carries (a person's own `note=...`
  // tag on some runs is not an axis).
  const keyed = runs.map((r) => {
    const pairs = new Map<string, string>();
    for (const tag of r.tags) {
      const eq = tag.indexOf('=');
      if (eq > 0) pairs.set(tag.slice(0, eq), tag.slice(eq + 1));
    }
    return pairs;
  });
  const axes = [...keyed[0].keys()].filter((k) => keyed.every((p) => p.has(k))).sort();
  const firstDone = runs.find((r) => r.status === 'done');
  const metrics = firstDone ? metricNames(store, firstDone.id) : [];
  const chosen =
    metric && metrics.includes(metric)
      ? metric
      : metrics.includes(DEFAULT_SWEEP_METRIC)
        ? DEFAULT_SWEEP_METRIC
        : (metrics[0] ?? '');
  const values = metricOfRuns(
    store,
    runs.map((r) => r.id),
    chosen,
  );
  const points = runs.map((r, i) => ({
    runId: r.id,
    status: r.status,
    seed: r.seed,
    values: axes.map((a) => parseValue(keyed[i].get(a) as string)),
    value: values.get(r.id)?.value ?? null,
  }));
  return {
    id,
    name: sweepName(runs[0].name),
    axes,
    metrics,
    metric: chosen,
    unit: values.values().next().value?.unit ?? '',
    points,
  };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
