/**
 * ats-sva: shared virtual addressing through the IOMMU (iommu_sva_bind_device), as the
 * SVA patches for Intel VT-d and Arm SMMUv3 do it. The whole address space is bound to
 * the device under one PASID; there is no device page table and nothing is DMA-mapped.
 * The device translates with ATS: its ATC caches what the IOMMU's walk of the CPU page
 * table returns (machine/ats-translation.ts). A page the CPU page table does not map for
 * the access has no translation: the device sends a PRI page request, which the IOMMU's
 * I/O page-fault handler services with handle_mm_fault (the handler's cost, no trap) after
 * `iommu.pri.pageRequestLatencyNs`, and the page response lets the device retry. CPU
 * page-table changes invalidate the IOTLB and the ATC through the IOMMU driver's MMU
 * notifier; the data stays in system memory.
 */
import type { z } from 'zod';
import type { Strategy } from './types.js';
import { createHmmMirror } from './hmm-mirror.js';
import type { atsSvaSchema } from './schema.js';

export function createAtsSva(_config: z.output<typeof atsSvaSchema>): Strategy {
  // The notifier hooks are hmm-mirror's (the driver turns them into IOTLB and ATC
  // invalidations under shared virtual addressing); faults are page requests.
  return {
    ...createHmmMirror(),
    name: 'ats-sva',
    translation: 'iommu',
    resolveDeviceFault(d, f, t) {
      const start = t + d.timing.pageRequest;
      const done = d.faultInPage(f.region, f.accessedPage, f.write, start);
      if (done < 0) f.error = done;
      else f.costPs = done - t;
    },
  };
}
