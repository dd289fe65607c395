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
