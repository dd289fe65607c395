/**
 * A seeded bijection of [0, size) in O(1) memory: a Feistel network over the index bits,
 * with cycle walking for sizes that are not powers of two. Pointer chasing uses it to lay
 * a list of a billion nodes out in pseudo-random order without an array of a billion
 * indices; gather uses it to scatter the hot elements of a Zipf distribution.
 *
 * The network works on ceil(log2(size)) bits split into a left half of `a` bits and a
 * right half of `b` bits (a = b or a = b + 1). A round maps (L, R) to (R, L ^ F(R)),
 * which is invertible whatever F is, and swaps the two widths; an even number of rounds
 * returns to the (a, b) split, so the network permutes [0, 2^(a+b)). Cycle walking
 * (apply again until the value falls inside [0, size)) restricts it to a permutation of
 * [0, size); since 2^(a+b) < 2 * size, fewer than two walks are needed on average.
 */
import { Rng } from '../engine/rng.js';

const ROUNDS = 4;

/** Largest supported size: the halves must stay within 16 bits for 32-bit arithmetic. */
export const MAX_PERMUTATION_SIZE = 2 ** 32;

export class FeistelPermutation {
  private readonly leftBits: number;
  private readonly rightBits: number;
  private readonly keys = new Int32Array(ROUNDS);

  constructor(
    readonly size: number,
    seed: number,
    streamName: string,
  ) {
    if (!Number.isSafeInteger(size) || size < 1 || size > MAX_PERMUTATION_SIZE) {
      throw new RangeError(`permutation size ${size} is out of range; use an integer from 1 to 2^32`);
    }
    const bits = Math.max(2, Math.ceil(Math.log2(size)));
    this.leftBits = Math.ceil(bits / 2);
    this.rightBits = bits - this.leftBits;
    const rng = new Rng(seed, streamName);
    for (let i = 0; i < ROUNDS; i++) this.keys[i] = rng.nextU32() | 0;
  }

  /** The image of `i` (0 <= i < size). */
  apply(i: number): number {
    let x = i;
    do x = this.network(x);
    while (x >= this.size);
    return x;
  }

  private network(x: number): number {
    let wl = this.leftBits;
    let wr = this.rightBits;
    // Both halves have at most 16 bits, so the rounds are plain int32 arithmetic; only
    // splitting and joining a 32-bit value needs float arithmetic.
    let l: number;
    let r: number;
    if (wl + wr <= 30) {
      l = x >>> wr;
      r = x & ((1 << wr) - 1);
    } else {
      l = Math.floor(x / 2 ** wr);
      r = x - l * 2 ** wr;
    }
    const keys = this.keys;
    for (let round = 0; round < ROUNDS; round++) {
      const newR = (l ^ mix(r ^ keys[round])) & ((1 << wl) - 1);
      l = r;
      r = newR;
      const w = wl;
      wl = wr;
      wr = w;
    }
    return wl + wr <= 30 ? (l << wr) | r : l * 2 ** wr + r;
  }
}

/** A 32-bit integer hash (the murmur3 finalizer). */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
