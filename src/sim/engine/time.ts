/**
 * Simulated time is an integer number of picoseconds held in a JS number: exact up to
 * 2^53 ps (about 2.5 simulated hours). Every conversion to picoseconds rounds once, here.
 */
export type Ps = number;

export const PS_PER_NS = 1000;

export function nsToPs(ns: number): Ps {
  return Math.round(ns * PS_PER_NS);
}

export function psToNs(ps: Ps): number {
  return ps / PS_PER_NS;
}

/** A clock domain. Cycles become picoseconds only through `cyclesToPs`. */
export interface Clock {
  readonly frequencyMHz: number;
  readonly periodPs: number;
}

export function clockFromMHz(frequencyMHz: number): Clock {
  return { frequencyMHz, periodPs: Math.round(1_000_000 / frequencyMHz) };
}

export function cyclesToPs(clock: Clock, cycles: number): Ps {
  return Math.round(cycles) * clock.periodPs;
}

/** Serialisation time of `bytes` on a server that moves `bandwidthGBps` (1 GB/s = 1 byte/ns). */
export function transferPs(bytes: number, bandwidthGBps: number): Ps {
  return Math.ceil((bytes * PS_PER_NS) / bandwidthGBps);
}

/** The last exact simulated time: 2^53 - 1 ps, about 2.5 simulated hours. */
export const HORIZON_PS: Ps = Number.MAX_SAFE_INTEGER;

/** A run whose simulated time would pass the horizon, past which picoseconds are inexact. */
export class HorizonError extends Error {
  override name = 'HorizonError';
  /** `where`: what asked for that time, when known (a trace's file and line). */
  constructor(time: number, where?: string) {
    super(
      `${where ? `${where}: ` : ''}simulated time would reach ${time >= 1e300 || !Number.isFinite(time) ? 'beyond' : `${(time / 3.6e15).toPrecision(3)} h`}, past the horizon of 2^53 ps (about 2.5 simulated hours) where picosecond times stop being exact; shorten the workload or lower the latencies`,
    );
  }
}

/** Throws a HorizonError when `time` is past the horizon; returns it otherwise. */
export function checkHorizon(time: Ps): Ps {
  if (time > HORIZON_PS) throw new HorizonError(time);
  return time;
}
