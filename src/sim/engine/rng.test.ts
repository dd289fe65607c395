import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { clockFromMHz, cyclesToPs, nsToPs, transferPs } from './time.js';

describe('Rng', () => {
  it('repeats for the same seed and stream, differs otherwise', () => {
    const draw = (seed: number, name: string) => {
      const r = new Rng(seed, name);
      return Array.from({ length: 5 }, () => r.nextU32());
    };
    expect(draw(1, 'a')).toEqual(draw(1, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(2, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
  });

  it('draws uniform integers in range', () => {
    const r = new Rng(7, 'uniform');
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100000; i++) counts[r.nextInt(10)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
  });
});

describe('time', () => {
  it('converts clocks and transfers to integer picoseconds', () => {
    expect(nsToPs(1.2345)).toBe(1235);
    const clock = clockFromMHz(1410); // 709.2 ps -> 709
    expect(clock.periodPs).toBe(709);
    expect(cyclesToPs(clock, 100)).toBe(70900);
    // 4096 bytes at 25 GB/s (25 bytes/ns) = 163.84 ns -> 163840 ps
    expect(transferPs(4096, 25)).toBe(163840);
  });
});
