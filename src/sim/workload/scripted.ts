/**
 * scripted: a list of operations for exact scenarios, in the manner of the Linux kernel's
 * HMM selftests (tools/testing/selftests/mm/hmm-tests.c): map a region, protect it, touch
 * it from the CPU or the device, snapshot what the device sees, and say which error an
 * operation should fail with.
 *
 * Regions are named by their mmap op and referred to by name. Each mmap op adds one
 * region to the plan, in op order, and nothing is mapped before the first op
 * (`premapped` is empty); files are named by the ops that use them (scripted-files.ts).
 * Host operations (mmap, munmap, mprotect, snapshot, file I/O) become
 * 'host' phases; accesses become 'streams' phases with one stream: a CPU op runs on one
 * core, a device op on all device contexts, the range cut into 4 KiB chunks dealt
 * grid-stride. Every phase carries its op's index, and the op's `expect` (when it is not
 * "ok") as the phase's expectError.
 */
import { z } from 'zod';
import { bool, closest, listText, num, obj, oneOf, size } from '../schema/fields.js';
import { computeCyclesPerLineField, shareOf, sweepSpec } from './common.js';
import { adviceFields } from './advice.js';
import type { WorkloadEnv } from './env.js';
import { FileChecks, scriptFiles } from './scripted-files.js';
import { GatherStream, gatherLayout, type GatherParams } from './gather.js';
import { TO_HOST, type HostOp, type Phase, type RegionSpec, type StreamSpec, type WorkloadPlan } from './types.js';

const expect = oneOf(
  ['ok', 'EFAULT', 'EPERM', 'EINVAL', 'EBUSY', 'ENOMEM', 'ENOENT', 'SIGSEGV', 'SIGBUS', 'EREMOTEIO'],
  'an expected outcome',
  'What the operation should do: "ok", or the error it should fail with (EFAULT: no valid mapping, e.g. a device read of PROT_NONE memory; EPERM: a write to a read-only mapping; EINVAL: an invalid range; EBUSY: pages held elsewhere; ENOMEM: no device memory for a buffer object, or mprotect of an unmapped range; ENOENT: a migrate op that could move no page, e.g. of MAP_SHARED memory; SIGSEGV: a CPU touch of an unmapped or PROT_NONE page; SIGBUS: a CPU touch of memory pinned to the device; EREMOTEIO: no peer-to-peer route between two devices). The run reports each op whose outcome differs.',
).default('ok');

const region = z
  .string({ error: 'expected the name of a region mapped by an earlier mmap op' })
  .min(1, 'give the name of a region mapped by an earlier mmap op')
  .max(64, 'a region name has at most 64 characters')
  .describe('Name of the region, as given by an earlier mmap op.');

const offsetBytes = size('Start of the range, in bytes from the start of the region.').default(0);
const sizeBytes = size('Length of the range, in bytes; default: from offsetBytes to the end of the region.').optional();

const withPrevious = bool(
  "Run this access at the same time as the previous op (which must be an access or dev.compute), in one phase: a CPU writer beside a device reader, so notifier invalidations race with the device's in-flight faults. At most one device op per group.",
).default(false);

const device = num(
  'Index of the device that runs this device op (0 is the first of hardware.devices); default: all devices, each taking its share of the range.',
  { int: true, min: 0, max: 14 },
).optional();

const prot = (description: string) => oneOf(['none', 'read', 'read-write'], 'a protection', description);

const fileName = (description: string) =>
  z
    .string({ error: 'expected the name of a file' })
    .min(1, 'give the name of a file')
    .max(64, 'a file name has at most 64 characters')
    .describe(description);

