import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../engine/event-queue.js';
import { DRAM_WAITING, DramController, type DramControllerConfig } from './dram-controller.js';
import { Dram, dramSchema } from './dram.js';

const EV_BANK = 0;
const EV_DONE = 1;

/**
 * One HBM2 stack (8 channels, 16 banks, 2 KiB rows, 256 B interleave) without refresh, its
 * controller driven by the engine's event queue as the machine drives it.
 */
function rig(controller: Partial<DramControllerConfig> = {}, dram: Record<string, unknown> = {}) {
  const d = new Dram(dramSchema.parse({ devices: 1, tRFCCycles: 0, controller, ...dram }));
  const q = new EventQueue();
  const done = new Map<number, number>();
  const ctl = new DramController(d, dramSchema.parse({ controller }).controller, {
    bank: (t, bank) => q.push(t, EV_BANK, bank),
    done: (t, owner) => q.push(t, EV_DONE, owner),
  });
  /** Submits at `t` and records a completion known at once. */
  const submit = (t: number, owner: number, addr: number, bytes: number, write = false, admitOnly = false) => {
    const r = ctl.submit(t, owner, addr, bytes, write, admitOnly);
    if (r !== DRAM_WAITING) done.set(owner, r);
    return r;
  };
  /** Runs the queue dry (up to `until`, if given); completions land in `done`. */
  const run = (until = Infinity) => {
    while (q.length > 0 && q.peekTime() <= until && q.pop()) {
      if (q.lastKind === EV_BANK) ctl.decide(q.lastTarget, q.lastTime);
      else done.set(q.lastTarget, q.lastTime);
    }
  };
  return { d, ctl, q, done, submit, run };
}

/** Device address of 256-byte chunk `k` (0-7) of `row` in `bank` of `channel`, on one HBM2 stack. */
const addrOf = (channel: number, bank: number, row: number, k = 0) => {
  const local = (row * 16 + bank) * 2048 + k * 256;
  return ((local / 256) * 8 + channel) * 256;
};

