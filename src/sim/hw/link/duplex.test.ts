import { describe, expect, it } from 'vitest';
import { Duplex } from './duplex.js';
import { D2H, H2D } from './types.js';

describe('Duplex background traffic', () => {
  it('costs nothing on an idle direction', () => {
    const d = new Duplex(1); // 1 GB/s: 1 byte per ns
    d.background(D2H, 100, 0, 1_000_000); // 100 B over 1 us = 1e-4 B/ps
    // A reservation after the window pays nothing: 10 B = 10 ns.
    expect(d.reserve(2_000_000, D2H, 10)).toBe(2_010_000);
    expect(d.servers[H2D].busyPs).toBe(0);
  });

  it('a reservation pays the background it overlaps', () => {
    const d = new Duplex(1);
    d.background(D2H, 100, 0, 1_000_000);
    // 500 B at t = 0 would run [0, 500 000 ps): overlaps half the window = 50 B -> 550 B = 550 ns.
    expect(d.reserve(0, D2H, 500)).toBe(550_000);
  });

  it('merges a window that starts before the previous one ends', () => {
    const d = new Duplex(1);
    d.background(H2D, 100, 0, 1_000_000);
    // At 500 000 ps, 50 B of the first window remain; merged: 150 B over [500 000, 1 500 000).
    d.background(H2D, 100, 500_000, 1_500_000);
    // 1000 B from 500 000 ps would run to 1 500 000: overlaps the whole merged window -> 1150 B.
    expect(d.reserve(500_000, H2D, 1000)).toBe(500_000 + 1_150_000);
  });
});
