import type { Ps } from '../engine/time.js';

/**
 * A requester's tags for non-posted requests (PCIe transaction tags, CXL request IDs): at
 * most `size` requests may be in flight, so a stream of reads is bounded by
 * size / round-trip time as well as by bandwidth (Little's law).
 *
 * Each tag is the time at which it frees up. A request takes the tags that free first,
 * waits for them if they are still in use, and holds them until its completion arrives.
 * Calls need not come in time order (a copy engine books later chunks ahead); a request
 * then simply takes the earliest-free tags.
 *
 * Only the times matter, not which tag has which, so they are kept sorted in a ring: the
 * tags a request takes are the first ones, and a completion that arrives after every tag
 * in use (the usual case) goes back at the end, without moving the others.
 */
export class TagPool {
  readonly size: number;
  /** Free times, ascending from `head`, wrapping around. */
  private readonly freeAt: Float64Array;
  private head = 0;
  /** Requests that found every tag in use. */
  stalls = 0;
  /** Total time requests waited for a tag. */
  waitPs: Ps = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a tag pool needs at least one tag, got ${size}`);
    this.size = size;
    this.freeAt = new Float64Array(size);
  }

  /** The slot of the i-th earliest free time (0 .. size - 1). */
  private slot(i: number): number {
    const s = this.head + i;
    return s < this.size ? s : s - this.size;
  }

  /**
   * When `count` requests ready at `t` all have a tag (call `hold` with the same count next,
   * before any other request).
   */
  acquire(t: Ps, count = 1): Ps {
    const k = count < this.size ? count : this.size;
    const free = this.freeAt[this.slot(k - 1)];
    if (free <= t) return t;
    this.stalls++;
    this.waitPs += free - t;
    return free;
  }

  /**
   * The `count` tags that free first are in use until `until` (the completions' arrival):
   * each of `count` times, the earliest free time becomes `until`. After acquire, all of
   * them free by `until`; should one free later, `until` is the earliest from then on and
   * the remaining replacements change nothing.
   */
  hold(until: Ps, count = 1): void {
    const n = this.size;
    const freeAt = this.freeAt;
    const c = count < n ? count : n;
    if (c <= 0) return;
    // The tags taken: those of the first c that free by `until`.
    let taken = c;
    while (taken > 0 && freeAt[this.slot(taken - 1)] > until) taken--;
    if (taken === 0) {
      // Even the earliest frees after `until`: it is replaced, and `until` is now the earliest.
      freeAt[this.head] = until;
      return;
    }
    this.head = this.slot(taken);
    // The taken slots are now the last ones; `until` goes after every time not later than it.
    let at = n - taken;
    while (at > 0 && freeAt[this.slot(at - 1)] > until) {
      freeAt[this.slot(at - 1 + taken)] = freeAt[this.slot(at - 1)];
      at--;
    }
    for (let i = at; i < at + taken; i++) freeAt[this.slot(i)] = until;
  }

  /** The time at which a tag is next free. */
  get nextFreePs(): Ps {
    return this.freeAt[this.head];
  }
}
