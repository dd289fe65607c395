/**
 * Helpers for tests of workloads (here and in the machine's tests): collect what a
 * stream emits, and check the contract every run must keep.
 */
import { newAccessRun, RUN_LIMIT_BYTES, type AccessRun, type StreamSpec, type WorkloadPlan } from './types.js';

/** Every run of context `index` of `count`, copied. */
export function collectRuns(spec: StreamSpec, index = 0, count = 1): AccessRun[] {
  const stream = spec.create(index, count);
  const run = newAccessRun();
  const out: AccessRun[] = [];
  while (stream.next(run)) out.push({ ...run });
  return out;
}

/** Every run of every context of `count`, in context order. */
export function collectAllRuns(spec: StreamSpec, count: number): AccessRun[] {
  const out: AccessRun[] = [];
  for (let i = 0; i < count; i++) out.push(...collectRuns(spec, i, count));
  return out;
}

/** Describes the first run of `plan` that breaks the run contract, or returns null. */
export function findBadRun(plan: WorkloadPlan, count = 3): string | null {
  for (const phase of plan.phases) {
    if (phase.kind !== 'streams') continue;
    for (const spec of phase.streams) {
      const n = spec.contexts > 0 ? spec.contexts : count;
      for (let i = 0; i < n; i++) {
        for (const r of collectRuns(spec, i, n)) {
          const region = plan.regions[r.region];
          const where = `${phase.label}: run ${JSON.stringify(r)}`;
          if (!region) return `${where} names no region`;
          if (!(r.bytes > 0) || r.offset < 0 || r.offset + r.bytes > region.sizeBytes)
            return `${where} is outside ${region.name}`;
          if (Math.floor(r.offset / RUN_LIMIT_BYTES) !== Math.floor((r.offset + r.bytes - 1) / RUN_LIMIT_BYTES))
            return `${where} crosses a 4 KiB boundary`;
          if (!Number.isInteger(r.computeCycles) || r.computeCycles < 0) return `${where} has bad computeCycles`;
          if (r.write ? !spec.writes.includes(r.region) : !spec.reads.includes(r.region))
            return `${where} is not in the stream's reads/writes`;
        }
      }
    }
  }
  return null;
}
