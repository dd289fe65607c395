import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FAN, LEAF, PagedTable, SPARSE_CAP, type PageValuesConstructor } from './paged-table.js';
import { Rng } from './rng.js';

const CHUNK = LEAF;
const BLOCK = CHUNK * FAN;

type Op = { kind: 'set'; page: number; value: number } | { kind: 'fill'; page: number; length: number; value: number };

/** Operations clustered near block and chunk edges, where the levels meet. */
const opArb = (maxValue: number) => {
  const page = fc.oneof(
    fc.nat(4 * BLOCK - 1),
    fc.tuple(fc.nat(3), fc.integer({ min: -600, max: 600 })).map(([b, d]) => Math.max(0, (b + 1) * BLOCK + d)),
    fc.tuple(fc.nat(8), fc.integer({ min: -3, max: 3 })).map(([c, d]) => Math.max(0, (c + 1) * CHUNK + d)),
  );
  const value = fc.nat(maxValue);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), page, value }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('fill' as const),
        page,
        length: fc.oneof(fc.nat(1100), fc.nat(2 * BLOCK + 600)),
        value,
      }),
    },
  );
};

/**
 * The reference model: a step function kept as sorted breakpoints (page where a run of
 * equal values starts, and its value), adjacent runs always differing. A chunk differs
 * inside exactly when a breakpoint falls strictly inside it.
 */
class StepModel {
  starts = [0];
  values: number[];
  constructor(initial: number) {
    this.values = [initial];
  }
  private index(page: number): number {
    let i = this.starts.length - 1;
    while (this.starts[i] > page) i--;
    return i;
  }
  get(page: number): number {
    return this.values[this.index(page)];
  }
  fill(value: number, from: number, to: number): void {
    const after = this.get(to);
    const keep = (i: number) => this.starts[i] < from || this.starts[i] > to;
    const runs = this.starts.map((s, i) => [s, this.values[i]]).filter((_, i) => keep(i));
    runs.push([from, value], [to, after]);
    runs.sort((a, b) => a[0] - b[0]);
    this.starts = [];
    this.values = [];
    for (const [s, v] of runs) {
      if (this.values.length > 0 && this.values[this.values.length - 1] === v) continue;
      this.starts.push(s);
      this.values.push(v);
    }
  }
  /** Chunks (by index) whose pages differ. */
  differingChunks(): Set<number> {
    return new Set(this.starts.filter((s) => s % CHUNK !== 0).map((s) => Math.floor(s / CHUNK)));
  }
  /** Blocks (by index) whose pages differ. */
  differingBlocks(): Set<number> {
    return new Set(this.starts.filter((s) => s % BLOCK !== 0).map((s) => Math.floor(s / BLOCK)));
  }
}

/** Applies ops to a table and to the model, then compares them around every edge. */
function checkAgainstModel(Values: PageValuesConstructor, initial: number, ops: Op[], base = 0): void {
  const table = new PagedTable(Values, BLOCK, initial);
  const model = new StepModel(initial);
  const probes = new Set<number>();
  for (const op of ops) {
    const page = base + op.page;
    const length = op.kind === 'set' ? 1 : op.length;
    if (op.kind === 'set') table.set(page, op.value);
    else table.fill(op.value, page, page + length);
    if (length > 0) model.fill(op.value, page, page + length);
    probes.add(page).add(page + (length >> 1));
  }
  for (const s of model.starts) probes.add(s).add(s - 1);
  for (const p of probes) if (p >= 0) expect(table.get(p), `page ${p}`).toBe(model.get(p));
  // set() and fill() both compact what they make uniform: a block is uniform exactly when
  // its pages are, and in split blocks exactly the chunks whose pages differ hold a leaf.
  const differing = model.differingBlocks();
  for (const b of new Set([...probes].filter((p) => p >= 0).map((p) => Math.floor(p / BLOCK)))) {
    expect(table.blockKind(b * BLOCK) === 'uniform', `block ${b} uniform`).toBe(!differing.has(b));
  }
  const split = [...model.differingChunks()].filter((c) => table.blockKind(c * CHUNK) === 'split');
  expect(table.materialisedChunks).toBe(split.length);
}

