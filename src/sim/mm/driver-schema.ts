/** Host driver software costs: the parameters of the driver context's operations. */
import type { z } from 'zod';
import { BOUND, num, obj } from '../schema/fields.js';

export const driverSchema = obj(
  {
    perFaultNs: num(
      'Driver cost per unique fault in a batch (lookup of the VA range, locking, building the update), in ns. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(1000),
    perPageNs: num(
      'Driver cost per 4 KiB page that hmm_range_fault resolves for a device fault, beyond faulting it in: reading its PTE in one walk of the range and filling its entry of the result array, in ns. Default 50: assumption (a few cache misses).',
      { min: 0, ...BOUND.ns },
    ).default(50),
    dmaMapPerPageNs: num(
      "Cost of dma_map_page for one 4 KiB page when the IOMMU translates (an IOMMU page-table entry write and the page's share of the IOVA allocation, which per-CPU IOVA caches make cheap since Linux 4.7), in ns. Default 100: assumption.",
      { min: 0, ...BOUND.ns },
    ).default(100),
    perVaBlockNs: num(
      "Driver cost per 2 MiB VA block a fault batch services (the UVM driver's unit of bookkeeping: lock the block, look up its state, build one page-table update and one TLB invalidate for all its faults), in ns. Assumption: Allen and Ge's per-batch instrumentation of the UVM driver (SC'21) finds batch time growing with the VA blocks a batch touches, without a per-block figure to cite.",
      { min: 0, ...BOUND.ns },
    ).default(2000),
    ptUpdateBytes: num(
      "Bytes written over the link per 2 MiB VA block whose device page-table entries a batch changes: the method header of the update and its TLB invalidate (assumption); each changed entry adds 8 bytes, the size of a PTE in NVIDIA's MMU formats since Pascal (open-gpu-doc).",
      { int: true, min: 0, max: 4096, why: 'at most 4 KiB: the header of one page-table update is a few words' },
    ).default(64),
    invalidateNs: num(
      'Driver cost of one MMU-notifier invalidation callback (take the lock, clear device PTEs, issue the TLB shootdown), in ns, not counting the wait for the device. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(2000),
    shootdownNs: num(
      'Device TLB shootdown: from the invalidate command reaching the device to its acknowledgement, in ns. Assumption.',
      { min: 0, ...BOUND.ns },
    ).default(1000),
  },
  'Host driver software costs: fault service, DMA mapping and invalidation.',
).prefault({});

export type DriverConfig = z.output<typeof driverSchema>;