describe('DRAM controller (FR-FCFS over per-bank queues, after DRAMSim3)', () => {
  it('maps the test addresses where it says', () => {
    const { d } = rig();
    const p = {
      channel: new Int32Array(4),
      bank: new Int32Array(4),
      row: new Float64Array(4),
      bursts: new Int32Array(4),
      grow() {},
    };
    expect(d.decode(addrOf(3, 5, 7, 2), 64, p)).toBe(1);
    expect([p.channel[0], p.bank[0], p.row[0], p.bursts[0]]).toEqual([3, 3 * 16 + 5, 7, 1]);
  });

  it('serves a request that finds its channel idle at once, with no event', () => {
    const { d, q, submit } = rig();
    const t = submit(0, 0, addrOf(0, 0, 1), 64);
    // Activate (0) + tRCD 14 + CL 14 + one 64 B burst at 32 GB/s (2 ns).
    expect(t).toBe(30_000);
    expect(q.length).toBe(0);
    expect(d.rowMisses).toBe(1);
  });

  for (const scheduler of ['fr-fcfs', 'fcfs'] as const) {
    it(`${scheduler}: a younger request to the open row ${scheduler === 'fr-fcfs' ? 'overtakes' : 'waits behind'} an older one to another row`, () => {
      const { ctl, done, submit, run } = rig({ scheduler });
      submit(0, 0, addrOf(0, 0, 1), 64); // opens row 1
      expect(submit(1000, 1, addrOf(0, 0, 2), 64)).toBe(DRAM_WAITING); // row 2: a conflict, queued
      expect(submit(2000, 2, addrOf(0, 0, 1, 1), 64)).toBe(DRAM_WAITING); // row 1 again: a hit, queued later
      run();
      const [conflict, hit] = [done.get(1)!, done.get(2)!];
      if (scheduler === 'fr-fcfs') {
        expect(hit).toBeLessThan(conflict);
        expect(ctl.reordered).toBe(1);
      } else {
        expect(conflict).toBeLessThan(hit);
        expect(ctl.reordered).toBe(0);
      }
    });
  }

  it('serves at most rowHitCap hits in a row before an older conflict', () => {
    const { done, submit, run } = rig({ rowHitCap: 4 });
    submit(0, 0, addrOf(0, 0, 1), 64); // opens row 1: the first of the run
    submit(1, 1, addrOf(0, 0, 2), 64); // the older conflict
    for (let i = 0; i < 6; i++) submit(2 + i, 2 + i, addrOf(0, 0, 1, 1 + (i % 7)), 64);
    run();
    const conflict = done.get(1)!;
    const hits = [2, 3, 4, 5, 6, 7].map((o) => done.get(o)!);
    // Three more hits make four with the opening access; then the conflict closes the row.
    expect(hits.slice(0, 3).every((h) => h < conflict)).toBe(true);
    expect(hits.slice(3).every((h) => h > conflict)).toBe(true);
  });

  it('posts writes: done a cycle after they enter the write buffer, drained later', () => {
    const { d, done, submit, run } = rig();
    submit(0, 0, addrOf(0, 0, 1), 64); // keeps bank 0 busy so the next ones queue
    submit(0, 1, addrOf(0, 0, 1, 1), 64); // a read queued behind it
    expect(submit(0, 2, addrOf(0, 1, 3), 64, true)).toBe(1000); // write: tCK later
    run();
    expect(d.writeBytes).toBe(64);
    // The write was drained once no read waited; its data went out after the read's.
    expect(d.lastDonePs).toBeGreaterThan(done.get(1)!);
  });

  it('holds a requester whose read queue is full until an entry frees', () => {
    const { ctl, done, submit, run } = rig({ transactionQueueEntries: 1, bankQueueEntries: 1 });
    submit(0, 0, addrOf(0, 0, 1), 64); // served at once
    submit(0, 1, addrOf(0, 0, 2), 64); // into bank 0's queue
    submit(0, 2, addrOf(0, 0, 3), 64); // into the read queue (bank queue full)
    expect(submit(0, 3, addrOf(0, 0, 4), 64)).toBe(DRAM_WAITING); // read queue full: waits
    expect(ctl.queueFullWaits).toBe(1);
    run();
    expect(ctl.queueFullWaitPs).toBeGreaterThan(0);
    expect([1, 2, 3].map((o) => done.get(o)!)).toEqual([...[1, 2, 3].map((o) => done.get(o)!)].sort((a, b) => a - b));
  });

  it('admit-only requesters (a trace front end) go on when admitted, not when served', () => {
    const { done, submit, run } = rig();
    submit(0, 0, addrOf(0, 0, 1), 64);
    expect(submit(0, 1, addrOf(0, 0, 2), 64, false, true)).toBe(0); // admitted into the read queue at once
    run();
    expect(done.get(1)).toBe(0);
  });

  it('serves every request exactly once, deterministically, whatever the mix (fixed seed)', () => {
    const request = fc.record({
      gap: fc.integer({ min: 0, max: 5000 }),
      channel: fc.integer({ min: 0, max: 1 }),
      bank: fc.integer({ min: 0, max: 3 }),
      row: fc.integer({ min: 0, max: 3 }),
      chunk: fc.integer({ min: 0, max: 7 }),
      bytes: fc.constantFrom(32, 64, 256, 512),
      write: fc.boolean(),
    });
    const config = fc.record({
      scheduler: fc.constantFrom('fr-fcfs' as const, 'fcfs' as const),
      transactionQueueEntries: fc.integer({ min: 1, max: 8 }),
      bankQueueEntries: fc.integer({ min: 1, max: 4 }),
      rowHitCap: fc.integer({ min: 1, max: 4 }),
      writeDrainLowWatermark: fc.integer({ min: 0, max: 4 }),
    });
    type Request = typeof request extends fc.Arbitrary<infer R> ? R : never;
    const play = (cfg: DramControllerConfig, reqs: Request[]) => {
      const r = rig(cfg);
      const submitted: number[] = [];
      let t = 0;
      reqs.forEach((q, owner) => {
        t += q.gap;
        r.run(t);
        submitted.push(t);
        r.submit(t, owner, addrOf(q.channel, q.bank, q.row, q.chunk), q.bytes, q.write);
      });
      r.run();
      const done = [...r.done.entries()].sort((x, y) => x[0] - y[0]);
      return { done, submitted, reads: r.d.reads, bytes: r.d.readBytes + r.d.writeBytes };
    };
    fc.assert(
      fc.property(config, fc.array(request, { minLength: 1, maxLength: 60 }), (cfg, reqs) => {
        const a = play(cfg, reqs);
        // Every requester heard back once, no earlier than it asked; every byte was counted.
        expect(a.done.map(([owner]) => owner)).toEqual(reqs.map((_, i) => i));
        for (const [owner, at] of a.done) expect(at, `owner ${owner}`).toBeGreaterThanOrEqual(a.submitted[owner]);
        expect(a.bytes).toBe(reqs.reduce((sum, q) => sum + q.bytes, 0));
        expect(play(cfg, reqs)).toEqual(a);
      }),
      { seed: 20261202, numRuns: 300, endOnFailure: true },
    );
  });
});
