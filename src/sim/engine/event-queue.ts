import { HORIZON_PS, HorizonError, type Ps } from './time.js';

/**
 * The event queue: a binary min-heap ordered by (time, sequence number), so equal times
 * pop in insertion order and a run replays identically. Everything lives in flat typed
 * arrays that grow by doubling; pushing and popping allocate nothing.
 *
 * An event is a time, a kind (what to do), a target (whom: a context, a device, ...) and
 * one integer argument.
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private kind: Int32Array;
  private target: Int32Array;
  private arg: Float64Array;
  private size = 0;
  private nextSeq = 0;
  /** Number of events popped so far (the `sim.events` metric). */
  popped = 0;

  // The fields of the event most recently popped.
  lastTime: Ps = 0;
  lastKind = 0;
  lastTarget = 0;
  lastArg = 0;

  constructor(initialCapacity = 1024) {
    this.time = new Float64Array(initialCapacity);
    this.seq = new Float64Array(initialCapacity);
    this.kind = new Int32Array(initialCapacity);
    this.target = new Int32Array(initialCapacity);
    this.arg = new Float64Array(initialCapacity);
  }

  get length(): number {
    return this.size;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): Ps {
    return this.size === 0 ? Infinity : this.time[0];
  }

  push(time: Ps, kind: number, target: number, arg = 0): void {
    if (time > HORIZON_PS) throw new HorizonError(time);
    if (!(time >= 0) || !Number.isSafeInteger(time)) {
      throw new RangeError(`event time must be a non-negative integer of picoseconds, got ${time}`);
    }
    if (this.size === this.time.length) this.grow();
    let i = this.size++;
    const s = this.nextSeq++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.time[p] < time || (this.time[p] === time && this.seq[p] < s)) break;
      this.copy(p, i);
      i = p;
    }
    this.time[i] = time;
    this.seq[i] = s;
    this.kind[i] = kind;
    this.target[i] = target;
    this.arg[i] = arg;
  }

  /** Pops the earliest event into `lastTime`, `lastKind`, `lastTarget`, `lastArg`. */
  pop(): boolean {
    if (this.size === 0) return false;
    this.lastTime = this.time[0];
    this.lastKind = this.kind[0];
    this.lastTarget = this.target[0];
    this.lastArg = this.arg[0];
    this.popped++;
    const last = --this.size;
    if (last > 0) {
      const t = this.time[last];
      const s = this.seq[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        let c = l;
        if (r < last && (this.time[r] < this.time[l] || (this.time[r] === this.time[l] && this.seq[r] < this.seq[l])))
          c = r;
        if (t < this.time[c] || (t === this.time[c] && s < this.seq[c])) break;
        this.copy(c, i);
        i = c;
      }
      this.copy(last, i);
    }
    return true;
  }

  private copy(from: number, to: number): void {
    this.time[to] = this.time[from];
    this.seq[to] = this.seq[from];
    this.kind[to] = this.kind[from];
    this.target[to] = this.target[from];
    this.arg[to] = this.arg[from];
  }

  private grow(): void {
    const n = this.time.length * 2;
    const grow64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const grow32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.time = grow64(this.time);
    this.seq = grow64(this.seq);
    this.arg = grow64(this.arg);
    this.kind = grow32(this.kind);
    this.target = grow32(this.target);
  }
}
