/** Messages between the runner and its simulation worker. Plain data: they cross postMessage. */
import type { Experiment } from '../../../sim/config/experiment.js';
import type { Progress, RunResult, Series } from '../../../sim/result/types.js';

/** What the worker is started with (its `workerData`). */
export interface WorkerInput {
  /** The validated experiment, as `validateExperiment` returned it. */
  experiment: Experiment;
  /** Absolute path of the trace file for a trace workload; null otherwise. */
  tracePath: string | null;
  /** Least wall time between two progress messages. */
  progressIntervalMs: number;
  /** Least wall time between two copies of the series so far (null: never send them). */
  seriesIntervalMs: number | null;
}

export type WorkerMessage =
  | { type: 'progress'; progress: Progress }
  /** The result's series as recorded up to `simTimeNs`, for live charts. */
  | { type: 'series'; simTimeNs: number; series: Series[] }
  | { type: 'done'; result: RunResult }
  | {
      type: 'error';
      /** The error's class name: WorkloadError, TraceFormatError, ... (anything else is a bug). */
      name: string;
      message: string;
      stack: string | null;
    };
