import { describe, expect, it } from 'vitest';
import { SystemMemory, systemMemorySchema } from './system-memory.js';

describe('SystemMemory', () => {
  it('has cited defaults', () => {
    expect(systemMemorySchema.parse({})).toEqual({
      capacityBytes: 64 * 1024 ** 3,
      latencyNs: 90,
      bandwidthGBps: 307.2,
      hugetlbPool: { pages2MiB: 128, pages1GiB: 0 },
    });
  });

  it('an idle access costs transfer plus latency', () => {
    const m = new SystemMemory(systemMemorySchema.parse({}));
    // 64 B / 307.2 GB/s = 208.3 -> 209 ps, + 90 ns
    expect(m.access(0, 64, false)).toBe(90_209);
    expect(m.readBytes).toBe(64);
  });

  it('queues concurrent transfers on the shared bandwidth', () => {
    const m = new SystemMemory(systemMemorySchema.parse({}));
    // 1 MiB / 307.2 GB/s = 3 413 333.3 -> 3 413 334 ps each
    expect(m.access(0, 1024 * 1024, false)).toBe(3_413_334 + 90_000);
    expect(m.access(0, 1024 * 1024, true)).toBe(2 * 3_413_334 + 90_000);
    expect(m.writeBytes).toBe(1024 * 1024);
    expect(m.busyPs).toBe(2 * 3_413_334);
  });
});
