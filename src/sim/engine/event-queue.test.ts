import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('pops in time order, equal times in insertion order', () => {
    const q = new EventQueue(2);
    q.push(30, 1, 0);
    q.push(10, 1, 1);
    q.push(10, 1, 2);
    q.push(20, 1, 3);
    q.push(10, 1, 4);
    const order: number[] = [];
    while (q.pop()) order.push(q.lastTarget);
    expect(order).toEqual([1, 2, 4, 3, 0]);
    expect(q.popped).toBe(5);
  });

  it('matches a sort by (time, insertion) for any sequence of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.boolean()), { maxLength: 300 }), (ops) => {
        const q = new EventQueue(1);
        const model: [number, number][] = [];
        let id = 0;
        for (const [time, popNow] of ops) {
          q.push(time, 0, id);
          model.push([time, id++]);
          if (popNow) {
            model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
            const [t, target] = model.shift()!;
            expect(q.pop()).toBe(true);
            expect([q.lastTime, q.lastTarget]).toEqual([t, target]);
          }
        }
        model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        for (const [t, target] of model) {
          expect(q.pop()).toBe(true);
          expect([q.lastTime, q.lastTarget]).toEqual([t, target]);
        }
        expect(q.pop()).toBe(false);
      }),
    );
  });

  it('peeks and counts the remaining events between a pop and the next push or pop', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.nat(2)), { maxLength: 300 }), (ops) => {
        const q = new EventQueue(1);
        const model: [number, number][] = [];
        let id = 0;
        const check = () => {
          model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          expect(q.length).toBe(model.length);
          expect(q.peekTime()).toBe(model.length ? model[0][0] : Infinity);
        };
        for (const [time, op] of ops) {
          if (op !== 2) {
            q.push(time, 0, id);
            model.push([time, id++]);
            check();
          }
          if (op !== 0) {
            expect(q.pop()).toBe(model.length > 0);
            if (model.length) expect([q.lastTime, q.lastTarget]).toEqual(model.shift());
            check();
          }
        }
      }),
      { seed: 5, verbose: true },
    );
  });

  it("gives back each event's kind, target and argument, whatever the interleaving of pushes and pops (seed 9)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(50), fc.nat(5), fc.double({ min: 0, max: 2 ** 40, noNaN: true }), fc.nat(3)), {
          maxLength: 400,
        }),
        (ops) => {
          const q = new EventQueue(2);
          const model: { time: number; id: number; kind: number; arg: number }[] = [];
          let id = 0;
          const popAndCheck = () => {
            model.sort((a, b) => a.time - b.time || a.id - b.id);
            const e = model.shift()!;
            expect(q.pop()).toBe(true);
            expect([q.lastTime, q.lastKind, q.lastTarget, q.lastArg]).toEqual([e.time, e.kind, e.id, e.arg]);
          };
          for (const [time, kind, arg, pops] of ops) {
            q.push(time, kind, id, arg);
            model.push({ time, id: id++, kind, arg });
            for (let k = 0; k < pops && model.length > 0; k++) popAndCheck();
          }
          while (model.length > 0) popAndCheck();
          expect(q.pop()).toBe(false);
        },
      ),
      { seed: 9 },
    );
  });

  it('rejects times that are not whole picoseconds', () => {
    const q = new EventQueue();
    expect(() => q.push(1.5, 0, 0)).toThrow(/integer of picoseconds/);
    expect(() => q.push(-1, 0, 0)).toThrow(/non-negative/);
  });
});
