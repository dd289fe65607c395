import { z } from 'zod';
import { bool, obj } from '../../schema/fields.js';

export const explicitCopySchema = obj(
  {
    impl: z.literal('explicit-copy').describe('The strategy.'),
    skipCleanCopies: bool(
      'Copy a buffer only when the other side changed it since the last copy, as a careful programmer would (true); or copy every input before and every output after each kernel, and every buffer a CPU phase touches from the device before that phase (false).',
    ).default(true),
  },
  'Buffer objects in device memory; explicit copies before and after each kernel.',
);

export const hmmMirrorSchema = obj(
  {
    impl: z.literal('hmm-mirror').describe('The strategy.'),
  },
  'Device page table filled on device faults (hmm_range_fault); pages stay in system memory and are reached over the link; MMU interval notifiers invalidate device mappings when the CPU side changes.',
);

export const atsSvaSchema = obj(
  {
    impl: z.literal('ats-sva').describe('The strategy.'),
  },
  'Shared virtual addressing: the whole address space bound to the device (one PASID); no device page table; the device translates through the IOMMU with ATS and its ATC, and faults with PRI page requests that the kernel services like CPU faults. Needs hardware.iommu.mode "translate" and hardware.iommu.ats.enabled.',
);