export const mmapOpSchema = obj(
  {
    op: z.literal('mmap').describe('The operation.'),
    name: z
      .string({ error: 'expected a name for the region' })
      .min(1, 'give the region a name')
      .max(64, 'a region name has at most 64 characters')
      .describe('Name of the new region; later ops refer to it by this name. Each mmap op needs its own name.'),
    sizeBytes: size('Size of the region, in bytes (or "64KiB"); rounded up to 4 KiB pages.', { min: 1 }),
    prot: prot('Protection: "none" (PROT_NONE), "read" (PROT_READ) or "read-write" (PROT_READ | PROT_WRITE).').default(
      'read-write',
    ),
    shared: bool(
      'MAP_SHARED (true) or MAP_PRIVATE (false). Shared anonymous memory cannot migrate to device-private memory. With `file`: MAP_SHARED maps the page-cache pages themselves (a write, by the CPU or a device, dirties them in place; msync or fsync writes them back; they never migrate), MAP_PRIVATE reads the page cache and copies a page into anonymous memory on its first write (only such copies migrate).',
    ).default(false),
    file: fileName(
      "Map this file instead of anonymous memory (the kernel selftests' hmm_create_file, then mmap of its descriptor). A file is created empty by the first op that names it and is extended to cover every mapping and write of it (ftruncate), so no access lies past its end; its contents (its page-cache pages, with their dirty state) persist across munmap and a later mmap of the same name. The whole file is held in the page cache: file faults are minor faults.",
    ).optional(),
    fileOffsetBytes: size(
      "With `file`: the offset in the file of the region's first byte, a multiple of 4 KiB (mmap's offset). Default 0.",
    ).optional(),
    hugetlbPageBytes: size(
      'MAP_HUGETLB with MAP_HUGE_2MB ("2MiB") or MAP_HUGE_1GB ("1GiB"): anonymous memory from the hugetlb pool (hardware.cpu.memory.hugetlbPool) instead of base pages. sizeBytes rounds up to whole huge pages and the mmap reserves them (ENOMEM when the pool cannot hold them); the first touch of a huge page, read or write, takes it from the pool zeroed whole (no zero page) and the CPU maps it with one PMD (2 MiB) or PUD (1 GiB) entry, never split. munmap, mprotect and madvise need a huge-page-aligned start, and munmap and mprotect a range that ends on a huge page boundary (EINVAL otherwise, as hugetlb_vm_op_split refuses to split the VMA there); madvise(DONTNEED) leaves out a huge page the range ends in. The pages never migrate (migrate_vma_setup refuses a hugetlb VMA: EINVAL), and devices mirror them in place. Default: base pages.',
    )
      .pipe(
        z.union([z.literal(2097152), z.literal(1073741824)], {
          error: (iss) =>
            `${iss.input} bytes is not a hugetlb page size; use "2MiB" (MAP_HUGE_2MB) or "1GiB" (MAP_HUGE_1GB)`,
        }),
      )
      .optional(),
    expect,
  },
  'mmap: map a new region of anonymous memory (of base pages, or with `hugetlbPageBytes` of hugetlb pages), or of a file (`file`).',
);

export const fileWriteOpSchema = obj(
  {
    op: z.literal('file.write').describe('The operation.'),
    file: fileName('Name of the file written; the first op that names a file creates it.'),
    offsetBytes: size('Where the write starts, in bytes from the start of the file.').default(0),
    sizeBytes: size('Bytes written; the file grows to cover them.', { min: 1 }),
    expect,
  },
  'file.write: write(2) (pwrite at offsetBytes) of a user buffer outside the modelled regions into a file: the data is copied into its page-cache pages (hardware.cpu.pageCache: syscallNs, copyPerPageNs per page), which become dirty. No page-table entry changes: every mapping of those pages, and every device mirroring them, sees the new data (a MAP_PRIVATE page a write already copied keeps its copy).',
);

export const fileReadOpSchema = obj(
  {
    op: z.literal('file.read').describe('The operation.'),
    file: fileName('Name of a file created by an earlier op (an mmap with `file`, or file.write).'),
    offsetBytes: size('Where the read starts, in bytes from the start of the file.').default(0),
    sizeBytes: size('Bytes read; default: from offsetBytes to the end of the file.').optional(),
    expect,
  },
  'file.read: read(2) (pread at offsetBytes) of a file into a user buffer outside the modelled regions: the data comes from the page cache (hardware.cpu.pageCache: syscallNs, copyPerPageNs per page), so it is what the last write(2), or write through a MAP_SHARED mapping by the CPU or a device, put there, written back or not.',
);

export const msyncOpSchema = obj(
  {
    op: z.literal('msync').describe('The operation.'),
    region: z
      .string({ error: 'expected the name of a region mapped from a file by an earlier mmap op' })
      .min(1, 'give the name of a region mapped from a file by an earlier mmap op')
      .max(64, 'a region name has at most 64 characters')
      .describe('Name of a region mapped from a file (an mmap op with `file`).'),
    offsetBytes,
    sizeBytes,
    expect,
  },
  'msync: msync(MS_SYNC) of a range of a region mapped from a file (default: all of it). For MAP_SHARED, the dirty page-cache pages of the file range it maps are written back (hardware.cpu.pageCache.writebackPerPageNs each): first every writable entry of them is write-protected, with the MMU notifier (devices drop their mappings), so the next CPU or device write faults and dirties the page again. A MAP_PRIVATE mapping has nothing to write back: its changes are anonymous copies. ENOMEM if the range has unmapped pages.',
);

export const fsyncOpSchema = obj(
  {
    op: z.literal('fsync').describe('The operation.'),
    file: fileName('Name of a file created by an earlier op (an mmap with `file`, or file.write).'),
    expect,
  },
  'fsync: writeback of every dirty page-cache page of a file, however it was dirtied (write(2), or writes through any MAP_SHARED mapping of it), as msync does for a range.',
);

/** A host operation that may run while the previous op's accesses are under way. */
const duringPrevious = {
  withPrevious: bool(
    "Run this operation while the previous op (an access or dev.compute) runs, `afterNs` after its accesses start: a CPU thread unmapping or protecting a buffer while the device reads it, as the HMM selftests' anon_teardown does. The notifier then races with the device's in-flight faults and accesses. One such operation per group.",
  ).default(false),
  afterNs: num('With withPrevious: how long after the accesses start the operation runs, in ns.', {
    min: 0,
    max: 1e12,
  }).default(0),
};

