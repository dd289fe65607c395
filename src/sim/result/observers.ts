/**
 * The standard observers of a run: they listen on the machine's hooks and turn what they
 * hear into the result's series and histograms.
 */
import type { Ps } from '../engine/time.js';
import type { MachineHooks } from '../machine/hooks.js';
import { Log2Histogram } from './histogram.js';
import { BinnedSeries } from './series.js';
import type { Histogram, Series } from './types.js';

export class RunObservers {
  private readonly h2d: BinnedSeries;
  private readonly d2h: BinnedSeries;
  readonly deviceMemory: BinnedSeries;
  private readonly faults: BinnedSeries;
  readonly faultLatency = new Log2Histogram('device.fault_latency_ns', 'ns', 1000);
  private readonly accessLatency = new Log2Histogram('device.access_latency_ns', 'ns', 100);

  constructor(maxPoints: number) {
    this.h2d = new BinnedSeries('link.h2d_bandwidth', 'GB/s', maxPoints, 'sum', true);
    this.d2h = new BinnedSeries('link.d2h_bandwidth', 'GB/s', maxPoints, 'sum', true);
    this.deviceMemory = new BinnedSeries('device.memory_used', 'bytes', maxPoints, 'gauge');
    this.faults = new BinnedSeries('device.faults', 'faults', maxPoints, 'sum');
  }

  /** Sets this observer's listeners on `hooks`. */
  attach(hooks: MachineHooks): void {
    hooks.transfer = (t, dir, bytes) => (dir === 0 ? this.h2d : this.d2h).add(t, bytes);
    hooks.fault = (t) => this.faults.add(t, 1);
    hooks.faultServiced = (_t, latency) => this.faultLatency.add(latency / 1000);
    hooks.deviceAccess = (_t, latency) => this.accessLatency.add(latency / 1000);
    hooks.deviceMemory = (t, bytes) => this.deviceMemory.gauge(t, bytes);
  }

  series(endPs: Ps): Series[] {
    return [this.h2d, this.d2h, this.deviceMemory, this.faults].map((s) => s.finish(endPs));
  }

  /** The series so far, for a live view; the run goes on unchanged. */
  seriesSoFar(nowPs: Ps): Series[] {
    return [this.h2d, this.d2h, this.deviceMemory, this.faults].map((s) => s.snapshot(nowPs));
  }

  histograms(): Histogram[] {
    return [this.faultLatency.finish(), this.accessLatency.finish()];
  }
}
