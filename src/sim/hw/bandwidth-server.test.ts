import { describe, expect, it } from 'vitest';
import { BandwidthServer } from './bandwidth-server.js';

describe('BandwidthServer', () => {
  it('serialises FCFS and accumulates busy time, bytes and queue wait', () => {
    // 32 GB/s = 32 bytes/ns: 64 B take 2 ns = 2000 ps, 32 B take 1000 ps.
    const s = new BandwidthServer(32);
    expect(s.reserve(0, 64)).toBe(2000);
    // Arrives at 1000 while busy until 2000: waits 1000, ends at 4000.
    expect(s.reserve(1000, 64)).toBe(4000);
    // Arrives after the server is idle: no wait.
    expect(s.reserve(10_000, 32)).toBe(11_000);
    expect(s.busyPs).toBe(5000);
    expect(s.bytes).toBe(160);
    expect(s.queueWaitPs).toBe(1000);
    expect(s.reservations).toBe(3);
    expect(s.nextFreePs).toBe(11_000);
  });

  it('rounds each reservation up to a whole picosecond', () => {
    // 1 B at 3 GB/s = 333.3 ps -> 334 ps.
    expect(new BandwidthServer(3).reserve(0, 1)).toBe(334);
  });

  it('a zero-byte reservation waits for the queue but takes no time', () => {
    const s = new BandwidthServer(1);
    s.reserve(0, 10); // 10 ns
    expect(s.reserve(5, 0)).toBe(10_000);
    expect(s.busyPs).toBe(10_000);
  });

  it('rejects a non-positive bandwidth', () => {
    expect(() => new BandwidthServer(0)).toThrow(RangeError);
    expect(() => new BandwidthServer(-1)).toThrow(RangeError);
  });

  it('reset clears state and statistics', () => {
    const s = new BandwidthServer(1);
    s.reserve(0, 100);
    s.reset();
    expect([s.nextFreePs, s.busyPs, s.bytes, s.queueWaitPs, s.reservations]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('BandwidthServer calendar', () => {
  it('a transfer booked for t + 500 us does not delay one issued at t', () => {
    // 1 GB/s: 1000 bytes take 1 us = 1_000_000 ps.
    const s = new BandwidthServer(1);
    const late = s.reserve(500_000_000, 1000);
    expect(late).toBe(501_000_000);
    expect(s.reserve(0, 1000)).toBe(1_000_000);
    expect(s.queueWaitPs).toBe(0);
  });

  it('a request fills the gaps before later bookings and continues after them', () => {
    const s = new BandwidthServer(1); // 1 byte per ns
    s.reserve(2_000, 2); // busy [2000, 4000)
    s.reserve(6_000, 2); // busy [6000, 8000)
    // 5 bytes from 0: [0, 2000) takes 2, [4000, 6000) takes 2, [8000, 9000) takes 1.
    expect(s.reserve(0, 5)).toBe(9_000);
    // Everything up to 10 ns is now booked: the next request from 1 ns starts at 10 ns.
    expect(s.reserve(1_000, 1)).toBe(10_000);
    expect(s.queueWaitPs).toBe(8_000);
    expect(s.busyPs).toBe(10_000);
  });

  it('a zero-byte request starts at the first idle instant', () => {
    const s = new BandwidthServer(1);
    s.reserve(10_000, 10); // busy [10 ns, 20 ns)
    expect(s.reserve(15_000, 0)).toBe(20_000);
    expect(s.reserve(5_000, 0)).toBe(5_000);
  });

  it('stays exact for requests issued out of order over many intervals', () => {
    const s = new BandwidthServer(1);
    // Bookings every other ns, issued latest first; then requests fill the holes.
    for (let k = 999; k >= 0; k--) s.reserve(2_000 * k, 1);
    expect(s.reserve(0, 1)).toBe(2_000);
    expect(s.busyPs).toBe(1_001_000);
  });
});