export const munmapOpSchema = obj(
  { op: z.literal('munmap').describe('The operation.'), region, offsetBytes, sizeBytes, ...duringPrevious, expect },
  'munmap: unmap a range of a region (default: all of it).',
);

export const mprotectOpSchema = obj(
  {
    op: z.literal('mprotect').describe('The operation.'),
    region,
    prot: prot('The new protection of the range: "none", "read" or "read-write".'),
    offsetBytes,
    sizeBytes,
    ...duringPrevious,
    expect,
  },
  'mprotect: change the protection of a range of a region (default: all of it).',
);

export const accessOpSchema = obj(
  {
    op: oneOf(
      ['cpu.read', 'cpu.write', 'dev.read', 'dev.write'],
      'an access',
      'Who touches the range and how: the CPU (one core) or the device (all contexts), reading or writing.',
    ),
    region,
    offsetBytes,
    sizeBytes,
    withPrevious,
    device,
    expect,
  },
  "cpu.read, cpu.write, dev.read, dev.write: touch every byte of a range of a region (default: all of it), like the HMM test driver's READ and WRITE.",
);

export const computeOpSchema = obj(
  {
    op: z.literal('dev.compute').describe('The operation.'),
    region,
    generator: oneOf(
      ['stream', 'gather'],
      'a generator',
      '"stream": every device context reads then writes its 4 KiB chunks of the range, grid-stride, `iterations` times. "gather": random reads of `elementBytes` elements of the range, `accesses` in total.',
    ),
    iterations: num('Passes over the range (generator "stream").', { int: true, min: 1, max: 100_000 }).default(1),
    accesses: num('Element reads in total (generator "gather").', { int: true, min: 1, max: 2 ** 40 }).default(100_000),
    elementBytes: size('Bytes per element (generator "gather"); a power of two up to 4 KiB.', {
      min: 1,
      max: 4096,
      powerOfTwo: true,
    }).default(8),
    distribution: oneOf(
      ['uniform', 'zipf'],
      'a distribution',
      'Which elements are read (generator "gather"): "uniform" or "zipf" (hot elements scattered over the range).',
    ).default('uniform'),
    zipfS: num('Zipf exponent s (distribution "zipf").', { gt: 0, max: 10 }).default(0.99),
    computeCyclesPerLine: computeCyclesPerLineField(0, 'Default none: scripted scenarios are about memory behaviour.'),
    offsetBytes,
    sizeBytes,
    withPrevious,
    device,
    expect,
  },
  'dev.compute: a device kernel over a range of a region (default: all of it), made by the stream or gather generator.',
);

const oneDevice = (what: string) =>
  num(`Index of the device ${what} (0 is the first of hardware.devices).`, { int: true, min: 0, max: 14 }).default(0);

export const snapshotOpSchema = obj(
  {
    op: z.literal('snapshot').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    device: oneDevice(
      'whose view the snapshot takes: its device-private pages are "device-private", another device\'s "device-private-remote"',
    ),
    expect,
  },
  'snapshot: record each page of a range (default: the whole region) as hmm_range_fault sees it without faulting, like the HMM test driver\'s SNAPSHOT: "error" (unmapped or PROT_NONE), "none" (no entry yet), "zero", "read", "write", "device-private" (in this device\'s memory), "device-private-remote", "device-coherent", "device-coherent-remote", "device-exclusive", "pinned" (pinned in device memory); a "-pmd" suffix marks a page mapped by a 2 MiB entry (a transparent huge page, or a 2 MiB hugetlb page), "-pud" one mapped by a 1 GiB entry (a 1 GiB hugetlb page).',
);

export const forkOpSchema = obj(
  { op: z.literal('fork').describe('The operation.'), expect },
  "fork: the process forks a child that shares every private page copy-on-write (present pages and device-private entries become write-protected in both, device-exclusive entries are revoked, the notifier invalidates the devices' mappings); a later write by the parent, from the CPU or a device, copies the page (a device-private page comes back first). MAP_SHARED memory stays shared. The child runs nothing.",
);

export const madviseOpSchema = obj(
  {
    op: z.literal('madvise').describe('The operation.'),
    region,
    advice: oneOf(['dontneed'], 'an advice', '"dontneed" (MADV_DONTNEED): drop the pages.').default('dontneed'),
    offsetBytes,
    sizeBytes,
    ...duringPrevious,
    expect,
  },
  'madvise: MADV_DONTNEED over a range of a region (default: all of it): the notifier runs, the pages and their device frames are freed, the range stays mapped and the next touch faults in a zero page. ENOMEM if the range has unmapped pages.',
);

export const mremapOpSchema = obj(
  {
    op: z.literal('mremap').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    name: z
      .string({ error: 'expected a name for the region the range moves to' })
      .min(1, 'give the new region a name')
      .max(64, 'a region name has at most 64 characters')
      .describe('Name of the new region the range moves to; later ops refer to it by this name.'),
    dontUnmap: bool(
      'MREMAP_DONTUNMAP: the old range stays mapped, empty (its next touch faults in a zero page).',
    ).default(false),
    expect,
  },
  'mremap: move a range of a region (default: all of it) to a new region (MREMAP_MAYMOVE | MREMAP_FIXED): the notifier runs for the old range, and every page moves with its state, device-private pages with their data still in device memory.',
);

