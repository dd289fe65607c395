/**
 * The bare loop: every stream of every phase pulled to its end with nothing else done.
 * The benchmark compares the simulator's throughput against it, and tests use it to
 * count what a plan emits.
 */
import { linesTouched } from './common.js';
import { newAccessRun, type WorkloadPlan } from './types.js';

export interface DrainTotals {
  runs: number;
  bytes: number;
  /** 64-byte lines the runs touch. */
  lines: number;
}

/**
 * Drains `plan`. A stream with `contexts: 0` ("all of them") gets the given number of
 * contexts for its agent (default 1); the totals do not depend on it, only the order.
 */
export function drainPlan(
  plan: WorkloadPlan,
  contexts: { device: number; cpu: number } = { device: 1, cpu: 1 },
): DrainTotals {
  const run = newAccessRun();
  let runs = 0;
  let bytes = 0;
  let lines = 0;
  for (const phase of plan.phases) {
    if (phase.kind !== 'streams') continue;
    for (const spec of phase.streams) {
      const count = spec.contexts > 0 ? spec.contexts : contexts[spec.agent];
      for (let i = 0; i < count; i++) {
        const stream = spec.create(i, count);
        while (stream.next(run)) {
          runs++;
          bytes += run.bytes;
          lines += linesTouched(run.offset, run.bytes);
        }
      }
    }
  }
  return { runs, bytes, lines };
}
