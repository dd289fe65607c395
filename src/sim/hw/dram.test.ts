import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Ps } from '../engine/time.js';
import { DRAM_STANDARDS, Dram, DramPieces, dramSchema, resolveDram, type DramConfig } from './dram.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const config = (over: Record<string, unknown> = {}): DramConfig => dramSchema.parse(over);
/** One HBM2 stack (8 channels x 128 bit, 16 banks, 2 KiB rows) without refresh, for exact timings. */
const oneStack = () => new Dram(config({ devices: 1, tRFCCycles: 0 }));

describe('DRAM configuration', () => {
  it("resolves the standard's organisation and timings", () => {
    const r = resolveDram(config());
    expect(r).toMatchObject({
      standard: 'hbm2',
      channels: 32,
      banksPerChannel: 16,
      rowBytes: 2048,
      burstBytes: 64,
      clCycles: 14,
      tRASCycles: 34,
    });
    expect(r.capacityBytes).toBe(16 * GiB);
    // (tRP + tRFC) / tREFI = (14 + 260) / 3900: each refresh closes every bank first.
    expect(r.refreshAvailability).toBeCloseTo(1 - 274 / 3900, 12);
  });

  it('computes peak bandwidth from bus width and pin rate', () => {
    // hbm2: 4 stacks x 8 ch x 128 bit x 2 Gb/s / 8 = 1024 GB/s
    expect(new Dram(config()).peakBandwidthGBps).toBe(1024);
    // hbm2e: 5 x 8 x 128 x 3.2 / 8 = 2048 GB/s
    expect(resolveDram(config({ standard: 'hbm2e' })).peakBandwidthGBps).toBeCloseTo(2048, 9);
    // hbm3: 5 x 16 x 64 x 6.4 / 8 = 4096 GB/s
    expect(resolveDram(config({ standard: 'hbm3' })).peakBandwidthGBps).toBeCloseTo(4096, 9);
    // gddr6: 8 chips x 2 ch x 16 bit x 16 Gb/s / 8 = 512 GB/s, 32 B bursts
    const g = resolveDram(config({ standard: 'gddr6' }));
    expect(g.peakBandwidthGBps).toBe(512);
    expect(g.burstBytes).toBe(32);
  });

  it('lets any field override the standard', () => {
    const r = resolveDram(config({ standard: 'hbm2', devices: 5, clCycles: 20, rowBytes: '2KiB' }));
    expect([r.channels, r.clCycles, r.rowBytes, r.tRCDCycles]).toEqual([40, 20, 2048, 14]);
  });

  it('rejects an interleave smaller than a burst, with the fix', () => {
    const r = dramSchema.safeParse({ interleaveBytes: 32 });
    expect(r.error?.issues[0].message).toBe('32 B is smaller than one burst (64 B); use at least 64 B');
    expect(r.error?.issues[0].path).toEqual(['interleaveBytes']);
    expect(dramSchema.safeParse({ standard: 'ddr9' }).error?.issues[0].message).toBe(
      '"ddr9" is not a device DRAM standard; use "hbm2", "hbm2e", "hbm3" or "gddr6"',
    );
  });

  it('marks which standards are approximate', () => {
    expect(DRAM_STANDARDS.hbm2.approximate).toBe(false);
    expect(DRAM_STANDARDS.hbm3.approximate).toBe(true);
  });
});

