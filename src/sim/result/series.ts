import type { Ps } from '../engine/time.js';
import type { Series } from './types.js';

const INITIAL_INTERVAL_PS = 1_000_000; // 1 us

/**
 * A quantity binned over simulated time. Bins start at 1 us and double in width (merging
 * pairs) whenever the run outgrows `maxPoints` bins, so a series costs O(maxPoints)
 * memory whatever the run's length. `add` sums into a bin (bytes, faults); `gauge`
 * keeps the largest level seen in a bin (memory in use).
 */
export class BinnedSeries {
  private intervalPs = INITIAL_INTERVAL_PS;
  private values: Float64Array;
  private used = 0;
  /** For gauges: the last level set, carried into later bins. */
  private level = 0;

  constructor(
    readonly name: string,
    readonly unit: string,
    private readonly maxPoints: number,
    private readonly kind: 'sum' | 'gauge',
    /** Divides each bin's value at the end, e.g. bytes per ns -> GB/s. */
    private readonly perNs = false,
  ) {
    this.values = new Float64Array(maxPoints);
  }

  add(t: Ps, amount: number): void {
    const bin = this.binOf(t);
    this.values[bin] += amount;
  }

  gauge(t: Ps, level: number): void {
    const bin = this.binOf(t);
    // Bins after the last one touched held the previous level throughout.
    for (let i = this.used; i <= bin; i++) this.values[i] = this.level;
    this.used = Math.max(this.used, bin + 1);
    if (level > this.values[bin]) this.values[bin] = level;
    this.level = level;
  }

  private binOf(t: Ps): number {
    let bin = Math.floor(t / this.intervalPs);
    while (bin >= this.maxPoints) {
      this.coarsen();
      bin = Math.floor(t / this.intervalPs);
    }
    if (this.kind === 'sum' && bin >= this.used) this.used = bin + 1;
    return bin;
  }

  private coarsen(): void {
    const v = this.values;
    const half = this.maxPoints >> 1;
    for (let i = 0; i < half; i++) {
      const a = v[2 * i];
      const b = v[2 * i + 1];
      v[i] = this.kind === 'sum' ? a + b : Math.max(a, b);
    }
    v.fill(0, half);
    this.used = Math.ceil(this.used / 2);
    this.intervalPs *= 2;
  }

  /**
   * The series up to `nowPs` while the run goes on, as `finish(nowPs)` would give it, on a
   * copy (this one is left as it was). A sum's last bin is left out while it is still filling.
   */
  snapshot(nowPs: Ps): Series {
    const copy: BinnedSeries = Object.assign(Object.create(BinnedSeries.prototype) as object, this);
    copy.values = this.values.slice();
    const series = copy.finish(nowPs);
    if (this.kind === 'sum' && nowPs % (series.intervalNs * 1000) !== 0) series.values.pop();
    return series;
  }

  finish(endPs: Ps): Series {
    while (Math.ceil(endPs / this.intervalPs) > this.maxPoints) this.coarsen();
    const bins = Math.max(1, Math.ceil(endPs / this.intervalPs));
    if (this.kind === 'gauge') {
      this.binOf(Math.max(0, endPs - 1));
      for (let i = this.used; i < bins; i++) this.values[i] = this.level;
    }
    const intervalNs = this.intervalPs / 1000;
    const values: number[] = [];
    for (let i = 0; i < bins; i++) values.push(this.perNs ? this.values[i] / intervalNs : this.values[i]);
    return { name: this.name, unit: this.unit, intervalNs, values };
  }
}
