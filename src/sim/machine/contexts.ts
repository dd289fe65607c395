import { newAccessRun, type AccessRun, type AccessStream } from '../workload/types.js';

export const COMPUTE = 0;
export const TLB_MISS = 1;
export const FAULT_SERVICE = 2;
export const MIGRATION = 3;
export const LINK_WAIT = 4;
export const DRAM_WAIT = 5;
export const IDLE = 6;
export const CATEGORIES = 7;

export const AGENT_CPU = 0;
export const AGENT_DEVICE = 1;

/**
 * Execution contexts: CPU cores first, then device contexts (device context i runs on
 * compute unit i mod units, so a few active contexts spread over units first). State is
 * held in flat arrays indexed by context id; `time` is where each context's own timeline
 * has been accounted to, so every picosecond lands in exactly one category.
 */
export class Contexts {
  readonly count: number;
  readonly agent: Uint8Array;
  readonly streams: (AccessStream | null)[];
  readonly runs: AccessRun[];
  /** 1 while the context holds a run it has not completed (loaded, or waiting for a fault). */
  readonly holding: Uint8Array;
  readonly active: Uint8Array;
  readonly accounted: Float64Array;
  /** Time per category, CATEGORIES slots per context, in ps. */
  readonly attribution: Float64Array;
  /** The error that stopped the context in this phase, if any. */
  readonly errors: (string | null)[];

  constructor(
    readonly cpuContexts: number,
    readonly deviceContexts: number,
  ) {
    const n = (this.count = cpuContexts + deviceContexts);
    this.agent = new Uint8Array(n);
    this.agent.fill(1, cpuContexts);
    this.streams = new Array<AccessStream | null>(n).fill(null);
    this.runs = Array.from({ length: n }, newAccessRun);
    this.holding = new Uint8Array(n);
    this.active = new Uint8Array(n);
    this.accounted = new Float64Array(n);
    this.attribution = new Float64Array(n * CATEGORIES);
    this.errors = new Array<string | null>(n).fill(null);
  }

  firstOf(agent: number): number {
    return agent === AGENT_CPU ? 0 : this.cpuContexts;
  }

  sizeOf(agent: number): number {
    return agent === AGENT_CPU ? this.cpuContexts : this.deviceContexts;
  }

  /** Accounts [accounted, until) of context `c` to `category`. */
  charge(c: number, category: number, until: number): void {
    const from = this.accounted[c];
    if (until > from) {
      this.attribution[c * CATEGORIES + category] += until - from;
      this.accounted[c] = until;
    }
  }
}
