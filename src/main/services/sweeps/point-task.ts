/**
 * One sweep point in a pool thread (piscina's worker module; compiled to point-task.js).
 * It never throws for a failing point: the outcome says what went wrong, so the pool goes
 * on with the other points.
 */
import { simulate } from '../../../sim/simulate.js';
import { openTraceFile, type TraceFile } from '../runner/trace-file.js';
import { encodeTimeline } from '../store/result-rows.js';
import type { PointOutcome, PointTask } from './protocol.js';

export default function runPoint(task: PointTask): PointOutcome {
  const started = performance.now();
  let trace: TraceFile | undefined;
  try {
    trace = task.tracePath === null ? undefined : openTraceFile(task.tracePath);
    const { timeline, ...result } = simulate(task.experiment, { traceSource: trace });
    const wallMs = performance.now() - started;
    return { ok: true, result: timeline ? { ...result, timeline: encodeTimeline(timeline) } : result, wallMs };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    // The model's own errors (WorkloadError, ...) read as they are; anything else is a bug.
    const expected = ['Error', 'WorkloadError', 'TraceFormatError', 'ConfigError', 'OpError'].includes(err.name);
    const error = expected ? err.message : `internal error in the simulator: ${err.name}: ${err.message}`;
    return { ok: false, error, wallMs: performance.now() - started };
  } finally {
    trace?.close();
  }
}
