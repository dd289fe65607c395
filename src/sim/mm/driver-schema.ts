/** Host driver software costs: the parameters of the driver context's operations. */
import type { z } from 'zod';
import { num, obj } from '../schema/fields.js';

export const driverSchema = obj(
  {
    perFaultNs: num(
      'Driver cost per unique fault in a batch (lookup of the VA range, locking, building the update), in ns. Assumption.',
      { min: 0 },
    ).default(1000),
    perPageNs: num(
      'Driver cost per 4 KiB page that hmm_range_fault resolves for a device fault (CPU page-table walk, page reference), in ns. Assumption.',
      { min: 0 },
    ).default(150),
    dmaMapPerPageNs: num(
      'Cost of dma_map_page for one 4 KiB page (IOMMU page-table update when the IOMMU translates), in ns. Assumption.',
      { min: 0 },
    ).default(200),
    ptUpdateBytes: num(
      'Bytes written over the link to update device page-table entries for one fault (the PTE write and its TLB invalidate command).',
      { int: true, min: 0 },
    ).default(64),
    invalidateNs: num(
      'Driver cost of one MMU-notifier invalidation callback (take the lock, clear device PTEs, issue the TLB shootdown), in ns, not counting the wait for the device. Assumption.',
      { min: 0 },
    ).default(2000),
    shootdownNs: num(
      'Device TLB shootdown: from the invalidate command reaching the device to its acknowledgement, in ns. Assumption.',
      { min: 0 },
    ).default(1000),
  },
  'Host driver software costs: fault service, DMA mapping and invalidation.',
).prefault({});

export type DriverConfig = z.output<typeof driverSchema>;
