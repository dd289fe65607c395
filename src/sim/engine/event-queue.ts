import { HORIZON_PS, HorizonError, type Ps } from './time.js';

/** Float64 slots per event: time, sequence number, kind and target (two int32 in one slot), argument. */
const STRIDE = 4;

/**
 * The event queue: a 4-ary min-heap ordered by (time, sequence number), so equal times
 * pop in insertion order and a run replays identically. Four children per node halve the
 * depth of a binary heap, and with it the slots a sift-down moves. An event's fields sit
 * side by side (32 bytes, interleaved in one buffer): a node's four children are two cache
 * lines, and moving an event touches one. The buffer grows by doubling; pushing and
 * popping allocate nothing.
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
  /** Event k: time at [STRIDE k], sequence at [STRIDE k + 1], argument at [STRIDE k + 3]. */
  private f: Float64Array;
  /** The same buffer as int32: event k's kind at [2 STRIDE k + 4], its target at [2 STRIDE k + 5]. */
  private i: Int32Array;
  private capacity: number;
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
    this.capacity = Math.max(1, initialCapacity);
    this.f = new Float64Array(this.capacity * STRIDE);
    this.i = new Int32Array(this.f.buffer);
  }

  get length(): number {
    return this.rootPopped ? this.size - 1 : this.size;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): Ps {
    if (!this.rootPopped) return this.size === 0 ? Infinity : this.f[0];
    // The root is gone: the earliest is one of its children, slots 1 to 4.
    const end = this.size < 5 ? this.size : 5;
    const f = this.f;
    let min = Infinity;
    for (let c = 1; c < end; c++) if (f[c * STRIDE] < min) min = f[c * STRIDE];
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
    if (this.size === this.capacity) this.grow();
    const f = this.f;
    let i = this.size++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = f[p * STRIDE];
      if (pt < time || (pt === time && f[p * STRIDE + 1] < s)) break;
      this.copy(p, i);
      i = p;
    }
    this.place(i, time, s, kind, target, arg);
  }

  /** Pops the earliest event into `lastTime`, `lastKind`, `lastTarget`, `lastArg`. */
  pop(): boolean {
    if (this.rootPopped) {
      this.rootPopped = false;
      this.removeRoot();
    }
    if (this.size === 0) return false;
    this.lastTime = this.f[0];
    this.lastKind = this.i[4];
    this.lastTarget = this.i[5];
    this.lastArg = this.f[3];
    this.popped++;
    this.rootPopped = true;
    return true;
  }

  /** Removes the root: the last event takes its place. */
  private removeRoot(): void {
    const last = --this.size;
    if (last > 0) {
      const f = this.f;
      const at = last * STRIDE;
      this.siftDown(f[at], f[at + 1], this.i[2 * at + 4], this.i[2 * at + 5], f[at + 3], last);
    }
  }

  /** Places an event at the root of a heap of `n` slots (the root's own included) and sifts it down. */
  private siftDown(t: Ps, s: number, kind: number, target: number, arg: number, n: number): void {
    const f = this.f;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      const end = first + 4 < n ? first + 4 : n;
      let c = first;
      let ct = f[c * STRIDE];
      for (let k = first + 1; k < end; k++) {
        const kt = f[k * STRIDE];
        if (kt < ct || (kt === ct && f[k * STRIDE + 1] < f[c * STRIDE + 1])) {
          c = k;
          ct = kt;
        }
      }
      if (t < ct || (t === ct && s < f[c * STRIDE + 1])) break;
      this.copy(c, i);
      i = c;
    }
    this.place(i, t, s, kind, target, arg);
  }

  private place(slot: number, t: Ps, s: number, kind: number, target: number, arg: number): void {
    const at = slot * STRIDE;
    this.f[at] = t;
    this.f[at + 1] = s;
    this.i[2 * at + 4] = kind;
    this.i[2 * at + 5] = target;
    this.f[at + 3] = arg;
  }

  private copy(from: number, to: number): void {
    const f = this.f;
    const i = this.i;
    const a = from * STRIDE;
    const b = to * STRIDE;
    f[b] = f[a];
    f[b + 1] = f[a + 1];
    i[2 * b + 4] = i[2 * a + 4];
    i[2 * b + 5] = i[2 * a + 5];
    f[b + 3] = f[a + 3];
  }

  private grow(): void {
    this.capacity *= 2;
    const f = new Float64Array(this.capacity * STRIDE);
    // Copied as bytes: the int32 halves are not floats.
    new Uint8Array(f.buffer).set(new Uint8Array(this.f.buffer));
    this.f = f;
    this.i = new Int32Array(f.buffer);
  }
}
