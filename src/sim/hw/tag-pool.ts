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
 * Only the times matter, not which tag has which, so they are kept sorted: the tags a
 * request takes are the first ones, and a completion that arrives after every tag in use
 * (the usual case) goes back at the end, without moving the others. The sorted times sit
 * in a window of a longer array that moves on as tags are taken from its front, and back
 * to the array's start when it reaches the end.
 */
export class TagPool {
  readonly size: number;
  /** Free times, ascending, in slots head .. head + size - 1. */
  private freeAt: Float64Array;
  private head = 0;
  /** Requests that found every tag in use. */
  stalls = 0;
  /** Total time requests waited for a tag. */
  waitPs: Ps = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a tag pool needs at least one tag, got ${size}`);
    this.size = size;
    this.freeAt = new Float64Array(4 * size);
  }

  /**
   * When `count` requests ready at `t` all have a tag (call `hold` with the same count next,
   * before any other request).
   */
  acquire(t: Ps, count = 1): Ps {
    const k = count < this.size ? count : this.size;
    const free = this.freeAt[this.head + k - 1];
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
    const c = count < n ? count : n;
    if (c <= 0) return;
    const freeAt = this.freeAt;
    let head = this.head;
    // The tags taken: those of the first c that free by `until`.
    let taken = c;
    while (taken > 0 && freeAt[head + taken - 1] > until) taken--;
    if (taken === 0) {
      // Even the earliest frees after `until`: it is replaced, and `until` is now the earliest.
      freeAt[head] = until;
      return;
    }
    head += taken;
    const rest = n - taken;
    if (head + n > freeAt.length) {
      freeAt.copyWithin(0, head, head + rest);
      head = 0;
    }
    this.head = head;
    // `until` goes after every time not later than it: the later ones move up by `taken`.
    let at = rest;
    if (rest > 0 && freeAt[head + rest - 1] > until) {
      let lo = 0;
      while (lo < at) {
        const mid = (lo + at) >> 1;
        if (freeAt[head + mid] <= until) lo = mid + 1;
        else at = mid;
      }
      if (rest - at > 16) freeAt.copyWithin(head + at + taken, head + at, head + rest);
      else for (let i = head + rest - 1; i >= head + at; i--) freeAt[i + taken] = freeAt[i];
    }
    for (let i = head + at; i < head + at + taken; i++) freeAt[i] = until;
  }

  /** The time at which a tag is next free. */
  get nextFreePs(): Ps {
    return this.freeAt[this.head];
  }
}
