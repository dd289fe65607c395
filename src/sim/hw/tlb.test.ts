import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tlb, tlbSchema, tlbSchemaWith } from './tlb.js';

describe('Tlb', () => {
  it('evicts the least recently used way of a set', () => {
    // 8 entries, 2 ways -> 4 sets; pages 0, 4 and 8 all map to set 0.
    const tlb = new Tlb(8, 2);
    expect(tlb.sets).toBe(4);
    tlb.insert(0, 1);
    tlb.insert(4, 2);
    expect(tlb.lookup(0)).toBe(1); // 0 is now more recent than 4
    tlb.insert(8, 3); // evicts 4
    expect(tlb.lookup(4)).toBe(-1);
    expect(tlb.lookup(0)).toBe(1);
    expect(tlb.lookup(8)).toBe(3);
    expect(tlb.hits).toBe(3);
    expect(tlb.misses).toBe(1);
    expect(tlb.evictions).toBe(1);
  });

  it('does not disturb other sets', () => {
    const tlb = new Tlb(8, 2);
    tlb.insert(1, 7); // set 1
    tlb.insert(0, 1);
    tlb.insert(4, 1);
    tlb.insert(8, 1); // set 0 churn
    expect(tlb.lookup(1)).toBe(7);
  });

  it('re-inserting a present page updates its flags without an eviction', () => {
    const tlb = new Tlb(4, 2);
    tlb.insert(2, 1);
    tlb.insert(2, 255);
    expect(tlb.probe(2)).toBe(255);
    expect(tlb.evictions).toBe(0);
    expect(tlb.occupancy()).toBe(1);
  });

  it('keeps page numbers beyond 32 bits apart', () => {
    // 2^40 | 0 === 0 in 32-bit arithmetic; the TLB must not alias 2^40 with page 0.
    const big = 2 ** 40;
    const tlb = new Tlb(6, 2); // 3 sets; 2^40 mod 3 = 1 (4^20 mod 3 = 1), page 0 -> set 0
    tlb.insert(0, 1);
    tlb.insert(big, 2);
    tlb.insert(big + 3, 3); // (2^40 + 3) mod 3 = 1: same set as 2^40
    expect(tlb.lookup(0)).toBe(1);
    expect(tlb.lookup(big)).toBe(2);
    expect(tlb.lookup(big + 3)).toBe(3);
  });

  it('probe neither counts nor refreshes LRU', () => {
    const tlb = new Tlb(2, 2);
    tlb.insert(0, 1);
    tlb.insert(1, 1);
    expect(tlb.probe(0)).toBe(1); // 0 stays least recently used
    tlb.insert(2, 1);
    expect(tlb.probe(0)).toBe(-1);
    expect(tlb.hits + tlb.misses).toBe(0);
  });

  it('invalidates one page and short ranges page by page', () => {
    const tlb = new Tlb(8, 2);
    for (let p = 10; p < 14; p++) tlb.insert(p, 1);
    expect(tlb.invalidatePage(10)).toBe(1);
    expect(tlb.invalidatePage(10)).toBe(0);
    // count 2 <= 4 sets: per-page path
    expect(tlb.invalidateRange(11, 2)).toBe(2);
    expect(tlb.probe(11)).toBe(-1);
    expect(tlb.probe(12)).toBe(-1);
    expect(tlb.probe(13)).toBe(1);
    expect(tlb.invalidated).toBe(3);
  });

  it('invalidates long ranges by scanning, however long the range', () => {
    const tlb = new Tlb(8, 2);
    for (let p = 100; p < 104; p++) tlb.insert(p, 1);
    tlb.insert(200, 1);
    // 150 pages > 4 sets: one scan of 8 entries removes 100..103 and keeps 200.
    expect(tlb.invalidateRange(0, 150)).toBe(4);
    expect(tlb.probe(200)).toBe(1);
    // A 2^40-page range would take hours page by page; the scan is 8 comparisons.
    expect(tlb.invalidateRange(0, 2 ** 40)).toBe(1);
    expect(tlb.occupancy()).toBe(0);
  });

  it('flush empties every set', () => {
    const tlb = new Tlb(16, 4);
    for (let p = 0; p < 16; p++) tlb.insert(p, 1);
    expect(tlb.occupancy()).toBe(16);
    tlb.flush();
    expect(tlb.occupancy()).toBe(0);
    expect(tlb.invalidated).toBe(16);
    expect(tlb.lookup(3)).toBe(-1);
  });

  it('rejects a shape with a partial set', () => {
    expect(() => new Tlb(30, 4)).toThrow(RangeError);
  });
});

