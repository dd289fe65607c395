import type { Advice } from './advice.js';
/**
 * The contract between workloads and the machine. A workload is a plan: the memory
 * regions it maps and a sequence of phases. A phase either runs access streams on CPU
 * cores and device contexts concurrently, or performs one host operation (mmap,
 * mprotect, ...). Streams are pull-based and allocate nothing per access: the machine
 * hands a reusable `AccessRun` to `next()`.
 */

export type Agent = 'cpu' | 'device';
export type Prot = 'none' | 'read' | 'read-write';

export interface RegionSpec {
  name: string;
  sizeBytes: number;
  prot: Prot;
  /** MAP_SHARED (anonymous memory shared this way cannot migrate to device-private memory), or MAP_PRIVATE. */
  shared: boolean;
  /** A file mapping: the file (an index into the plan's files) and the offset in it of the region's first byte (4 KiB aligned). Absent: anonymous memory. */
  file?: { index: number; offsetBytes: number };
  /** MAP_HUGETLB: the huge page size of the hugetlb pool the region's memory comes from (2 MiB or 1 GiB); sizeBytes is a multiple of it. Absent: base pages (and THP). */
  hugetlbPageBytes?: number;
}

/** A file the plan maps or reads and writes: held whole in the page cache. */
export interface FileSpec {
  name: string;
  /** The largest size the file reaches (every mapping and write extends it to cover itself). */
  sizeBytes: number;
}

/**
 * A run: `bytes` consecutive bytes from `offset` in region `region` (an index into the
 * plan's regions, or of mapped regions for scripted workloads), read or written. A run
 * never crosses a 4 KiB boundary; the machine takes it as one translation and one burst.
 */
export interface AccessRun {
  region: number;
  offset: number;
  bytes: number;
  write: boolean;
  /** Compute cycles (of the agent's clock) spent on this run's data before the next run. */
  computeCycles: number;
  /** For traces with timestamps: the run is not issued before this agent cycle; -1 if none. */
  notBeforeCycle: number;
}

export const RUN_LIMIT_BYTES = 4096;

export function newAccessRun(): AccessRun {
  return { region: 0, offset: 0, bytes: 0, write: false, computeCycles: 0, notBeforeCycle: -1 };
}

export interface AccessStream {
  /** Writes the next run into `out`; returns false when the stream has ended. */
  next(out: AccessRun): boolean;
  /** Where the last run came from, for errors about it (a trace's file and line). */
  describeLast?(): string;
}

export interface StreamSpec {
  agent: Agent;
  /** Number of concurrent contexts; at most the agent's hardware contexts. 0 = all of them. */
  contexts: number;
  /**
   * For a device stream: the index of the device it runs on. Undefined: the stream's
   * contexts spread over every device's contexts (data-parallel across the devices).
   */
  device?: number;
  /** Creates the stream for context `index` of `count`. */
  create(index: number, count: number): AccessStream;
  /** Regions the stream reads and writes (explicit-copy copies these before and after). */
  reads: number[];
  writes: number[];
  /** Total bytes the stream will touch, for progress estimates. */
  plannedBytes: number;
  /**
   * 'mmu' (default): accesses go through the agent's MMU and the strategy. 'device-dram':
   * region offsets are device-DRAM addresses, sent straight to device DRAM (trace replay
   * of DRAM-level traces).
   */
  target?: 'mmu' | 'device-dram';
  /** For 'device-dram': how requests enter the DRAM controllers (the trace front end). */
  frontEnd?: { admitPerCycle: number; queueDepth?: number };
}

export type HostOp =
  | { op: 'mmap'; region: number }
  | { op: 'munmap'; region: number; offset: number; bytes: number }
  | { op: 'mprotect'; region: number; offset: number; bytes: number; prot: Prot }
  | { op: 'snapshot'; region: number; offset: number; bytes: number; device: number }
  /**
   * `prefetch`: a range with nothing left to move is done, not ENOENT (cudaMemPrefetchAsync of resident data).
   * `failHugeAlloc`: the first THP moving whole is split first (HMM_DMIRROR_FLAG_FAIL_ALLOC).
   */
  | {
      op: 'migrate';
      region: number;
      offset: number;
      bytes: number;
      device: number;
      prefetch?: boolean;
      failHugeAlloc?: boolean;
    }
  | { op: 'advise'; region: number; advice: Partial<Advice> }
  | { op: 'fork' }
  | { op: 'madvise'; region: number; offset: number; bytes: number; advice: 'dontneed' }
  /** Moves the range to the start of region `to` (mapped by this op); `keepOld`: MREMAP_DONTUNMAP. */
  | { op: 'mremap'; region: number; offset: number; bytes: number; to: number; keepOld: boolean }
  /** `ifNoAtomics`: only when the device's link cannot carry atomics (a dev.atomic's preparation). */
  | { op: 'exclusive'; region: number; offset: number; bytes: number; device: number; ifNoAtomics: boolean }
  | { op: 'pin'; region: number; offset: number; bytes: number; target: 'host' | 'device'; device: number }
  | { op: 'release'; device: number }
  | { op: 'p2p.map'; region: number; offset: number; bytes: number; device: number }
  /** mmap(MAP_FIXED) of a range of a region that was unmapped: the hole is mapped again, empty. */
  | { op: 'mmap-fixed'; region: number; offset: number; bytes: number }
  /** write(2) / read(2) of a range of a file (an index into the plan's files), through the page cache. */
  | { op: 'file.write'; file: number; offset: number; bytes: number }
  | { op: 'file.read'; file: number; offset: number; bytes: number }
  /** msync(MS_SYNC) of a range of a region: writeback of the dirty page-cache pages it maps. */
  | { op: 'msync'; region: number; offset: number; bytes: number }
  /** fsync(2): writeback of every dirty page-cache page of the file. */
  | { op: 'fsync'; file: number };

/** The `device` of a migrate op (and of Strategy.migrate) that means system memory. */
export const TO_HOST = -1;

export type Phase =
  | {
      kind: 'streams';
      label: string;
      streams: StreamSpec[];
      opIndex?: number;
      expectError?: string;
      /** A host operation run before the streams, as part of the same op (dev.atomic's exclusive access). */
      prepare?: HostOp;
      /** A host operation run `afterNs` after the streams start, while they run (a CPU thread's munmap beside a device's reads). */
      during?: { host: HostOp; afterNs: number };
    }
  | { kind: 'host'; label: string; host: HostOp; opIndex?: number; expectError?: string };

export interface WorkloadPlan {
  regions: RegionSpec[];
  /** Files the regions map and the host ops read and write (scripted workloads); absent: none. */
  files?: FileSpec[];
  /** Regions mapped before the first phase (scripted workloads map theirs with mmap ops). */
  premapped: number[];
  phases: Phase[];
  /** Names of scripted operations, by op index, for reports. */
  opNames: string[];
}

/** Where trace lines come from: the CLI reads a file in chunks; tests pass a string. */
export interface TraceSource {
  /** The next chunk of text, or null at the end. Chunks may split lines anywhere. */
  readChunk(): string | null;
  /** Name for error messages (the file path). */
  readonly name: string;
  /** The fraction of the source read so far, when its size is known (for progress). */
  fractionRead?(): number;
}