export const exclusiveOpSchema = obj(
  {
    op: z.literal('exclusive').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    device: oneDevice('that gets exclusive access'),
    expect,
  },
  "exclusive: make_device_exclusive over a range (default: the whole region), like the HMM test driver's EXCLUSIVE: each page is faulted in writable, its CPU entry becomes a device-exclusive entry and the device maps it read-write for its atomics. A CPU touch, fork or another device's fault revokes it; after mprotect to read-only the device's write fails with EPERM. EFAULT if a page is unmapped or not writable.",
);

export const atomicOpSchema = obj(
  {
    op: z.literal('dev.atomic').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    device: oneDevice('that runs the atomics'),
    expect,
  },
  'dev.atomic: the device does an atomic read-modify-write on every 4 KiB chunk of a range (default: the whole region). Over a link that cannot carry atomics to system memory (PCIe without AtomicOps: hardware.link.atomicOps false) the driver takes exclusive access first, as the exclusive op does; over a coherent link or PCIe with AtomicOps the atomics go straight over the link.',
);

export const pinOpSchema = obj(
  {
    op: z.literal('pin').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    target: oneOf(
      ['device', 'host'],
      'a pin target',
      '"device": migrate the range to the device\'s memory and pin it there (a CPU touch is then SIGBUS; the release op unpins it); "host": a long-term pin in system memory (pin_user_pages with FOLL_LONGTERM): a device-private or device-coherent page migrates back first, and pinned pages never migrate.',
    ).default('device'),
    device: oneDevice('to pin to (target "device")'),
    expect,
  },
  'pin: pin a range of a region (default: all of it) in device memory or, long-term, in system memory. EBUSY if some pages could not move to the device (MAP_SHARED, device memory full).',
);

export const releaseOpSchema = obj(
  { op: z.literal('release').describe('The operation.'), device: oneDevice('whose memory is released'), expect },
  "release: evict a device's memory, like the HMM test driver's RELEASE: every device-private or device-coherent page on it (pinned ones too) migrates back to system memory.",
);

export const migrateOpSchema = obj(
  {
    op: z.literal('migrate').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    to: oneOf(
      ['device', 'host'],
      'a migration target',
      'Where the range goes: "device" (default), the memory of `device` (0 unless given); "host", system memory (from whichever device holds each page).',
    ).default('device'),
    device,
    failHugeAlloc: bool(
      'Inject a failure of the migration\'s first huge page allocation, as the HMM test driver\'s HMM_DMIRROR_FLAG_FAIL_ALLOC does (in device memory, or in system memory with to "host"): the first transparent huge page the op would move whole is split and moves as 512 4 KiB pages, so it is mapped by 4 KiB entries where it lands. Without a THP moving whole the injection has no effect (the driver would keep the flag for a later allocation; the model drops it).',
    ).optional(),
    expect,
  },
  "migrate: move a range of a region (default: all of it) to a device's memory and map it there, like the HMM test driver's MIGRATE (migrate_vma), or back to system memory (`to: \"host\"`); only strategies that migrate accept it (hmm-migrate, coherent; gmem, where it is an explicit prefetch). Pages already there stay; MAP_SHARED pages cannot move to a device, and a range with none that could fails with ENOENT, as the kernel's selftests expect.",
);

export const prefetchOpSchema = obj(
  {
    op: z.literal('prefetch').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    to: oneOf(
      ['device', 'host'],
      'a prefetch target',
      'Where the range goes: "device" (default), the memory of `device` (0 unless given); "host", system memory.',
    ).default('device'),
    device,
    expect,
  },
  "prefetch: move a range of a region (default: all of it) ahead of its use, as cudaMemPrefetchAsync or GMEM's hmadvise prefetch do: the migrate op's migration, except that a range already where it should be (or that cannot move) is not an error. Only strategies that migrate accept it (hmm-migrate, coherent, gmem).",
);

export const adviseOpSchema = obj(
  {
    op: z.literal('advise').describe('The operation.'),
    region,
    preferredLocation: adviceFields.preferredLocation.optional(),
    accessedBy: adviceFields.accessedBy.optional(),
    readMostly: adviceFields.readMostly.optional(),
    expect,
  },
  "advise: change the memory advice of a whole region (hmadvise / cudaMemAdvise); only the fields given change. Only strategies that take advice accept it (gmem). Advice changes what later faults do; it moves no page by itself. Devices given accessed-by advice (and the old preferred location, when it changes and is accessed-by) map the region's resident pages where they are, if they can access them, in the op's time (cudaMemAdvise: the NVIDIA UVM driver's uvm_va_block_set_accessed_by); taking accessed-by back unmaps nothing.",
);