describe('tlbSchema', () => {
  it('defaults to 32 entries, fully associative', () => {
    expect(tlbSchema.parse({})).toEqual({ entries: 32, ways: 32 });
  });

  it('says how to fix entries that are not a multiple of ways', () => {
    const r = tlbSchema.safeParse({ entries: 30, ways: 4 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toBe('30 entries is not a multiple of 4 ways; use e.g. 28 or 32');
    expect(r.error?.issues[0].path).toEqual(['entries']);
  });

  it('rejects more ways than entries and unknown keys', () => {
    expect(tlbSchema.safeParse({ entries: 4, ways: 8 }).error?.issues[0].message).toBe(
      '8 ways is more than the 4 entries; use at most 4',
    );
    expect(tlbSchema.safeParse({ entires: 4 }).error?.issues[0].message).toBe(
      'unknown field "entires"; did you mean "entries"?',
    );
  });

  it('takes per-use defaults', () => {
    expect(tlbSchemaWith({ entries: 2048, ways: 4 }, 'IOTLB').parse({})).toEqual({ entries: 2048, ways: 4 });
  });
});

/** LRU sets as lists, most recent last: what Tlb must behave as, whatever its shortcuts. */
class ListTlb {
  readonly sets: { vpn: number; flags: number }[][];
  hits = 0;
  misses = 0;
  evictions = 0;
  constructor(
    entries: number,
    readonly ways: number,
  ) {
    this.sets = Array.from({ length: entries / ways }, () => []);
  }
  private set(vpn: number) {
    return this.sets[vpn % this.sets.length];
  }
  lookup(vpn: number): number {
    const set = this.set(vpn);
    const i = set.findIndex((e) => e.vpn === vpn);
    if (i < 0) {
      this.misses++;
      return -1;
    }
    this.hits++;
    const [e] = set.splice(i, 1);
    set.push(e);
    return e.flags;
  }
  insert(vpn: number, flags: number): void {
    const set = this.set(vpn);
    const i = set.findIndex((e) => e.vpn === vpn);
    if (i >= 0) set.splice(i, 1);
    else if (set.length === this.ways) {
      set.shift();
      this.evictions++;
    }
    set.push({ vpn, flags });
  }
  invalidatePage(vpn: number): number {
    const set = this.set(vpn);
    const i = set.findIndex((e) => e.vpn === vpn);
    if (i >= 0) set.splice(i, 1);
    return i >= 0 ? 1 : 0;
  }
  invalidateRange(first: number, count: number): number {
    let removed = 0;
    for (const set of this.sets) {
      const before = set.length;
      set.splice(0, set.length, ...set.filter((e) => e.vpn < first || e.vpn >= first + count));
      removed += before - set.length;
    }
    return removed;
  }
  lookupEither(a: number, b: number): number {
    const inA = this.set(a).some((e) => e.vpn === a);
    if (inA || this.set(b).some((e) => e.vpn === b)) return this.lookup(inA ? a : b);
    this.misses++;
    return -1;
  }
  flush(): void {
    for (const set of this.sets) set.length = 0;
  }
  /** Every set's pages, least recently used first. */
  contents(): number[][] {
    return this.sets.map((set) => set.map((e) => e.vpn));
  }
}

/**
 * `tlb`'s sets, least recently used first, read destructively: new pages fill each set's
 * empty ways, then evict its pages oldest first.
 */
function drainInLruOrder(tlb: Tlb, pages: readonly number[]): number[][] {
  const sets = tlb.sets;
  return Array.from({ length: sets }, (_, s) => {
    let present = pages.filter((p) => p % sets === s && tlb.probe(p) >= 0);
    const order: number[] = [];
    // A correct LRU set evicts all of them within `ways` inserts.
    for (let k = 0; present.length > 0 && k < tlb.ways; k++) {
      tlb.insert(2 ** 50 + s + k * sets, 0); // 2^50 is a multiple of the power-of-two set counts used
      order.push(...present.filter((p) => tlb.probe(p) < 0));
      present = present.filter((p) => tlb.probe(p) >= 0);
    }
    return [...order, ...present];
  });
}

describe('Tlb against a list-per-set LRU model', () => {
  it('hits, misses, evicts and returns flags as the model does, inserts after misses included', () => {
    // Pages in a small range (many conflicts) and beyond 2^32 (the set index by %, not by mask).
    const page = fc.oneof(
      fc.nat(40),
      fc.nat(40).map((p) => 2 ** 33 + p),
    );
    const op = fc.tuple(fc.nat(13), page, fc.nat(255), page, fc.nat(30));
    fc.assert(
      fc.property(
        fc.constantFrom([8, 2], [12, 3], [16, 16], [16, 4]),
        fc.array(op, { minLength: 50, maxLength: 400, size: 'max' }),
        ([entries, ways], ops) => {
          const tlb = new Tlb(entries, ways);
          const model = new ListTlb(entries, ways);
          const seen = new Set<number>();
          for (const [kind, vpn, flags, other, count] of ops) {
            seen.add(vpn);
            if (kind < 5) {
              const got = tlb.lookup(vpn);
              expect(got).toBe(model.lookup(vpn));
              // The driver's pattern: a miss, then the insert of the page it missed.
              if (got < 0 && kind < 4) {
                tlb.insert(vpn, flags);
                model.insert(vpn, flags);
              }
            } else if (kind < 8) {
              tlb.insert(vpn, flags);
              model.insert(vpn, flags);
            } else if (kind < 10) {
              expect(tlb.invalidatePage(vpn)).toBe(model.invalidatePage(vpn));
            } else if (kind < 12) {
              // Short ranges go page by page, long ones (more pages than sets) by a scan.
              expect(tlb.invalidateRange(vpn, count)).toBe(model.invalidateRange(vpn, count));
            } else if (kind < 13) {
              expect(tlb.lookupEither(vpn, other)).toBe(model.lookupEither(vpn, other));
            } else {
              tlb.flush();
              model.flush();
            }
          }
          expect([tlb.hits, tlb.misses, tlb.evictions]).toEqual([model.hits, model.misses, model.evictions]);
          expect(tlb.occupancy()).toBe(model.contents().flat().length);
          expect(drainInLruOrder(tlb, [...seen])).toEqual(model.contents());
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
