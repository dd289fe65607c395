/** The schema of a CPU or device TLB: its geometry plus the hit latency in its owner's cycles. */
import { BOUND, num, obj } from '../schema/fields.js';
import { checkTlbGeometry, tlbGeometry } from './tlb.js';

/** A TLB of the CPU or the device: its geometry plus the hit latency in its owner's cycles. */
export function tlbWithLatency(what: string, entries: number, ways: number, hitCycles: number, source: string) {
  return obj(
    {
      ...tlbGeometry({ entries, ways }),
      hitLatencyCycles: num(`Lookup latency on a hit, in cycles of the owner's clock.`, {
        int: true,
        min: 0,
        ...BOUND.cycles,
      }).default(hitCycles),
    },
    `${what}. ${source}`,
  )
    .superRefine(checkTlbGeometry)
    .prefault({});
}