export const p2pMapOpSchema = obj(
  {
    op: z.literal('p2p.map').describe('The operation.'),
    region,
    offsetBytes,
    sizeBytes,
    device: oneDevice('that maps the pages'),
    expect,
  },
  "p2p.map: the device maps the pages of a range (default: the whole region) that live in another device's memory peer to peer (migrate them there first): its accesses then go to that device's memory across the PCIe switch, or through the root complex and the IOMMU (hardware.pcieSwitch, hardware.peerToPeer). The mappings last until the CPU side changes (munmap, mprotect, migration), when the notifier tears them down before the memory goes. ENOENT if no page of the range is in another device's memory; EREMOTEIO if there is no peer-to-peer route between the devices.",
);

export const scriptOpSchema = z
  .discriminatedUnion('op', [
    mmapOpSchema,
    munmapOpSchema,
    mprotectOpSchema,
    accessOpSchema,
    computeOpSchema,
    snapshotOpSchema,
    migrateOpSchema,
    forkOpSchema,
    madviseOpSchema,
    mremapOpSchema,
    exclusiveOpSchema,
    atomicOpSchema,
    pinOpSchema,
    releaseOpSchema,
    adviseOpSchema,
    prefetchOpSchema,
    p2pMapOpSchema,
    fileWriteOpSchema,
    fileReadOpSchema,
    msyncOpSchema,
    fsyncOpSchema,
  ])
  .describe('One operation of the script.');

export type ScriptOp = z.output<typeof scriptOpSchema>;

export const scriptedSchema = obj(
  {
    impl: z.literal('scripted').describe('The workload generator.'),
    ops: z
      .array(scriptOpSchema)
      .min(1, 'give at least one operation')
      .describe(
        'The operations, run one after another; regions are referred to by the names their mmap ops give them.',
      ),
  },
  "A list of operations for exact scenarios, like the Linux kernel's HMM selftests: mmap (of anonymous memory or of a file), munmap, mprotect, madvise, mremap, fork, memory advice, CPU and device reads, writes and atomics, device kernels, migration and prefetch, peer-to-peer mapping, exclusive access, pinning, release, snapshots, and file I/O (file.write, file.read, msync, fsync), each with the outcome it should have.",
);

export type ScriptedConfig = z.output<typeof scriptedSchema>;

/** A problem with a script: a path relative to the ops array, and a sentence. */
export interface ScriptIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Checks what the schema cannot: every region name refers to an earlier mmap op, names
 * are not mapped twice, and ranges lie inside their region.
 */
/** A snapshot records each page's state in the result; this keeps a result storable. */
export const MAX_SNAPSHOT_PAGES = 1 << 16;

/** Problems that get a "did you mean" suggestion; validation shows no more than this. */
const MAX_SUGGESTIONS = 50;

