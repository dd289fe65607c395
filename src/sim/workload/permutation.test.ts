import { describe, expect, it } from 'vitest';
import { FeistelPermutation } from './permutation.js';

describe('FeistelPermutation', () => {
  it('is a bijection of [0, n) for many small n', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 17, 63, 64, 65, 100, 1000, 4097, 65539]) {
      const p = new FeistelPermutation(n, 42, 'test');
      const seen = new Uint8Array(n);
      let outside = 0;
      for (let i = 0; i < n; i++) {
        const v = p.apply(i);
        if (Number.isInteger(v) && v >= 0 && v < n) seen[v]++;
        else outside++;
      }
      expect(outside).toBe(0);
      expect(seen.every((c) => c === 1)).toBe(true);
    }
  });

  it('is deterministic for a seed and differs for another', () => {
    const a = new FeistelPermutation(1000, 1, 's');
    const b = new FeistelPermutation(1000, 1, 's');
    const c = new FeistelPermutation(1000, 2, 's');
    const d = new FeistelPermutation(1000, 1, 'other');
    const list = (p: FeistelPermutation) => Array.from({ length: 1000 }, (_, i) => p.apply(i));
    expect(list(a)).toEqual(list(b));
    expect(list(a)).not.toEqual(list(c));
    expect(list(a)).not.toEqual(list(d));
  });

  it('scatters: few fixed points and consecutive indices land far apart', () => {
    const n = 100_000;
    const p = new FeistelPermutation(n, 7, 'x');
    let fixed = 0;
    let near = 0;
    for (let i = 0; i < n; i++) {
      const v = p.apply(i);
      if (v === i) fixed++;
      if (i > 0 && Math.abs(v - p.apply(i - 1)) < 64) near++;
    }
    expect(fixed).toBeLessThan(50);
    expect(near).toBeLessThan(n / 100);
  });

  it('handles sizes up to 2^32 with a mapping inside the range', () => {
    const p = new FeistelPermutation(2 ** 32, 3, 'big');
    for (const i of [0, 1, 2 ** 31, 2 ** 32 - 1]) {
      const v = p.apply(i);
      expect(v >= 0 && v < 2 ** 32 && Number.isInteger(v)).toBe(true);
    }
    expect(() => new FeistelPermutation(2 ** 32 + 1, 3, 'x')).toThrow(/out of range/);
  });
});
