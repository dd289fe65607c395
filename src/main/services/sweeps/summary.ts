/**
 * A sweep's results against one metric: a row per combination of axis values, with the
 * mean and the spread over its repetitions (seeds), so an effect can be told from noise.
 */
import { closest } from '../../../sim/schema/fields.js';
import { metricNames, metricOfRuns } from '../store/points.js';
import type { Store } from '../store/store.js';
import type { SweepPlan } from './plan.js';

export { DEFAULT_SWEEP_METRIC } from './summary-metric.js';

export interface SummaryRow {
  /** One value per axis. */
  values: unknown[];
  /** Repetitions with a value of the metric. */
  n: number;
  mean: number;
  /** Sample standard deviation over the repetitions; 0 with one. */
  sd: number;
  min: number;
  max: number;
  /** Repetitions not stored as done (failed, or not run yet). */
  missing: number;
  runIds: number[];
}

export interface SweepSummary {
  metric: string;
  unit: string;
  axes: string[];
  rows: SummaryRow[];
}

/**
 * `stored` maps point hashes to done runs (storedPoints). Throws an error naming the
 * valid metrics when none of the runs has `metric`.
 */
export function summarizeSweep(
  store: Store,
  plan: SweepPlan,
  stored: Map<string, number>,
  metric: string,
): SweepSummary {
  const runIds = [...stored.values()];
  const values = metricOfRuns(store, runIds, metric);
  if (runIds.length > 0 && values.size === 0) throw unknownMetric(store, runIds[0], metric);

  const groups = new Map<string, SummaryRow & { samples: number[] }>();
  for (const point of plan.points) {
    const key = JSON.stringify(point.values);
    let g = groups.get(key);
    if (!g) {
      g = { values: point.values, n: 0, mean: NaN, sd: NaN, min: NaN, max: NaN, missing: 0, runIds: [], samples: [] };
      groups.set(key, g);
    }
    const runId = stored.get(point.hash);
    const v = runId === undefined ? undefined : values.get(runId)?.value;
    if (runId !== undefined) g.runIds.push(runId);
    if (typeof v === 'number') g.samples.push(v);
    else g.missing++;
  }
  const out: SummaryRow[] = [];
  for (const { samples, ...g } of groups.values()) {
    const n = samples.length;
    const mean = n ? samples.reduce((a, b) => a + b, 0) / n : NaN;
    const sd = n > 1 ? Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : n ? 0 : NaN;
    out.push({ ...g, n, mean, sd, min: n ? Math.min(...samples) : NaN, max: n ? Math.max(...samples) : NaN });
  }
  return {
    metric,
    unit: values.values().next().value?.unit ?? '',
    axes: plan.sweep.axes.map((a) => a.path),
    rows: out,
  };
}

function unknownMetric(store: Store, runId: number, metric: string): Error {
  const names = metricNames(store, runId);
  const near = closest(metric, names);
  return new Error(
    `--metric: the runs have no metric ${JSON.stringify(metric)}${near ? ` (did you mean "${near}"?)` : ''}; metrics of these runs: ${names.join(', ')}`,
  );
}
