import type { OpError } from '../engine/errno.js';
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
 * Execution contexts: CPU cores first, then each device's contexts in device order
 * (context i of a device runs on its compute unit i mod units, so a few active contexts
 * spread over units first). With several devices, device streams that name no device
 * spread over all devices' contexts: data-parallel work across the devices. State is
 * held in flat arrays indexed by context id; `time` is where each context's own timeline
 * has been accounted to, so every picosecond lands in exactly one category.
 */
export class Contexts {
  readonly count: number;
  readonly agent: Uint8Array;
  /** The device a context belongs to, -1 for a CPU core. */
  readonly device: Int16Array;
  readonly streams: (AccessStream | null)[];
  readonly runs: AccessRun[];
  /** 1 while the context holds a run it has not completed (loaded, or waiting for a fault). */
  readonly holding: Uint8Array;
  readonly active: Uint8Array;
  readonly accounted: Float64Array;
  /** When the access the context waits on device memory for began (device-path.ts WAITING). */
  readonly waitingSince: Float64Array;
  /** Time per category, CATEGORIES slots per context, in ps. */
  readonly attribution: Float64Array;
  /** The error that stopped the context in this phase, if any. */
  readonly errors: (OpError | null)[];

  readonly deviceContexts: number;

  constructor(
    readonly cpuContexts: number,
    contextsPerDevice: readonly number[],
  ) {
    this.deviceContexts = contextsPerDevice.reduce((a, b) => a + b, 0);
    const n = (this.count = cpuContexts + this.deviceContexts);
    this.agent = new Uint8Array(n);
    this.agent.fill(1, cpuContexts);
    this.device = new Int16Array(n).fill(-1);
    let first = cpuContexts;
    contextsPerDevice.forEach((count, d) => {
      this.device.fill(d, first, first + count);
      first += count;
    });
    this.streams = new Array<AccessStream | null>(n).fill(null);
    this.runs = Array.from({ length: n }, newAccessRun);
    this.holding = new Uint8Array(n);
    this.active = new Uint8Array(n);
    this.accounted = new Float64Array(n);
    this.waitingSince = new Float64Array(n);
    this.attribution = new Float64Array(n * CATEGORIES);
    this.errors = new Array<OpError | null>(n).fill(null);
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