describe('Dram timing', () => {
  it('a read to a closed bank pays tRCD + CL, then the burst', () => {
    const d = oneStack();
    // activate at 0, column at tRCD = 14 ns, data from CL = 14 ns later, 64 B at 32 GB/s = 2 ns
    expect(d.access(0, 0, 64, false)).toBe(30_000);
    expect([d.rowMisses, d.rowHits, d.readBytes]).toEqual([1, 0, 64]);
  });

  it('a row hit pays only CL', () => {
    const d = oneStack();
    d.access(0, 0, 64, false);
    // Same row of channel 0, bank 0: column at 30 ns, data at 44 ns, done at 46 ns.
    expect(d.access(30_000, 64, 64, false)).toBe(46_000);
    expect([d.rowMisses, d.rowHits]).toEqual([1, 1]);
  });

  it('a row conflict precharges (tRP) and activates again', () => {
    const d = oneStack();
    d.access(0, 0, 64, false);
    // 256 KiB = chunk 1024 -> channel 0, channel-local offset 32 KiB -> row index 16 -> bank 0, row 1.
    // At 46 ns: precharge (tRAS = 34 ns since the activate at 0 has passed) 46 -> activate 60
    // -> column 74 -> data 88 -> done 90 ns.
    expect(d.access(46_000, 256 * 1024, 64, false)).toBe(90_000);
    expect(d.rowMisses).toBe(2);
  });

  it('a precharge waits for tRAS after the activate', () => {
    const d = oneStack();
    d.access(0, 0, 64, false); // activate at 0, bank busy until its column slot ends at 16 ns
    // Conflict issued at 1 ns: command at 16 ns, but precharge only at tRAS = 34 ns,
    // activate 48, column 62, data 76, done 78 ns.
    expect(d.access(1000, 256 * 1024, 64, false)).toBe(78_000);
  });

  it('writes use CWL', () => {
    const d = oneStack();
    // column at 14 ns, write data CWL = 4 ns later, 2 ns burst
    expect(d.access(0, 0, 64, true)).toBe(20_000);
    expect(d.writeBytes).toBe(64);
  });

  it('splits an access over channels and finishes with the slowest piece', () => {
    const d = oneStack();
    // 1 KiB = four 256 B chunks on channels 0-3, each 4 bursts: 28 ns + 4 x 2 ns = 36 ns.
    expect(d.access(0, 0, 1024, false)).toBe(36_000);
    // one miss and three hits per channel
    expect([d.rowMisses, d.rowHits]).toEqual([4, 12]);
    expect(Array.from(d.busyPs)).toEqual([8000, 8000, 8000, 8000, 0, 0, 0, 0]);
  });

  it('streams at the bus rate, row misses hidden behind other banks', () => {
    const d = new Dram(config({ devices: 1 }));
    // 8 MiB over 8 channels: 4096 pieces of 256 B per channel, 8 ns each at 32 GB/s, back to
    // back from the first data at 28 ns: 28 + 4096 x 8 = 32 796 ns (256 GB/s). The commands
    // are booked ahead of the bus; those that come after the first refresh (due at tREFI =
    // 3.9 us) find it over, but their row closed by it.
    expect(d.access(0, 0, 8 * MiB, false)).toBe(32_796_000);
    // Per channel 512 rows of 32 bursts: one miss and 31 hits each, and one more miss per
    // channel where the refresh closed the open row.
    expect(d.rowMisses).toBe(8 * 512 + 8);
    expect(d.rowHits).toBe(8 * 512 * 31 - 8);
  });

  it('spaces the activates of a channel by max(tRRD, tFAW / 4)', () => {
    const d = oneStack();
    // Four reads to banks 0-3 of channel 0 (2 KiB rows; a channel's 2 KiB is 16 KiB of addresses).
    const done = [0, 1, 2, 3].map((b) => d.access(0, b * 16 * 1024, 64, false));
    // Activates at 0, 7.5, 15, 22.5 ns (tFAW 30 / 4 > tRRD 4); each read ends tRCD + CL + burst = 30 ns later.
    expect(done).toEqual([30_000, 37_500, 45_000, 52_500]);
  });

  it('turns the data bus around: a read after a write waits tWTR + CL after the write data', () => {
    const d = oneStack();
    const write = d.access(0, 0, 64, true); // data 18-20 ns
    expect(write).toBe(20_000);
    // A row hit read issued at 20 ns: column at 16 ns would give data at 30 ns, but the bus
    // waits tWTR 6 + CL 14 after the write data: from 40 ns to 42 ns.
    expect(d.access(20_000, 64, 64, false)).toBe(42_000);
    // A write after that read waits only the read-to-write turnaround (2 ns).
    expect(d.access(20_000, 128, 64, true)).toBe(46_000);
  });

  it('refreshes every tREFI for tRP + tRFC: a command in the window waits, and the refresh closes the rows', () => {
    const d = new Dram(config({ devices: 1 }));
    d.access(0, 0, 64, false); // opens row 0 of bank 0
    expect(d.access(30_000, 64, 64, false)).toBe(46_000); // a row hit: CL + burst
    // At 3.9 us the channel closes its banks (tRP 14 ns) and refreshes until 4.174 us: a read
    // issued in it waits, and finds its row closed.
    expect(d.access(3_950_000, 128, 64, false)).toBe(4_174_000 + 30_000);
    expect(d.rowMisses).toBe(2);
  });

  it('rejects an access outside the device memory', () => {
    const d = new Dram(config({ capacityBytes: '1MiB' }));
    expect(() => d.access(0, MiB - 32, 64, false)).toThrow(RangeError);
    expect(d.access(7, 0, 0, false)).toBe(7);
  });

  it('handles addresses beyond 4 GiB with plain arithmetic', () => {
    const d = new Dram(config({ devices: 1, tRFCCycles: 0 }));
    // 12 GiB + 64: chunk 50 331 648 -> channel 0; a fresh bank: 30 ns like address 0.
    expect(d.access(0, 12 * GiB + 64, 64, false)).toBe(30_000);
    expect(d.access(0, 12 * GiB + 256, 64, false)).toBe(30_000); // channel 1, independent
  });
});

