import type { WorkloadPlan } from './types.js';

/**
 * The host memory a plan needs at most: every region in full, touched or not, except a
 * MAP_SHARED file mapping, whose pages are its file's page-cache pages; and every file
 * whole, as the page cache holds it.
 */
export function planFootprint(plan: WorkloadPlan): number {
  let bytes = 0;
  for (const r of plan.regions) if (r.file === undefined || !r.shared) bytes += r.sizeBytes;
  for (const f of plan.files ?? []) bytes += f.sizeBytes;
  return bytes;
}

/** How the footprint is counted, for messages: nothing to add without files. */
export function footprintNote(plan: WorkloadPlan): string {
  return (plan.files?.length ?? 0) > 0 ? ' (its files counted whole, as the page cache holds them)' : '';
}
