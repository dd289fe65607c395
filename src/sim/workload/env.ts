import type { TraceSource } from './types.js';

/** What a workload builder may know about the run it is planned for. */
export interface WorkloadEnv {
  /** The experiment's seed; each generator derives its own named Rng streams from it. */
  seed: number;
  /** Device execution contexts (compute units x contexts per unit). */
  deviceContexts: number;
  /** CPU execution contexts (cores). */
  cpuContexts: number;
  /** The trace to replay, for the trace workload: the caller resolves `path` into it. */
  traceSource?: TraceSource;
}
