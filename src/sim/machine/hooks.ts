/**
 * Named hook points of the machine. Observation is attached from outside: the series,
 * histograms and any live feed are listeners set here, not model code, and a hook that
 * nobody set costs one property check.
 */
import type { Ps } from '../engine/time.js';
import type { Direction } from '../hw/link/types.js';

export interface MachineHooks {
  /** Data of a device access or copy finished crossing the link at `t`. */
  transfer?: (t: Ps, dir: Direction, bytes: number) => void;
  /** A device context filed a fault at `t`. */
  fault?: (t: Ps) => void;
  /** A faulting context was replayed at `t`, `latency` after it faulted. */
  faultServiced?: (t: Ps, latency: Ps) => void;
  /** A device run (translation and data) to 4 KiB page `page` completed at `t`, `latency` after it started. */
  deviceAccess?: (t: Ps, latency: Ps, device: number, page: number, write: boolean) => void;
  /** The CPU page behind virtual page `page` was replaced (copy-on-write, migration): old translations of it are stale. */
  cpuPageReplaced?: (page: number) => void;
  /** The driver wrote device `device`'s PTEs of [firstPage, firstPage + count). */
  devicePtesWritten?: (device: number, firstPage: number, count: number) => void;
  /** Copy engine `engine` of device `device` moved a chunk of `bytes` from `start` to `end`. */
  copyChunk?: (device: number, engine: number, start: Ps, end: Ps, bytes: number) => void;
  /** Device `device`'s fault handler serviced a batch of `faults` faults from `start` to `end` (its PTE push written). */
  faultBatch?: (device: number, start: Ps, end: Ps, faults: number) => void;
  /** Device memory in use changed to `bytes` at `t`. */
  deviceMemory?: (t: Ps, bytes: number) => void;
}
