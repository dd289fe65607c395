import { HORIZON_PS, HorizonError, type Ps } from './time.js';

/**
 * The event queue: a 4-ary min-heap ordered by (time, sequence number), so equal times
 * pop in insertion order and a run replays identically. Four children per node halve the
 * depth of a binary heap, and with it the slots a sift-down moves. Everything lives in flat typed
 * arrays that grow by doubling; pushing and popping allocate nothing. The heap holds each
 * event's time, sequence number and the slot of its payload (kind, target, argument), so a
 * sift moves three numbers per level.
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
  // The heap: each event's time, sequence number and the slot of its payload.
  private time: Float64Array;
  private seq: Float64Array;
  private slot: Int32Array;
  // Payloads by slot, written once at push: a sift moves three numbers per level, not five.
  private kind: Int32Array;
  private target: Int32Array;
  private arg: Float64Array;
  /** Free payload slots, a stack. */
  private free: Int32Array;
  private freeCount: number;
  private size = 0;
  private nextSeq = 0;
  /** True when slot 0 holds the event popped last, still to be removed. */
  private rootPopped = false;
  /** The payload slot of the event popped last. */
  private poppedSlot = -1;
  /** Number of events popped so far (the `sim.events` metric). */
  popped = 0;

  // The fields of the event most recently popped.
  lastTime: Ps = 0;
  lastKind = 0;
  lastTarget = 0;
  lastArg = 0;

  constructor(initialCapacity = 1024) {
    const n = Math.max(1, initialCapacity);
    this.time = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.slot = new Int32Array(n);
    this.kind = new Int32Array(n);
    this.target = new Int32Array(n);
    this.arg = new Float64Array(n);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeCount = n;
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
      // Take the popped event's place at the root, and its payload slot.
      this.rootPopped = false;
      const p = this.poppedSlot;
      this.kind[p] = kind;
      this.target[p] = target;
      this.arg[p] = arg;
      this.siftDown(time, s, p, this.size);
      return;
    }
    if (this.size === this.time.length) this.grow();
    const p = this.free[--this.freeCount];
    this.kind[p] = kind;
    this.target[p] = target;
    this.arg[p] = arg;
    const times = this.time;
    const seqs = this.seq;
    const slots = this.slot;
    let i = this.size++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const parent = (i - 1) >> 2;
      if (times[parent] < time || (times[parent] === time && seqs[parent] < s)) break;
      times[i] = times[parent];
      seqs[i] = seqs[parent];
      slots[i] = slots[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = s;
    slots[i] = p;
  }

  /** Pops the earliest event into `lastTime`, `lastKind`, `lastTarget`, `lastArg`. */
  pop(): boolean {
    if (this.rootPopped) {
      this.rootPopped = false;
      this.free[this.freeCount++] = this.poppedSlot;
      this.removeRoot();
    }
    if (this.size === 0) return false;
    const p = this.slot[0];
    this.lastTime = this.time[0];
    this.lastKind = this.kind[p];
    this.lastTarget = this.target[p];
    this.lastArg = this.arg[p];
    this.poppedSlot = p;
    this.popped++;
    this.rootPopped = true;
    return true;
  }

  /** Removes the root: the last event takes its place. */
  private removeRoot(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(this.time[last], this.seq[last], this.slot[last], last);
  }

  /** Places an event at the root of a heap of `n` slots (the root's own included) and sifts it down. */
  private siftDown(t: Ps, s: number, p: number, n: number): void {
    const times = this.time;
    const seqs = this.seq;
    const slots = this.slot;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      const end = first + 4 < n ? first + 4 : n;
      let c = first;
      let ct = times[c];
      for (let k = first + 1; k < end; k++) {
        const kt = times[k];
        if (kt < ct || (kt === ct && seqs[k] < seqs[c])) {
          c = k;
          ct = kt;
        }
      }
      if (t < ct || (t === ct && s < seqs[c])) break;
      times[i] = ct;
      seqs[i] = seqs[c];
      slots[i] = slots[c];
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    slots[i] = p;
  }

  /** Doubles every array; the new payload slots are free. */
  private grow(): void {
    const old = this.time.length;
    const n = old * 2;
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
    this.slot = grow32(this.slot);
    this.kind = grow32(this.kind);
    this.target = grow32(this.target);
    // Every old slot is in use (the heap is full): the free stack holds the new ones.
    this.free = new Int32Array(n);
    for (let i = 0; i < old; i++) this.free[i] = n - 1 - i;
    this.freeCount = old;
  }
}