/**
 * access() walks an access piece by piece without dividing each piece's position out of
 * the address; the reference is what the controller does: decode() into pieces, then
 * commit() each. Both must give the same completion time and leave the same banks, buses
 * and counters.
 */
describe('Dram.access against decode and commit', () => {
  function referenceAccess(d: Dram, t: Ps, addr: number, bytes: number, write: boolean): Ps {
    if (bytes <= 0) return t;
    d.checkRange(addr, bytes);
    d.count(bytes, write);
    const pieces = new DramPieces();
    const n = d.decode(addr, bytes, pieces);
    let done = t;
    for (let i = 0; i < n; i++) {
      const finished = d.commit(t, pieces.channel[i], pieces.bank[i], pieces.row[i], pieces.bursts[i], write);
      if (finished > done) done = finished;
    }
    if (!write) d.countRead(t, done);
    d.noteSpan(t, done);
    return done;
  }

  /** Everything a later access or a report can see of a Dram. */
  function state(d: Dram, t: Ps): unknown {
    const banks = d.channels * d.banks;
    return {
      counters: [d.rowHits, d.rowMisses, d.readBytes, d.writeBytes, d.accesses, d.reads, d.readLatencyPs],
      span: [d.firstIssuePs, d.lastDonePs],
      busy: [...d.busyPs],
      banks: Array.from({ length: banks }, (_, b) => [d.bankReadyAt(b), d.openRowAt(b, t)]),
      servers: d.servers.map((s) => [s.nextFreePs, s.busyPs, s.bytes, s.reservations, s.queueWaitPs]),
    };
  }

  const layouts = fc.record({
    standard: fc.constantFrom('hbm2', 'hbm2e', 'hbm3', 'gddr6'),
    devices: fc.integer({ min: 1, max: 3 }),
    channelsPerDevice: fc.integer({ min: 1, max: 5 }),
    banksPerChannel: fc.integer({ min: 1, max: 20 }),
    rowBytes: fc.constantFrom(256, 1024, 2048, 8192),
    interleaveBytes: fc.constantFrom(64, 256, 2048, 16384),
    refresh: fc.boolean(),
  });
  const accesses = fc.array(
    fc.record({
      gap: fc.oneof(fc.constant(0), fc.nat(5_000), fc.nat(4_000_000)),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      bytes: fc.oneof(fc.constant(4096), fc.integer({ min: 1, max: 20_000 })),
      write: fc.boolean(),
    }),
    { minLength: 1, maxLength: 40 },
  );

  it('gives the same times and state for any layout, address, size and time (seed 7)', () => {
    fc.assert(
      fc.property(layouts, accesses, (layout, list) => {
        const { refresh, ...rest } = layout;
        const parsed = dramSchema.safeParse({ ...rest, capacityBytes: '1GiB', ...(refresh ? {} : { tRFCCycles: 0 }) });
        fc.pre(parsed.success);
        const fast = new Dram(parsed.data!);
        const reference = new Dram(parsed.data!);
        let t = 0;
        for (const a of list) {
          t += a.gap;
          const bytes = Math.min(a.bytes, GiB);
          const addr = Math.floor(a.at * (GiB - bytes));
          expect(fast.access(t, addr, bytes, a.write)).toBe(referenceAccess(reference, t, addr, bytes, a.write));
        }
        expect(state(fast, t)).toEqual(state(reference, t));
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
