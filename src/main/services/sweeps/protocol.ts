/** What a sweep point's simulation takes and gives back, locally (piscina) and over Redis (BullMQ). Plain data. */
import type { Experiment } from '../../../sim/config/experiment.js';
import type { StorableResult } from '../store/result-rows.js';

export interface PointTask {
  experiment: Experiment;
  /** Absolute path of a trace workload's file (on a cluster, it must be there on every worker). */
  tracePath: string | null;
}

export type PointOutcome =
  | {
      ok: true;
      /** Its timeline already JSON text (encodeTimeline), made in the pool thread. */
      result: StorableResult;
      /** The simulation's own time, in the thread. */
      wallMs: number;
    }
  | {
      ok: false;
      /** As it will be recorded in the run row. */
      error: string;
      wallMs: number;
    };
