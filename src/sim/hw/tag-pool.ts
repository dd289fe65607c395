import type { Ps } from '../engine/time.js';

/**
 * A requester's tags for non-posted requests (PCIe transaction tags, CXL request IDs): at
 * most `size` requests may be in flight, so a stream of reads is bounded by
 * size / round-trip time as well as by bandwidth (Little's law).
 *
 * Each tag is the time at which it frees up, kept in a binary min-heap: a request takes
 * the tag that frees first, waits for it if it is still in use, and holds it until its
 * completion arrives. Calls need not come in time order (a copy engine books later
 * chunks ahead); a request then simply takes the earliest-free tag.
 */
export class TagPool {
  readonly size: number;
  private readonly freeAt: Float64Array;
  /** Requests that found every tag in use. */
  stalls = 0;
  /** Total time requests waited for a tag. */
  waitPs: Ps = 0;

  /** Heap slots the k-th-earliest search has yet to look at (at most one more per step). */
  private readonly frontier: Int32Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a tag pool needs at least one tag, got ${size}`);
    this.size = size;
    this.freeAt = new Float64Array(size);
    this.frontier = new Int32Array(size + 1);
  }

  /**
   * When `count` requests ready at `t` all have a tag (call `hold` with the same count next,
   * before any other request).
   */
  acquire(t: Ps, count = 1): Ps {
    const free = count === 1 ? this.freeAt[0] : this.kthFree(Math.min(count, this.size));
    if (free <= t) return t;
    this.stalls++;
    this.waitPs += free - t;
    return free;
  }

  /** The `count` tags `acquire` found are in use until `until` (the completions' arrival). */
  hold(until: Ps, count = 1): void {
    // Each call replaces the tag that frees first: `count` calls replace the `count`
    // earliest, since `until` is no earlier than any of them.
    for (let i = Math.min(count, this.size); i > 0; i--) this.replaceEarliest(until);
  }

  private replaceEarliest(until: Ps): void {
    const heap = this.freeAt;
    const n = this.size;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right] < heap[left] ? right : left;
      if (heap[child] >= until) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = until;
  }

  /**
   * The k-th earliest free time: a best-first walk of the heap from its root, which visits
   * about 2k entries (k is small: a request split into a few TLPs).
   */
  private kthFree(k: number): Ps {
    const heap = this.freeAt;
    const n = this.size;
    const frontier = this.frontier;
    frontier[0] = 0;
    let size = 1;
    for (;;) {
      // Take the frontier's earliest entry.
      let best = 0;
      for (let i = 1; i < size; i++) if (heap[frontier[i]] < heap[frontier[best]]) best = i;
      const at = frontier[best];
      if (--k === 0) return heap[at];
      frontier[best] = frontier[--size];
      const left = 2 * at + 1;
      if (left < n) frontier[size++] = left;
      if (left + 1 < n) frontier[size++] = left + 1;
    }
  }

  /** The time at which a tag is next free. */
  get nextFreePs(): Ps {
    return this.freeAt[0];
  }
}