export function checkScript(ops: readonly ScriptOp[]): ScriptIssue[] {
  const issues: ScriptIssue[] = [];
  const firstMmap = new Map<string, number>();
  ops.forEach((op, i) => {
    if ((op.op === 'mmap' || op.op === 'mremap') && !firstMmap.has(op.name)) firstMmap.set(op.name, i);
  });
  const sizes = new Map<string, number>();
  /** Huge page size of each hugetlb region (mremap's new region inherits it). */
  const hugetlb = new Map<string, number>();
  const files = new FileChecks(ops, issues);
  let groupHasDevice = false;
  ops.forEach((op, i) => {
    const what = `op ${i} (${op.op})`;
    const access = isAccess(op);
    if (isConcurrentHostOp(op) && op.withPrevious) {
      const prev = ops[i - 1];
      if (prev === undefined || !isAccess(prev)) {
        issues.push({
          path: [i, 'withPrevious'],
          message: `${what}: withPrevious runs it during the previous op, which must be an access or dev.compute`,
        });
      }
    }
    if (access && op.withPrevious) {
      const prev = ops[i - 1];
      if (prev === undefined || !isAccess(prev)) {
        issues.push({
          path: [i, 'withPrevious'],
          message: `${what}: withPrevious joins the previous op, which must be an access or dev.compute`,
        });
      } else if (groupHasDevice && op.op.startsWith('dev.')) {
        issues.push({
          path: [i, 'withPrevious'],
          message: `${what}: a group of concurrent ops may have one device op; run this one after the group`,
        });
      }
    }
    if (access) groupHasDevice = (op.withPrevious && groupHasDevice) || op.op.startsWith('dev.');
    if (op.op === 'mmap') {
      if (op.hugetlbPageBytes !== undefined && op.file !== undefined) {
        issues.push({
          path: [i, 'hugetlbPageBytes'],
          message: `${what}: MAP_HUGETLB maps anonymous memory; remove hugetlbPageBytes or file (hugetlbfs files are not modelled)`,
        });
      }
      if (sizes.has(op.name)) {
        issues.push({
          path: [i, 'name'],
          message: `${what}: region "${op.name}" is already mapped by op ${firstMmap.get(op.name)}; give each mmap its own name`,
        });
      } else sizes.set(op.name, mappedBytes(op));
      if (op.hugetlbPageBytes !== undefined) hugetlb.set(op.name, op.hugetlbPageBytes);
      files.mmap(op, i, what);
      return;
    }
    if (op.op === 'fork' || op.op === 'release') return;
    if (op.op === 'file.write' || op.op === 'file.read' || op.op === 'fsync') return files.fileOp(op, i, what);
    const regionBytes = sizes.get(op.region);
    if (regionBytes === undefined) {
      const shown: string[] = [];
      for (const n of sizes.keys()) if (shown.push(`"${n}"`) === 9) break;
      const valid =
        sizes.size > 0
          ? `regions mapped before it: ${listText(shown, sizes.size)}`
          : 'no region is mapped before it; add an mmap op first';
      const later = firstMmap.get(op.region);
      // Only the first problems are shown (MAX_ISSUES): a hostile script of thousands of
      // unknown regions must not cost thousands of nearest-name searches.
      const near = issues.length < MAX_SUGGESTIONS ? closest(op.region, [...sizes.keys()]) : undefined;
      issues.push({
        path: [i, 'region'],
        message:
          later !== undefined
            ? `${what} uses region "${op.region}" before op ${later} maps it; ${valid}`
            : `${what}: no region named "${op.region}"; ${valid}${near ? ` (did you mean "${near}"?)` : ''}`,
      });
      return;
    }
    if (op.op === 'advise') return; // advice is for the whole region
    if (op.op === 'msync') files.msync(op, i, what);
    const offset = op.offsetBytes;
    if (offset > regionBytes) {
      issues.push({
        path: [i, 'offsetBytes'],
        message: `${what}: offsetBytes ${offset} is past the end of region "${op.region}" (${regionBytes} bytes)`,
      });
      return;
    }
    if (op.sizeBytes !== undefined && offset + op.sizeBytes > regionBytes) {
      issues.push({
        path: [i, 'sizeBytes'],
        message: `${what}: ${op.sizeBytes} bytes from offset ${offset} run past the end of region "${op.region}" (${regionBytes} bytes); use at most ${regionBytes - offset}`,
      });
      return;
    }
    if (op.op === 'mremap') {
      if (sizes.has(op.name)) {
        issues.push({
          path: [i, 'name'],
          message: `${what}: region "${op.name}" is already mapped by op ${firstMmap.get(op.name)}; give the new region its own name`,
        });
      } else sizes.set(op.name, roundUp(op.sizeBytes ?? regionBytes - offset, hugetlb.get(op.region) ?? 1));
      const huge = hugetlb.get(op.region);
      if (huge !== undefined) hugetlb.set(op.name, huge);
      files.mremap(op);
    }
    const pages = Math.ceil((op.sizeBytes ?? regionBytes - offset) / 4096);
    if (op.op === 'snapshot' && pages > MAX_SNAPSHOT_PAGES) {
      issues.push({
        path: [i, 'sizeBytes'],
        message: `${what}: a snapshot of ${pages} pages is too large to store in a result; snapshot at most ${MAX_SNAPSHOT_PAGES} pages (${MAX_SNAPSHOT_PAGES / 256} MiB) at a time`,
      });
      return;
    }
    if (op.op === 'dev.compute' && op.generator === 'gather') {
      const range = op.sizeBytes ?? regionBytes - offset;
      if (offset % op.elementBytes !== 0) {
        issues.push({
          path: [i, 'offsetBytes'],
          message: `${what}: offsetBytes ${offset} is not a multiple of elementBytes ${op.elementBytes}, so elements could straddle pages; align it`,
        });
      } else if (range < op.elementBytes) {
        issues.push({
          path: [i, 'sizeBytes'],
          message: `${what}: the range of ${range} bytes holds no element of ${op.elementBytes} bytes; make it larger`,
        });
      }
    }
  });
  return issues;
}

/** The bytes an mmap op maps: MAP_HUGETLB rounds the length up to whole huge pages (ksys_mmap_pgoff). */
function mappedBytes(op: Extract<ScriptOp, { op: 'mmap' }>): number {
  return roundUp(op.sizeBytes, op.hugetlbPageBytes ?? 1);
}

function roundUp(bytes: number, unit: number): number {
  return Math.ceil(bytes / unit) * unit;
}

/** The host operations that may run during an access phase (withPrevious). */
function isConcurrentHostOp(op: ScriptOp): op is Extract<ScriptOp, { op: 'munmap' | 'mprotect' | 'madvise' }> {
  return op.op === 'munmap' || op.op === 'mprotect' || op.op === 'madvise';
}

function isAccess(
  op: ScriptOp,
): op is Extract<ScriptOp, { op: 'cpu.read' | 'cpu.write' | 'dev.read' | 'dev.write' | 'dev.compute' }> {
  return (
    op.op === 'cpu.read' ||
    op.op === 'cpu.write' ||
    op.op === 'dev.read' ||
    op.op === 'dev.write' ||
    op.op === 'dev.compute'
  );
}

