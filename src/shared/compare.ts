/**
 * Runs side by side as the compare view and `hetmem compare` both show them: chosen
 * metrics with each run's difference from the first, and the experiment fields that
 * differ. One implementation, so the app and the command line agree on every number.
 */
import type { Metrics } from '../sim/result/types.js';
import { differingPaths, flattenDocument, type Leaf } from './flatten.js';

/** A run as a comparison needs it. */
export interface ComparableRun {
  experiment: unknown;
  metrics: Metrics;
}

export interface MetricRow {
  name: string;
  unit: string;
  /** One per run, in order; null where a run has no such metric. */
  values: (number | null)[];
  /**
   * Per run, its difference from the first run in percent of the first's magnitude; null
   * for the first run, where either value is missing, or where the first is 0 or not finite.
   */
  percentFromFirst: (number | null)[];
}

/** `(value - base) / |base|` in percent, or null where that means nothing. */
export function percentDifference(value: number | null | undefined, base: number | null | undefined): number | null {
  if (value === null || value === undefined || base === null || base === undefined || base === 0) return null;
  const p = ((value - base) / Math.abs(base)) * 100;
  return Number.isFinite(p) ? p : null;
}

/** The chosen metrics of each run, with differences from the first. */
export function metricRows(runs: readonly ComparableRun[], names: readonly string[]): MetricRow[] {
  return names.map((name) => {
    const values = runs.map((r) => r.metrics[name]?.value ?? null);
    const unit = runs.map((r) => r.metrics[name]?.unit).find((u) => u !== undefined) ?? '';
    return {
      name,
      unit,
      values,
      percentFromFirst: values.map((v, i) => (i === 0 ? null : percentDifference(v, values[0]))),
    };
  });
}

export interface ExperimentDifferences {
  /** Each run's experiment, flattened to `path: leaf`. */
  flat: Record<string, Leaf>[];
  /** The paths whose values differ between the runs (see differingPaths). */
  paths: string[];
}

export function experimentDifferences(runs: readonly ComparableRun[]): ExperimentDifferences {
  const flat = runs.map((r) => flattenDocument(r.experiment));
  return { flat, paths: differingPaths(flat) };
}