describe('PagedTable', () => {
  it('matches a Map model under random sets and fills (seed 42)', () => {
    fc.assert(
      fc.property(fc.array(opArb(3), { maxLength: 60 }), (ops) => checkAgainstModel(Uint8Array, 0, ops)),
      { seed: 42, numRuns: 150 },
    );
  });

  it('matches a Map model for each element type (seed 42)', () => {
    for (const [Values, max, initial] of [
      [Uint16Array, 65535, 7],
      [Int32Array, 2 ** 31 - 1, -1],
      [Float64Array, 2 ** 40, 0.5],
    ] as const) {
      fc.assert(
        fc.property(fc.array(opArb(max), { maxLength: 40 }), (ops) => checkAgainstModel(Values, initial, ops)),
        { seed: 42, numRuns: 40 },
      );
    }
  });

  it('matches the model across the dense/Map boundary at 128 TiB and near 2^40 (seed 42)', () => {
    for (const base of [2 ** 35 - 2 * BLOCK, 2 ** 40 - 2 * BLOCK]) {
      fc.assert(
        fc.property(fc.array(opArb(3), { maxLength: 60 }), (ops) => checkAgainstModel(Uint8Array, 0, ops, base)),
        { seed: 42, numRuns: 80 },
      );
    }
  });

  it('matches the model when fills only (every uniform chunk compacted) (seed 42)', () => {
    const fillOnly = opArb(2).filter((op) => op.kind === 'fill');
    fc.assert(
      fc.property(fc.array(fillOnly, { maxLength: 40 }), (ops) => checkAgainstModel(Uint8Array, 0, ops)),
      { seed: 42, numRuns: 100 },
    );
  });

  it('matches the model when a sparse block fills its bucket, splits and empties (seed 42)', () => {
    // Sets scattered over one block, a few values (so pages also go back to the block's
    // value): the bucket fills past SPARSE_CAP and the block splits, with fills between.
    const inBlock = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ kind: fc.constant('set' as const), page: fc.nat(BLOCK - 1), value: fc.nat(2) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('fill' as const),
          page: fc.nat(BLOCK - 1),
          length: fc.nat(SPARSE_CAP + 20),
          value: fc.nat(2),
        }),
      },
    );
    fc.assert(
      fc.property(fc.array(inBlock, { minLength: SPARSE_CAP, maxLength: 3 * SPARSE_CAP }), (ops) =>
        checkAgainstModel(Uint16Array, 0, ops, BLOCK),
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('prints the seed when a property fails', () => {
    expect(() =>
      fc.assert(
        fc.property(fc.nat(), () => false),
        { seed: 42 },
      ),
    ).toThrow(/seed: 42/);
  });

  it('holds 100k random pages of a 1 TiB space (2^28 pages) in a few MB', () => {
    const pages = 2 ** 28;
    const table = new PagedTable(Uint8Array, pages);
    const rng = new Rng(1);
    const set = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) {
      const page = rng.nextInt(pages);
      table.set(page, 1 + (i % 200));
      set.set(page, 1 + (i % 200));
    }
    expect([...set].filter(([p, v]) => table.get(p) !== v)).toEqual([]);
    // About 24 pages in each of the 4096 blocks: all sparse, none split.
    expect([table.sparseBlocks, table.materialisedChunks]).toEqual([4096, 0]);
    expect(table.bytes()).toBeLessThan(4 * 2 ** 20);
    // Clearing the whole space drops everything but the top level.
    table.fill(0, 0, pages);
    expect([table.sparseBlocks, table.materialisedChunks]).toEqual([0, 0]);
    expect(table.bytes()).toBeLessThan(64 * 2 ** 10);
    expect([...set.keys()].filter((p) => table.get(p) !== 0)).toEqual([]);
  });

  it('un-materialises chunks that a fill makes uniform, and memory shrinks', () => {
    const table = new PagedTable(Uint8Array, 2 ** 20);
    const empty = table.bytes();
    for (let page = 0; page < 2 ** 20; page += 7) table.set(page, 3);
    expect(table.materialisedChunks).toBe(2 ** 20 / CHUNK);
    const full = table.bytes();
    expect(full).toBeGreaterThan(2 ** 20);
    // A partial fill that completes a chunk compacts it; a whole-chunk fill drops it.
    table.fill(3, 0, CHUNK);
    expect(table.materialisedChunks).toBe(2 ** 20 / CHUNK - 1);
    table.fill(5, CHUNK, 3 * CHUNK);
    expect(table.materialisedChunks).toBe(2 ** 20 / CHUNK - 3);
    expect([table.get(0), table.get(1), table.get(CHUNK + 1), table.get(3 * CHUNK)]).toEqual([3, 3, 5, 0]);
    table.fill(0, 0, 2 ** 20);
    expect(table.materialisedChunks).toBe(0);
    expect(table.bytes()).toBeLessThanOrEqual(2 * empty);
    expect(table.bytes()).toBeLessThan(full / 100);
  });

  it('un-materialises chunks and blocks that sets make uniform, page by page in any order', () => {
    // Pages faulted in one at a time (random order, as a gather does) end as small as one fill.
    const pages = 4 * BLOCK;
    const table = new PagedTable(Uint8Array, pages);
    const empty = table.bytes();
    const order = Array.from({ length: pages }, (_, i) => i);
    const rng = new Rng(5);
    for (let i = pages - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const page of order.slice(0, pages / 2)) table.set(page, 3);
    expect(table.materialisedChunks).toBe(pages / CHUNK);
    for (const page of order.slice(pages / 2)) table.set(page, 3);
    expect(table.materialisedChunks).toBe(0);
    expect(table.bytes()).toBeLessThanOrEqual(2 * empty);
    expect([table.get(0), table.get(pages - 1), table.get(pages)]).toEqual([3, 3, 0]);
    // One page set apart makes its block sparse again; setting it back makes it uniform.
    table.set(BLOCK + 5, 1);
    expect([table.blockKind(BLOCK), table.sparseBlocks, table.materialisedChunks]).toEqual(['sparse', 1, 0]);
    expect([table.get(BLOCK + 4), table.get(BLOCK + 5), table.get(BLOCK + 6)]).toEqual([3, 1, 3]);
    table.set(BLOCK + 5, 3);
    expect([table.blockKind(BLOCK), table.sparseBlocks]).toEqual(['uniform', 0]);
  });

  it('fills with the uniform value materialise nothing', () => {
    const table = new PagedTable(Uint8Array, 0, 9);
    table.fill(9, 100, 5 * BLOCK + 7);
    table.set(2 ** 30, 9);
    expect(table.materialisedChunks).toBe(0);
    table.fill(1, 100, 101);
    expect(table.sparseBlocks).toBe(1);
    table.fill(1, 1000, 1000 + SPARSE_CAP);
    expect([table.blockKind(0), table.materialisedChunks]).toEqual(['split', 3]); // chunks 0, 7 and 8
    expect([table.get(99), table.get(100), table.get(101)]).toEqual([9, 1, 9]);
  });

  it('works at page numbers around 2^31, 2^32 and 2^40', () => {
    const table = new PagedTable(Uint16Array);
    const pages = [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 - 1, 2 ** 40, 2 ** 40 + 511];
    pages.forEach((p, i) => table.set(p, 100 + i));
    pages.forEach((p, i) => expect(table.get(p), `page ${p}`).toBe(100 + i));
    // Neighbours that alias modulo 2^32 or 2^31 stay untouched.
    for (const p of [2 ** 40 - 2 ** 32, 2 ** 40 + 512, 2 ** 40 - 2 ** 31, 2 ** 8 - 1, 0]) {
      expect(table.get(p), `page ${p}`).toBe(0);
    }
    table.fill(7, 2 ** 40 - 3, 2 ** 40 + 2);
    expect([table.get(2 ** 40 - 4), table.get(2 ** 40 - 3), table.get(2 ** 40 + 1), table.get(2 ** 40 + 2)]).toEqual([
      0, 7, 7, 0,
    ]);
    // Pages above 128 TiB cost a Map entry per GiB block, not a dense top level.
    expect(table.bytes()).toBeLessThan(4 * 2 ** 20);
    table.fill(0, 2 ** 35, 2 ** 52);
    expect(table.get(2 ** 40)).toBe(0);
    expect(table.get(2 ** 32)).toBe(103);
    expect([table.sparseBlocks, table.materialisedChunks]).toEqual([4, 0]); // blocks 2^15 - 1, 2^15, 2^16 - 1, 2^16
    expect(() => table.fill(1, 2 ** 35, 2 ** 52)).toThrow(
      new RegExp(`fill of ${(2 ** 52 - 2 ** 35) / BLOCK} blocks of 256 MiB above 128 TiB`),
    );
    expect(table.get(2 ** 40)).toBe(0);
  });

  it('rejects bad pages and values with an error naming the field', () => {
    const table = new PagedTable(Uint8Array, 100);
    expect(() => table.set(-1, 1)).toThrow(/page must be an integer page number in \[0, 2\^52\), got -1/);
    expect(() => table.set(1.5, 1)).toThrow(/page .* got 1.5/);
    expect(() => table.set(2 ** 52, 1)).toThrow(/page .* got 4503599627370496/);
    expect(() => table.set(0, 256)).toThrow(/value 256 does not fit a Uint8Array element/);
    expect(() => table.fill(1, 10, 5)).toThrow(/endPage must be an integer in \[firstPage, 2\^52\], got 5/);
    expect(() => new PagedTable(Int32Array, 0, 0.5)).toThrow(/initialValue 0.5 does not fit a Int32Array/);
    expect(() => new PagedTable(Uint8Array, -5)).toThrow(/pageCount must be/);
    // Nothing stored was changed by the rejected calls.
    expect(table.materialisedChunks).toBe(0);
    expect(table.get(0)).toBe(0);
    const floats = new PagedTable(Float64Array);
    floats.set(3, NaN);
    expect(floats.get(3)).toBeNaN();
  });
});