export function buildScripted(config: ScriptedConfig, env: WorkloadEnv): WorkloadPlan {
  const issues = checkScript(config.ops);
  if (issues.length > 0) throw new Error(`invalid script:\n${issues.map((i) => i.message).join('\n')}`);
  const regions: RegionSpec[] = [];
  const byName = new Map<string, number>();
  const phases: Phase[] = [];
  const opNames: string[] = [];
  const files = scriptFiles(config.ops);
  const fileIndex = new Map(files.map((f, index) => [f.name, index]));

  config.ops.forEach((op, i) => {
    const tags = { opIndex: i, ...(op.expect !== 'ok' ? { expectError: op.expect } : {}) };
    if (op.op === 'mmap') {
      const index = regions.length;
      const file =
        op.file === undefined ? {} : { file: { index: fileIndex.get(op.file)!, offsetBytes: op.fileOffsetBytes ?? 0 } };
      const huge = op.hugetlbPageBytes === undefined ? {} : { hugetlbPageBytes: op.hugetlbPageBytes };
      regions.push({ name: op.name, sizeBytes: mappedBytes(op), prot: op.prot, shared: op.shared, ...file, ...huge });
      byName.set(op.name, index);
      const name = `mmap ${op.name}`;
      opNames.push(name);
      phases.push({ kind: 'host', label: `op ${i}: ${name}`, host: { op: 'mmap', region: index }, ...tags });
      return;
    }
    if (op.op === 'file.write' || op.op === 'file.read' || op.op === 'fsync') {
      const file = fileIndex.get(op.file)!;
      const bytes = op.op === 'fsync' ? 0 : (op.sizeBytes ?? files[file].sizeBytes - op.offsetBytes);
      const name =
        op.op === 'fsync' ? `fsync ${op.file}` : `${op.op} ${op.file}[${op.offsetBytes}, ${op.offsetBytes + bytes})`;
      opNames.push(name);
      const host: HostOp =
        op.op === 'fsync' ? { op: 'fsync', file } : { op: op.op, file, offset: op.offsetBytes, bytes };
      phases.push({ kind: 'host', label: `op ${i}: ${name}`, host, ...tags });
      return;
    }
    if (op.op === 'fork' || op.op === 'release') {
      const name = op.op === 'fork' ? 'fork' : `release device ${op.device}`;
      opNames.push(name);
      const host: HostOp = op.op === 'fork' ? { op: 'fork' } : { op: 'release', device: op.device };
      phases.push({ kind: 'host', label: `op ${i}: ${name}`, host, ...tags });
      return;
    }
    const r = byName.get(op.region) as number;
    if (op.op === 'advise') {
      const name = `advise ${op.region}`;
      opNames.push(name);
      const advice = { preferredLocation: op.preferredLocation, accessedBy: op.accessedBy, readMostly: op.readMostly };
      phases.push({ kind: 'host', label: `op ${i}: ${name}`, host: { op: 'advise', region: r, advice }, ...tags });
      return;
    }
    const regionBytes = regions[r].sizeBytes;
    const offset = op.offsetBytes;
    const bytes = op.sizeBytes ?? regionBytes - offset;
    const range = offset === 0 && bytes === regionBytes ? op.region : `${op.region}[${offset}, ${offset + bytes})`;
    const name = op.op === 'dev.compute' ? `dev.compute ${range} (${op.generator})` : `${op.op} ${range}`;
    opNames.push(name);
    const label = `op ${i}: ${name}`;
    switch (op.op) {
      case 'munmap':
        hostPhase(phases, op, label, tags, { op: op.op, region: r, offset, bytes });
        return;
      case 'msync':
        phases.push({ kind: 'host', label, host: { op: op.op, region: r, offset, bytes }, ...tags });
        return;
      case 'mprotect':
        hostPhase(phases, op, label, tags, { op: 'mprotect', region: r, offset, bytes, prot: op.prot });
        return;
      case 'snapshot':
        phases.push({
          kind: 'host',
          label,
          host: { op: 'snapshot', region: r, offset, bytes, device: op.device },
          ...tags,
        });
        return;
      case 'madvise':
        hostPhase(phases, op, label, tags, { op: 'madvise', region: r, offset, bytes, advice: op.advice });
        return;
      case 'mremap': {
        const to = regions.length;
        const from = regions[r];
        // The moved range maps the same part of the file as before.
        const file =
          from.file === undefined ? {} : { file: { ...from.file, offsetBytes: from.file.offsetBytes + offset } };
        // A hugetlb range moves in whole huge pages (mremap aligns its lengths up to them).
        const huge = from.hugetlbPageBytes === undefined ? {} : { hugetlbPageBytes: from.hugetlbPageBytes };
        const moved = roundUp(bytes, from.hugetlbPageBytes ?? 1);
        regions.push({ name: op.name, sizeBytes: moved, prot: from.prot, shared: from.shared, ...file, ...huge });
        byName.set(op.name, to);
        const host: HostOp = { op: 'mremap', region: r, offset, bytes, to, keepOld: op.dontUnmap };
        phases.push({ kind: 'host', label: `${label} to ${op.name}`, host, ...tags });
        return;
      }
      case 'p2p.map':
        phases.push({
          kind: 'host',
          label,
          host: { op: 'p2p.map', region: r, offset, bytes, device: op.device },
          ...tags,
        });
        return;
      case 'exclusive':
      case 'pin': {
        const host: HostOp =
          op.op === 'pin'
            ? { op: 'pin', region: r, offset, bytes, target: op.target, device: op.device }
            : { op: 'exclusive', region: r, offset, bytes, device: op.device, ifNoAtomics: false };
        phases.push({ kind: 'host', label, host, ...tags });
        return;
      }
      case 'dev.atomic': {
        const stream = sweepSpec({
          agent: 'device',
          contexts: 0,
          steps: [{ region: r, write: true }],
          start: offset,
          end: offset + bytes,
          cyclesPerLine: 0,
        });
        phases.push({
          kind: 'streams',
          label,
          streams: [{ ...stream, device: op.device }],
          prepare: { op: 'exclusive', region: r, offset, bytes, device: op.device, ifNoAtomics: true },
          ...tags,
        });
        return;
      }
      case 'migrate':
      case 'prefetch': {
        const device = op.to === 'host' ? TO_HOST : (op.device ?? 0);
        const failHugeAlloc = op.op === 'migrate' && op.failHugeAlloc === true ? { failHugeAlloc: true } : {};
        const host: HostOp = {
          op: 'migrate',
          region: r,
          offset,
          bytes,
          device,
          prefetch: op.op === 'prefetch',
          ...failHugeAlloc,
        };
        phases.push({ kind: 'host', label, host, ...tags });
        return;
      }
      case 'dev.compute':
        addStreams(phases, op.withPrevious, label, tags, {
          ...computeStream(op, r, offset, bytes, env.seed, i),
          device: op.device,
        });
        return;
      default: {
        const cpu = op.op === 'cpu.read' || op.op === 'cpu.write';
        const write = op.op === 'cpu.write' || op.op === 'dev.write';
        const stream = sweepSpec({
          agent: cpu ? 'cpu' : 'device',
          contexts: cpu ? 1 : 0,
          steps: [{ region: r, write }],
          start: offset,
          end: offset + bytes,
          cyclesPerLine: 0,
        });
        addStreams(phases, op.withPrevious, label, tags, cpu ? stream : { ...stream, device: op.device });
      }
    }
  });
  return { regions, premapped: [], phases, opNames, ...(files.length > 0 ? { files } : {}) };
}

