/** What a run returns. Plain data: it crosses worker threads, IPC and JSON unchanged. */

export interface Metric {
  value: number;
  unit: string;
}

/** A flat map of hierarchical names (`link.h2d_bytes`) to numbers with units. */
export type Metrics = Record<string, Metric>;

/** A quantity sampled over simulated time: `values[i]` covers [i*intervalNs, (i+1)*intervalNs). */
export interface Series {
  name: string;
  unit: string;
  intervalNs: number;
  values: number[];
}

/**
 * Counts in buckets: bucket i holds values up to `bounds[i]` (inclusive) and above the
 * previous bound; the last bucket (counts.length === bounds.length + 1) holds the rest.
 */
export interface Histogram {
  name: string;
  unit: string;
  bounds: number[];
  counts: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

export const ATTRIBUTION_CATEGORIES = [
  'compute',
  'tlb_miss',
  'fault_service',
  'migration',
  'link_wait',
  'dram_wait',
  'idle',
] as const;
export type AttributionCategory = (typeof ATTRIBUTION_CATEGORIES)[number];

/**
 * Where an agent's simulated time went. Each execution context (a CPU core, a device
 * warp slot) accounts every picosecond to one category; `ns` is the average over the
 * agent's contexts, so the categories add up to `totalNs`, the agent's share of the run.
 */
export interface Attribution {
  agent: string;
  contexts: number;
  totalNs: number;
  ns: Record<AttributionCategory, number>;
}

/** One operation of a scripted workload, as it went. */
export interface OpReport {
  /** The phase (or scripted op) it reports; -1 for the setup before the first phase (mapping and pinning premapped regions). */
  index: number;
  op: string;
  startNs: number;
  durationNs: number;
  faults: number;
  h2dBytes: number;
  d2hBytes: number;
  /** Where the time of the phase went, per agent active in it (averaged over its active contexts). */
  attribution?: Attribution[];
  /** Set when the operation failed, e.g. "EPERM: device write to a read-only page at buf+0x0". */
  error?: string;
  /** For scripted ops: the outcome the script expected ("ok", "EPERM", ...). */
  expected?: string;
  /** True when the outcome differs from `expected`. */
  unexpected?: boolean;
}

/** Each page of a range as hmm_range_fault sees it without faulting (the kernel's HMM SNAPSHOT): CPU page table and VMA protection. */
export interface Snapshot {
  opIndex: number;
  region: string;
  pages: PageView[];
}
export type { PageView } from '../machine/page-state.js';
import type { PageView } from '../machine/page-state.js';

export const TIMELINE_KINDS = ['link', 'copy-engine', 'fault-handler', 'dram-channel', 'host-memory'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/**
 * When one component was busy over the run: intervals [startNs[i], endNs[i]), sorted and
 * disjoint. Column arrays keep it compact.
 */
export interface TimelineTrack {
  /** `gpu0.link.h2d`, `gpu0.copy0`, `gpu0.fault-handler`, `gpu0.dram.ch3`, `host.dram`, `switch.link.d2h`. */
  component: string;
  /** Whose it is: a device's name, or `host` (host memory, a PCIe switch's shared upstream link). */
  agent: string;
  kind: TimelineKind;
  startNs: number[];
  endNs: number[];
  /** Time busy inside each interval: its whole length, or less where idle gaps inside it were closed. */
  busyNs: number[];
  /** Bytes moved in each interval (a link's: on the wire, headers included). Absent for the fault handler. */
  bytes?: number[];
  /**
   * Items each interval holds, counted in `countUnit`: a copy engine's chunks, the fault
   * handler's faults. Absent for links and memories, whose calendars keep busy time only.
   */
  count?: number[];
  countUnit?: string;
  /** Idle gaps closed to keep the timeline within its budget (0: every interval as it happened). */
  closedGaps: number;
  /** The longest gap closed (0 when none was): shorter idle times may hide inside an interval. */
  closedGapNs: number;
}

/** The component timeline of a run: busy intervals per component that did any work. */
export interface Timeline {
  /** The budget all tracks shared (sampling.timelineIntervals). */
  maxIntervals: number;
  tracks: TimelineTrack[];
}

export interface RunResult {
  modelVersion: string;
  experimentName: string;
  strategy: string;
  workload: string;
  seed: number;
  metrics: Metrics;
  series: Series[];
  histograms: Histogram[];
  attribution: Attribution[];
  ops: OpReport[];
  snapshots: Snapshot[];
  /** Absent when the run recorded none (sampling.timelineIntervals 0, or a run stored before timelines existed). */
  timeline?: Timeline;
}

/** Live progress of a run. `fraction` is an estimate from the workload's planned work. */
export interface Progress {
  fraction: number;
  simTimeNs: number;
  events: number;
  phase: string;
}
