import { z } from 'zod';
import { bool, obj, size } from '../../schema/fields.js';

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

export const hmmMigrateSchema = obj(
  {
    impl: z.literal('hmm-migrate').describe('The strategy.'),
    granularityBytes: size(
      'How much a device fault migrates: the aligned block around the faulting page, "4KiB", "64KiB" or "2MiB", clipped to the region. Default 2 MiB: amdgpu SVM\'s default migration granularity (amdgpu.svm_default_granularity 9, 512 pages; drivers/gpu/drm/amd/amdkfd/kfd_svm.c).',
    )
      .pipe(
        z.union([z.literal(4096), z.literal(65536), z.literal(2097152)], {
          error: (iss) => `${iss.input} bytes is not a migration granularity; use "4KiB", "64KiB" or "2MiB"`,
        }),
      )
      .default(2097152),
  },
  'Mirroring plus migration: a device fault migrates the block around the page to device-private memory (migrate_vma: collect, unmap with migration entries, copy, finalize); the CPU page table then holds device-private entries, and a CPU touch migrates the block back (migrate_to_ram). MAP_SHARED memory cannot migrate and is mirrored over the link, as are pages when device memory is full.',
);
