import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.js';
import { ZipfSampler } from './zipf.js';

function frequencies(n: number, s: number, samples: number): Float64Array {
  const z = new ZipfSampler(n, s, new Rng(5, 'zipf-test'));
  const counts = new Float64Array(n);
  for (let i = 0; i < samples; i++) counts[z.sample()]++;
  return counts.map((c) => c / samples);
}

function exact(n: number, s: number): number[] {
  let h = 0;
  for (let k = 1; k <= n; k++) h += k ** -s;
  return Array.from({ length: n }, (_, i) => (i + 1) ** -s / h);
}

describe('ZipfSampler', () => {
  it.each([0.5, 0.99, 1, 1.5])('matches the exact Zipf probabilities (s = %s)', (s) => {
    const n = 50;
    const f = frequencies(n, s, 400_000);
    const p = exact(n, s);
    for (const k of [0, 1, 2, 9, 49]) expect(Math.abs(f[k] - p[k])).toBeLessThan(0.01 + 0.05 * p[k]);
  });

  it('stays in range and needs no table for a huge n', () => {
    const z = new ZipfSampler(2 ** 27, 0.99, new Rng(1, 'big'));
    for (let i = 0; i < 10_000; i++) {
      const k = z.sample();
      expect(k >= 0 && k < 2 ** 27 && Number.isInteger(k)).toBe(true);
    }
  });

  it('handles n = 1', () => {
    const z = new ZipfSampler(1, 0.99, new Rng(1, 'one'));
    expect([z.sample(), z.sample()]).toEqual([0, 0]);
  });
});
