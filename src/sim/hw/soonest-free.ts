import type { Ps } from '../engine/time.js';

/**
 * Picks among `count` servers (the IOMMU's table walkers) the first, by number, free at a
 * time, else the first of those free soonest: what a scan of their free times picks, down
 * a tournament tree instead (log2(count) steps to pick and to update, not count).
 */
export class SoonestFree {
  /** Each server's free time. */
  private readonly freeAt: Float64Array;
  /** Leaves of the tree: `count` rounded up to a power of two. */
  private readonly leaves: number;
  /**
   * Node k (1 the root, leaves from `leaves` on) holds the server free soonest in its
   * subtree, the lower-numbered on ties; -1 for a leaf with no server.
   */
  private readonly winner: Int32Array;

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`need at least one server, got ${count}`);
    this.freeAt = new Float64Array(count);
    this.leaves = 2 ** Math.ceil(Math.log2(count));
    this.winner = new Int32Array(2 * this.leaves).fill(-1);
    for (let i = 0; i < count; i++) this.winner[this.leaves + i] = i;
    for (let i = 0; i < count; i++) this.set(i, 0);
  }

  /** The server to use at `t`. */
  pick(t: Ps): number {
    const freeAt = this.freeAt;
    const winner = this.winner;
    const best = winner[1];
    if (freeAt[best] > t) return best;
    // Some server is free: the leftmost subtree whose soonest server is free holds the first.
    let k = 1;
    while (k < this.leaves) {
      const left = winner[2 * k];
      k = left >= 0 && freeAt[left] <= t ? 2 * k : 2 * k + 1;
    }
    return winner[k];
  }

  /** Server `i` is free from `at` on. */
  set(i: number, at: Ps): void {
    const freeAt = this.freeAt;
    const winner = this.winner;
    freeAt[i] = at;
    for (let k = (this.leaves + i) >> 1; k >= 1; k >>= 1) {
      const a = winner[2 * k];
      const b = winner[2 * k + 1];
      winner[k] = b < 0 || (a >= 0 && freeAt[a] <= freeAt[b]) ? a : b;
    }
  }
}
