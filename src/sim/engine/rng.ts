/**
 * Seeded pseudo-random streams (xoshiro128**, seeded through splitmix32). Each consumer
 * takes its own named stream, so adding randomness in one component never shifts the
 * numbers another component sees.
 */
export class Rng {
  /**
   * The state a, b, c, d as 32-bit patterns in one typed array: as numbers on the object
   * they would mostly exceed the small-integer range and each live in a heap box of its own.
   */
  private readonly s: Int32Array;

  constructor(seed: number, streamName = '') {
    let x = (seed ^ hashString(streamName)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = Int32Array.of(next(), next(), next(), next());
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const a = s[0];
    const b = s[1];
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const c = s[2] ^ a;
    const d = s[3] ^ b;
    s[0] = a ^ d;
    s[1] = b ^ c;
    s[2] = c ^ (b << 9);
    s[3] = rotl(d, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer in [0, n), for n up to 2^53. */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** FNV-1a, 32 bits: turns a stream name into a seed offset. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
