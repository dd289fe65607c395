import { HORIZON_PS, HorizonError, type Ps } from './time.js';

/**
 * The event queue: a 4-ary min-heap ordered by (time, sequence number), so equal times
 * pop in insertion order and a run replays identically. Four children per node halve the
 * depth of a binary heap, and with it the slots a sift-down moves. Everything lives in flat typed
 * arrays that grow by doubling; pushing and popping allocate nothing.
 *
 * An event is a time, a kind (what to do), a target (whom: a context, a device, ...) and
 * one integer argument.
 *
 * A pop leaves the popped event's slot at the root until the next push or pop: most
 * handlers push one event (a context's next step), which then takes the root's place
 * with one sift-down instead of a sift-down and a sift-up. Keys (time, sequence) are
 * unique, so the pop order is the same either way.
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private kind: Int32Array;
  private target: Int32Array;
  private arg: Float64Array;
  private size = 0;
  private nextSeq = 0;
  /** True when slot 0 holds the event popped last, still to be removed. */
  private rootPopped = false;
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
    return this.rootPopped ? this.size - 1 : this.size;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): Ps {
    if (!this.rootPopped) return this.size === 0 ? Infinity : this.time[0];
    // The root is gone: the earliest is one of its children, slots 1 to 4.
    const end = this.size < 5 ? this.size : 5;
    const time = this.time;
    let min = Infinity;
    for (let c = 1; c < end; c++) if (time[c] < min) min = time[c];
    return min;
  }

  push(time: Ps, kind: number, target: number, arg = 0): void {
    if (time > HORIZON_PS) throw new HorizonError(time);
    if (!(time >= 0) || !Number.isSafeInteger(time)) {
      throw new RangeError(`event time must be a non-negative integer of picoseconds, got ${time}`);
    }
    const s = this.nextSeq++;
    if (this.rootPopped) {
      // Take the popped event's place at the root.
      this.rootPopped = false;
      this.siftDown(time, s, kind, target, arg, this.size);
      return;
    }
    if (this.size === this.time.length) this.grow();
    let i = this.size++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const p = (i - 1) >> 2;
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
    if (this.rootPopped) {
      this.rootPopped = false;
      this.removeRoot();
    }
    if (this.size === 0) return false;
    this.lastTime = this.time[0];
    this.lastKind = this.kind[0];
    this.lastTarget = this.target[0];
    this.lastArg = this.arg[0];
    this.popped++;
    this.rootPopped = true;
    return true;
  }

  /** Removes the root: the last event takes its place. */
  private removeRoot(): void {
    const last = --this.size;
    if (last > 0) {
      this.siftDown(this.time[last], this.seq[last], this.kind[last], this.target[last], this.arg[last], last);
    }
  }

  /** Places an event at the root of a heap of `n` slots (the root's own included) and sifts it down. */
  private siftDown(t: Ps, s: number, kind: number, target: number, arg: number, n: number): void {
    const time = this.time;
    const seq = this.seq;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      const end = first + 4 < n ? first + 4 : n;
      let c = first;
      for (let k = first + 1; k < end; k++) {
        if (time[k] < time[c] || (time[k] === time[c] && seq[k] < seq[c])) c = k;
      }
      if (t < time[c] || (t === time[c] && s < seq[c])) break;
      this.copy(c, i);
      i = c;
    }
    time[i] = t;
    seq[i] = s;
    this.kind[i] = kind;
    this.target[i] = target;
    this.arg[i] = arg;
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
