import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TagPool } from './tag-pool.js';

describe('TagPool', () => {
  it('lets `size` requests in at once and makes the next wait for the first tag to free', () => {
    const tags = new TagPool(2);
    expect(tags.acquire(100)).toBe(100);
    tags.hold(1200);
    expect(tags.acquire(150)).toBe(150);
    tags.hold(900);
    // Both in flight: the third waits for the one that frees first (900), not the first issued.
    expect(tags.acquire(200)).toBe(900);
    tags.hold(2000);
    expect(tags.stalls).toBe(1);
    expect(tags.waitPs).toBe(700);
    expect(tags.nextFreePs).toBe(1200);
  });

  it('a request split into several takes as many tags, waiting for the last it needs', () => {
    const tags = new TagPool(4);
    for (const until of [500, 300, 700]) {
      tags.acquire(0);
      tags.hold(until);
    }
    // Free: one now, then 300, 500, 700. Three tags are all free at 500.
    expect(tags.acquire(100, 3)).toBe(500);
    tags.hold(1000, 3);
    // Left: the tag freeing at 700 and three held until 1000.
    expect(tags.acquire(100)).toBe(700);
    expect(tags.acquire(100, 4)).toBe(1000);
    // Asking for more than exist waits for all of them.
    expect(tags.acquire(100, 9)).toBe(1000);
  });

  it('refuses an empty pool', () => {
    expect(() => new TagPool(0)).toThrow(/at least one tag/);
  });

  it('always grants the time the count-th earliest tag frees, as a sorted list of free times would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 5000 }),
            fc.integer({ min: 1, max: 12 }),
            fc.integer({ min: 0, max: 3000 }),
          ),
          {
            maxLength: 200,
          },
        ),
        (size, requests) => {
          const pool = new TagPool(size);
          const shadow = new Array<number>(size).fill(0);
          for (const [t, count, hold] of requests) {
            shadow.sort((a, b) => a - b);
            const k = Math.min(count, size);
            const expected = Math.max(t, shadow[k - 1]);
            expect(pool.acquire(t, count)).toBe(expected);
            pool.hold(expected + hold, count);
            for (let i = 0; i < k; i++) shadow[i] = expected + hold;
          }
        },
      ),
      { seed: 6, numRuns: 200 },
    );
  });

  it('holds as the binary heap it replaced did, whatever the order of times (seed 8)', () => {
    // The heap: acquire read the count-th earliest free time, hold replaced the earliest
    // `count` times. Here holds also come without acquire and with times earlier than
    // the tags they take, which the machine never does.
    class HeapModel {
      readonly heap: number[];
      constructor(size: number) {
        this.heap = new Array<number>(size).fill(0);
      }
      kth(k: number): number {
        return [...this.heap].sort((a, b) => a - b)[k - 1];
      }
      hold(until: number, count: number): void {
        for (let i = Math.min(count, this.heap.length); i > 0; i--) {
          this.heap.sort((a, b) => a - b);
          this.heap[0] = until;
        }
      }
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 25 })), {
          minLength: 20,
          maxLength: 300,
        }),
        (size, ops) => {
          const pool = new TagPool(size);
          const model = new HeapModel(size);
          for (const [isHold, t, count] of ops) {
            if (isHold) {
              pool.hold(t, count);
              model.hold(t, count);
            } else if (count > 0) {
              expect(pool.acquire(t, count)).toBe(Math.max(t, model.kth(Math.min(count, size))));
            }
            expect(pool.nextFreePs).toBe(model.kth(1));
          }
        },
      ),
      { seed: 8, numRuns: 300 },
    );
  });
});