/** A new streams phase for the op, or (withPrevious) its stream added to the previous op's phase. */
/** A host phase, or, with withPrevious, the operation the previous access phase runs during its accesses. */
function hostPhase(
  phases: Phase[],
  op: { withPrevious: boolean; afterNs: number },
  label: string,
  tags: { opIndex: number; expectError?: string },
  host: HostOp,
): void {
  const last = phases[phases.length - 1];
  if (op.withPrevious && last?.kind === 'streams' && last.during === undefined) {
    last.during = { host, afterNs: op.afterNs };
    last.label += ` + ${label}`;
    last.expectError ??= tags.expectError;
    return;
  }
  phases.push({ kind: 'host', label, host, ...tags });
}

function addStreams(
  phases: Phase[],
  withPrevious: boolean,
  label: string,
  tags: { opIndex: number; expectError?: string },
  stream: StreamSpec,
): void {
  const last = phases[phases.length - 1];
  if (withPrevious && last?.kind === 'streams') {
    last.streams.push(stream);
    last.label += ` + ${label}`;
    // The group reports as one op: the first's index, and an error either expects.
    last.expectError ??= tags.expectError;
    return;
  }
  phases.push({ kind: 'streams', label, streams: [stream], ...tags });
}

function computeStream(
  op: Extract<ScriptOp, { op: 'dev.compute' }>,
  r: number,
  offset: number,
  bytes: number,
  seed: number,
  opIndex: number,
): StreamSpec {
  if (op.generator === 'stream') {
    return sweepSpec({
      agent: 'device',
      contexts: 0,
      steps: [
        { region: r, write: false },
        { region: r, write: true },
      ],
      start: offset,
      end: offset + bytes,
      cyclesPerLine: op.computeCyclesPerLine,
      passes: op.iterations,
    });
  }
  const params: GatherParams = {
    tableBytes: bytes,
    elementBytes: op.elementBytes,
    accesses: op.accesses,
    distribution: op.distribution,
    zipfS: op.zipfS,
    hotLayout: 'scattered',
    computeCyclesPerLine: op.computeCyclesPerLine,
  };
  const layout = gatherLayout(params, seed, `workload.scripted.op${opIndex}.layout`);
  return {
    agent: 'device',
    contexts: 0,
    create: (index, count) =>
      new GatherStream(
        params,
        r,
        offset,
        shareOf(op.accesses, index, count),
        seed,
        `workload.scripted.op${opIndex}.context${index}`,
        layout,
      ),
    reads: [r],
    writes: [],
    plannedBytes: op.accesses * op.elementBytes,
  };
}
