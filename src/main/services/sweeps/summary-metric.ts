/** The metric a sweep's summary shows unless told otherwise; apart from summary.ts, which loads the schema. */
export const DEFAULT_SWEEP_METRIC = 'sim.time_ns';
