/**
 * A per-4 KiB-page table whose memory grows with the pages that differ from their
 * neighbours, not with the virtual footprint: a 1 TiB address space (2^28 pages) with
 * 100k scattered pages set costs tens of MB, not 256 MB or more.
 *
 * Three levels, every level stored in flat pooled typed arrays (no object per chunk,
 * nothing for the garbage collector to trace):
 * - a block (512 chunks, 256 MiB of address space) is uniform (one value in
 *   `blockValue`), sparse (its value and up to SPARSE_CAP pages that differ from it,
 *   kept sorted in a bucket) or split (it owns a block slot: 512 chunk values and 512
 *   leaf slots);
 * - a chunk (128 pages, 512 KiB) of a split block is either uniform (its chunk value)
 *   or owns a leaf: 128 page values, materialised only when its pages differ.
 * A block starts sparse when a page first differs and splits when its bucket is full:
 * pages scattered one or a few per block (100 k pages over 1 TiB: 24 per block) cost a
 * bucket of 128 entries per block, not 2.5 KiB of chunks plus a 128-page leaf each.
 * The top level is dense (`blockSlot`, `blockValue`, 5 to 12 bytes per block) over the
 * first 128 TiB, the whole x86-64 user half, growing by doubling as blocks are touched;
 * blocks above that (any page up to 2^52, a 64-bit address space) live in two Maps,
 * reached only off the fast path.
 *
 * Slots are kept dense by swap-remove (freeing a slot moves the last one into it), so a
 * fill that makes chunks uniform again shrinks the pools, and memory with them.
 *
 * Page numbers are integers in [0, 2^52). Chunk and block indices are computed with
 * division, not 32-bit shifts, so pages at or above 2^31 work; `x & 511` is still exact
 * because ToInt32 keeps the low 32 bits of any integer below 2^53.
 */

/** Element arrays a table can hold; one kind per table. */
export type PageValues = Uint8Array | Uint16Array | Int32Array | Float64Array;
export type PageValuesConstructor = {
  new (length: number): PageValues;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

/**
 * Pages per chunk (leaf) and chunks per block. A leaf of 128 pages keeps scattered
 * touches cheap (100 k random pages in 1 TiB: about 13 MB of leaves and 10 MB of block
 * slots per byte-wide table, against 46 + 3 MB with 512-page leaves).
 */
export const LEAF = 128;
const LEAF_SHIFT = 7;
export const FAN = 512;
/** Pages per block: 65536, 256 MiB of address space. */
const BLOCK_PAGES = LEAF * FAN;
const BLOCK_SHIFT = 16;
/** Blocks covered by the dense top level: 2^19 blocks of 256 MiB = 128 TiB. */
const DENSE_BLOCKS = 2 ** 19;
/** Exclusive upper bound of page numbers: a 64-bit address space of 4 KiB pages. */
export const PAGE_LIMIT = 2 ** 52;
/** Largest fill above the dense top level with a value other than the initial one. */
const MAX_FAR_FILL_BLOCKS = 2 ** 20;
/**
 * Pages a sparse block holds apart from its value before it splits. A bucket (3 to 10
 * bytes an entry) beats a split block (2.5 KiB of chunks and a leaf of 128 pages per
 * touched chunk) for scattered pages well beyond this; the cap bounds the binary search.
 */
export const SPARSE_CAP = 128;
/** blockSlot codes: -1 uniform; a sparse block's bucket b is coded -2 - b; >= 0 a slot. */
const UNIFORM = -1;

export class PagedTable {
  private readonly Values: PageValuesConstructor;
  private readonly initialValue: number;
  /** One element of the table's kind, to check that a value is representable. */
  private readonly probe: PageValues;

  // Top level, indexed by block: its slot (-1 when uniform) and its uniform value.
  private blockSlot: Int32Array;
  private blockValue: PageValues;
  // Blocks at or above DENSE_BLOCKS: slots of split blocks, values other than initial.
  private readonly farSlot = new Map<number, number>();
  private readonly farValue = new Map<number, number>();

  // Block slots: FAN chunk values and FAN leaf slots (-1 when uniform) each, and the
  // block that owns each slot (to fix its pointer when swap-remove moves the slot).
  private chunkValue: PageValues;
  private chunkLeaf: Int32Array;
  private blockOwner: Float64Array;
  private blockSlots = 0;

  // Leaves: LEAF page values each, and the chunk (global index) that owns each.
  private leaves: PageValues;
  private leafOwner: Float64Array;
  private leafCount = 0;

  // Buckets of sparse blocks: SPARSE_CAP page offsets (sorted) and values each, the
  // number in use, and the block that owns each bucket.
  private sparseOffset: Uint16Array;
  private sparseValue: PageValues;
  private sparseCount: Int32Array;
  private sparseOwner: Float64Array;
  private buckets = 0;

  /**
   * @param Values the element array type (Uint8Array, Uint16Array, Int32Array, Float64Array)
   * @param pageCount pages expected (a sizing hint; higher pages still work)
   * @param initialValue the value of every page until set
   */
  constructor(Values: PageValuesConstructor, pageCount = 0, initialValue = 0) {
    this.Values = Values;
    this.probe = new Values(1);
    this.checkValue(initialValue, 'initialValue');
    if (!Number.isInteger(pageCount) || pageCount < 0 || pageCount > PAGE_LIMIT) {
      throw new RangeError(`pageCount must be an integer in [0, 2^52], got ${pageCount}`);
    }
    this.initialValue = initialValue;
    const blocks = Math.min(DENSE_BLOCKS, Math.max(1, Math.ceil(pageCount / BLOCK_PAGES)));
    this.blockSlot = new Int32Array(blocks).fill(-1);
    this.blockValue = new Values(blocks).fill(initialValue);
    this.chunkValue = new Values(FAN);
    this.chunkLeaf = new Int32Array(FAN);
    this.blockOwner = new Float64Array(1);
    this.leaves = new Values(LEAF * 4);
    this.leafOwner = new Float64Array(4);
    this.sparseOffset = new Uint16Array(SPARSE_CAP);
    this.sparseValue = new Values(SPARSE_CAP);
    this.sparseCount = new Int32Array(1);
    this.sparseOwner = new Float64Array(1);
  }

  /** Number of chunks of split blocks whose pages are held one by one. */
  get materialisedChunks(): number {
    return this.leafCount;
  }

  /** Number of blocks held as a value and a bucket of the pages that differ from it. */
  get sparseBlocks(): number {
    return this.buckets;
  }

  /** How the block holding `page` is stored (for tests and memory reports). */
  blockKind(page: number): 'uniform' | 'sparse' | 'split' {
    this.checkPage(page, 'page');
    const code = this.slotOf(Math.floor(page / BLOCK_PAGES));
    return code >= 0 ? 'split' : code === UNIFORM ? 'uniform' : 'sparse';
  }

  /** Bytes held by the table's arrays (their capacity, not just the part in use). */
  bytes(): number {
    const mapEntryBytes = 40; // V8's ordered hash table, roughly, per entry
    return (
      (this.farSlot.size + this.farValue.size) * mapEntryBytes +
      this.blockSlot.byteLength +
      this.blockValue.byteLength +
      this.chunkValue.byteLength +
      this.chunkLeaf.byteLength +
      this.blockOwner.byteLength +
      this.leaves.byteLength +
      this.leafOwner.byteLength +
      this.sparseOffset.byteLength +
      this.sparseValue.byteLength +
      this.sparseCount.byteLength +
      this.sparseOwner.byteLength
    );
  }

  /** The value of `page` (an integer in [0, 2^52); not checked, for speed). */
  get(page: number): number {
    // Pages below 2^31 (an 8 TiB space) take integer shifts; higher ones exact division.
    const small = page <= 0x7fffffff;
    const chunk = small ? page >> LEAF_SHIFT : Math.floor(page / LEAF);
    const block = small ? page >> BLOCK_SHIFT : Math.floor(chunk / FAN);
    let slot: number;
    if (block < this.blockSlot.length) {
      slot = this.blockSlot[block];
      if (slot < 0) {
        if (slot === UNIFORM) return this.blockValue[block];
        return this.sparseGet(-2 - slot, page - block * BLOCK_PAGES, this.blockValue[block]);
      }
    } else {
      slot = this.slotOf(block);
      if (slot < 0) {
        if (slot === UNIFORM) return this.valueOf(block);
        return this.sparseGet(-2 - slot, page - block * BLOCK_PAGES, this.valueOf(block));
      }
    }
    const at = slot * FAN + (chunk & (FAN - 1));
    const leaf = this.chunkLeaf[at];
    if (leaf < 0) return this.chunkValue[at];
    return this.leaves[leaf * LEAF + (page & (LEAF - 1))];
  }

  set(page: number, value: number): void {
    this.checkPage(page, 'page');
    this.checkValue(value, 'value');
    const chunk = Math.floor(page / LEAF);
    const block = Math.floor(chunk / FAN);
    if (block >= this.blockSlot.length) this.growTop(block, value);
    let slot = this.slotOf(block);
    if (slot < 0) {
      const uniform = this.valueOf(block);
      if (slot === UNIFORM) {
        if (uniform === value) return;
        slot = this.newBucket(block);
      }
      if (this.sparseSet(-2 - slot, block, page - block * BLOCK_PAGES, value, uniform)) return;
      slot = this.splitSparse(block);
    }
    this.setInSlot(block, slot, chunk, page, value);
  }

  /** Sets `page` (in `chunk` of split `block`, at `slot`), compacting what becomes uniform. */
  private setInSlot(block: number, slot: number, chunk: number, page: number, value: number): void {
    const at = slot * FAN + (chunk & (FAN - 1));
    let leaf = this.chunkLeaf[at];
    if (leaf < 0) {
      if (this.chunkValue[at] === value) return;
      leaf = this.splitChunk(at, chunk);
    }
    const offset = page & (LEAF - 1);
    const i = leaf * LEAF + offset;
    this.leaves[i] = value;
    // A set that makes its chunk uniform drops the leaf (and the block's slot when the
    // whole block is then uniform): a table that fills up page by page (faults) ends as
    // small as a filled one, and its lookups touch no leaf. A neighbour that differs
    // settles it at once (pages set in order); only then is the whole leaf compared.
    const before = offset > 0 ? this.leaves[i - 1] : value;
    const after = offset < LEAF - 1 ? this.leaves[i + 1] : value;
    if (before === value && after === value && this.leafIsUniform(leaf, value)) {
      this.freeLeaf(leaf, at);
      this.chunkValue[at] = value;
      this.compactBlock(block);
    }
  }

  /** Index in the bucket arrays of the first entry of bucket `b` at or after `offset`. */
  private sparseFind(b: number, offset: number): number {
    const offsets = this.sparseOffset;
    let lo = b * SPARSE_CAP;
    let hi = lo + this.sparseCount[b];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The value of the page at `offset` in the block of bucket `b` (whose value is `uniform`). */
  private sparseGet(b: number, offset: number, uniform: number): number {
    const i = this.sparseFind(b, offset);
    return i < b * SPARSE_CAP + this.sparseCount[b] && this.sparseOffset[i] === offset ? this.sparseValue[i] : uniform;
  }

  /**
   * Sets the page at `offset` of `block` (bucket `b`, block value `uniform`). A page set
   * back to the block's value leaves the bucket, and the last one to leave makes the
   * block uniform. Returns false, changing nothing, when the bucket is full.
   */
  private sparseSet(b: number, block: number, offset: number, value: number, uniform: number): boolean {
    const offsets = this.sparseOffset;
    const values = this.sparseValue;
    const count = this.sparseCount[b];
    const end = b * SPARSE_CAP + count;
    const i = this.sparseFind(b, offset);
    if (i < end && offsets[i] === offset) {
      if (value !== uniform) {
        values[i] = value;
        return true;
      }
      offsets.copyWithin(i, i + 1, end);
      values.copyWithin(i, i + 1, end);
      if (--this.sparseCount[b] === 0) this.freeBucket(b, block);
      return true;
    }
    if (value === uniform) return true;
    if (count === SPARSE_CAP) return false;
    offsets.copyWithin(i + 1, i, end);
    values.copyWithin(i + 1, i, end);
    offsets[i] = offset;
    values[i] = value;
    this.sparseCount[b] = count + 1;
    return true;
  }

  /** Drops the entries of bucket `b` (of `block`) at offsets [from, to). */
  private sparseClear(b: number, block: number, from: number, to: number): void {
    const i = this.sparseFind(b, from);
    const j = this.sparseFind(b, to);
    if (i === j) return;
    const end = b * SPARSE_CAP + this.sparseCount[b];
    this.sparseOffset.copyWithin(i, j, end);
    this.sparseValue.copyWithin(i, j, end);
    if ((this.sparseCount[b] -= j - i) === 0) this.freeBucket(b, block);
  }

  /** Makes uniform `block` sparse with an empty bucket; returns its code. */
  private newBucket(block: number): number {
    const b = this.buckets++;
    if (b >= this.sparseOwner.length) this.resizeBuckets(this.sparseOwner.length * 2);
    this.sparseCount[b] = 0;
    this.sparseOwner[b] = block;
    this.setSlot(block, -2 - b);
    return -2 - b;
  }

  /** Drops bucket `b` (its block becomes uniform), moving the last bucket into its place. */
  private freeBucket(b: number, block: number): void {
    const last = --this.buckets;
    if (b !== last) {
      this.sparseOffset.copyWithin(b * SPARSE_CAP, last * SPARSE_CAP, (last + 1) * SPARSE_CAP);
      this.sparseValue.copyWithin(b * SPARSE_CAP, last * SPARSE_CAP, (last + 1) * SPARSE_CAP);
      this.sparseCount[b] = this.sparseCount[last];
      const moved = this.sparseOwner[last];
      this.sparseOwner[b] = moved;
      this.setSlot(moved, -2 - b);
    }
    this.setSlot(block, UNIFORM);
    if (this.buckets * 4 < this.sparseOwner.length && this.sparseOwner.length > 1) {
      this.resizeBuckets(this.sparseOwner.length / 2);
    }
  }

  /** Splits sparse `block`: its bucket's pages move to chunks and leaves; returns its slot. */
  private splitSparse(block: number): number {
    const b = -2 - this.slotOf(block);
    const first = b * SPARSE_CAP;
    const count = this.sparseCount[b];
    const offsets = this.sparseOffset.slice(first, first + count);
    const values = this.sparseValue.slice(first, first + count);
    this.freeBucket(b, block);
    const slot = this.splitBlock(block);
    // At most SPARSE_CAP pages differ from the block's value, so no write can make the
    // whole block uniform again (which would free the slot under us).
    const start = block * BLOCK_PAGES;
    for (let i = 0; i < count; i++) {
      const page = start + offsets[i];
      this.setInSlot(block, slot, Math.floor(page / LEAF), page, values[i]);
    }
    return slot;
  }

  /** Whether every page of `leaf` holds `value` (stops at the first that does not). */
  private leafIsUniform(leaf: number, value: number): boolean {
    const leaves = this.leaves;
    const end = (leaf + 1) * LEAF;
    for (let i = leaf * LEAF; i < end; i++) if (leaves[i] !== value) return false;
    return true;
  }

  /**
   * Sets pages [firstPage, endPage) to `value`. Whole blocks and chunks in the range
   * become uniform (dropping what they held); a partly covered chunk is materialised
   * only if the value differs from its uniform value, and returns to uniform when the
   * fill leaves its pages equal.
   */
  fill(value: number, firstPage: number, endPage: number): void {
    this.checkValue(value, 'value');
    this.checkPage(firstPage, 'firstPage');
    if (!Number.isInteger(endPage) || endPage < firstPage || endPage > PAGE_LIMIT) {
      throw new RangeError(`endPage must be an integer in [firstPage, 2^52], got ${endPage} (firstPage ${firstPage})`);
    }
    if (endPage === firstPage) return;
    const lastBlock = Math.floor((endPage - 1) / BLOCK_PAGES);
    this.growTop(lastBlock, value);
    // Blocks past the dense top level hold the initial value unless a Map says otherwise.
    const denseBlocks = this.blockSlot.length;
    let block = Math.floor(firstPage / BLOCK_PAGES);
    for (; block <= lastBlock && block < denseBlocks; block++) this.fillBlock(block, value, firstPage, endPage);
    if (block > lastBlock) return;
    if (value === this.initialValue) {
      const held = [...new Set([...this.farSlot.keys(), ...this.farValue.keys()])];
      for (const b of held.filter((b) => b >= block && b <= lastBlock).sort((x, y) => x - y)) {
        this.fillBlock(b, value, firstPage, endPage);
      }
    } else if (lastBlock - block >= MAX_FAR_FILL_BLOCKS) {
      throw new RangeError(
        `fill of ${lastBlock - block + 1} blocks of 256 MiB above 128 TiB with a non-initial value: at most ${MAX_FAR_FILL_BLOCKS} there (each costs a Map entry)`,
      );
    } else {
      for (; block <= lastBlock; block++) this.fillBlock(block, value, firstPage, endPage);
    }
  }

  /** Fills the part of [firstPage, endPage) that lies in `block`. */
  private fillBlock(block: number, value: number, firstPage: number, endPage: number): void {
    const start = block * BLOCK_PAGES;
    const from = Math.max(firstPage, start);
    const to = Math.min(endPage, start + BLOCK_PAGES);
    if (from === start && to === start + BLOCK_PAGES) this.mergeBlock(block, value);
    else this.fillInBlock(block, value, from, to);
  }

  /** Fills part of one block: whole chunks become uniform, partial chunks are written. */
  private fillInBlock(block: number, value: number, from: number, to: number): void {
    let slot = this.slotOf(block);
    if (slot < 0) {
      // A uniform or sparse block stays sparse while the pages that differ fit a bucket.
      const uniform = this.valueOf(block);
      const start = block * BLOCK_PAGES;
      const held = slot === UNIFORM ? 0 : this.sparseCount[-2 - slot];
      if (value === uniform) {
        if (held > 0) this.sparseClear(-2 - slot, block, from - start, to - start);
        return;
      }
      if (held + (to - from) <= SPARSE_CAP) {
        if (slot === UNIFORM) slot = this.newBucket(block);
        for (let page = from; page < to; page++) this.sparseSet(-2 - slot, block, page - start, value, uniform);
        return;
      }
      slot = held > 0 ? this.splitSparse(block) : this.splitBlock(block);
    }
    for (let chunk = Math.floor(from / LEAF); chunk * LEAF < to; chunk++) {
      const start = chunk * LEAF;
      const at = slot * FAN + (chunk & (FAN - 1));
      let leaf = this.chunkLeaf[at];
      if (from <= start && to >= start + LEAF) {
        if (leaf >= 0) this.freeLeaf(leaf, at);
        this.chunkValue[at] = value;
        continue;
      }
      if (leaf < 0) {
        if (this.chunkValue[at] === value) continue;
        leaf = this.splitChunk(at, chunk);
      }
      const base = leaf * LEAF;
      this.leaves.fill(value, base + Math.max(from, start) - start, base + Math.min(to, start + LEAF) - start);
      this.compactLeaf(leaf, at);
    }
    this.compactBlock(block);
  }

  /** Returns a leaf whose values are all equal to its chunk's uniform value. */
  private compactLeaf(leaf: number, at: number): void {
    const first = this.leaves[leaf * LEAF];
    if (!this.leafIsUniform(leaf, first)) return;
    this.freeLeaf(leaf, at);
    this.chunkValue[at] = first;
  }

  /** Returns a block whose chunks are all uniform with one value to the top level. */
  private compactBlock(block: number): void {
    const base = this.slotOf(block) * FAN;
    const first = this.chunkValue[base];
    for (let i = 0; i < FAN; i++) {
      if (this.chunkLeaf[base + i] >= 0 || this.chunkValue[base + i] !== first) return;
    }
    this.mergeBlock(block, first);
  }

  /** Gives `block` a slot whose chunks hold its uniform value. */
  private splitBlock(block: number): number {
    const slot = this.blockSlots++;
    if (slot >= this.blockOwner.length) this.resizeBlockSlots(this.blockOwner.length * 2);
    this.chunkValue.fill(this.valueOf(block), slot * FAN, (slot + 1) * FAN);
    this.chunkLeaf.fill(-1, slot * FAN, (slot + 1) * FAN);
    this.blockOwner[slot] = block;
    this.setSlot(block, slot);
    return slot;
  }

  /** Makes `block` uniform with `value`, dropping its slot (if any) and its leaves. */
  private mergeBlock(block: number, value: number): void {
    this.setValue(block, value);
    const slot = this.slotOf(block);
    if (slot < 0) {
      if (slot !== UNIFORM) this.freeBucket(-2 - slot, block);
      return;
    }
    for (let at = slot * FAN; at < (slot + 1) * FAN; at++) {
      // freeLeaf may move the last leaf into this one, so re-read after each free.
      const leaf = this.chunkLeaf[at];
      if (leaf >= 0) this.freeLeaf(leaf, at);
    }
    const last = --this.blockSlots;
    if (slot !== last) {
      this.chunkValue.copyWithin(slot * FAN, last * FAN, (last + 1) * FAN);
      this.chunkLeaf.copyWithin(slot * FAN, last * FAN, (last + 1) * FAN);
      const moved = this.blockOwner[last];
      this.blockOwner[slot] = moved;
      this.setSlot(moved, slot);
    }
    this.setSlot(block, -1);
    if (this.blockSlots * 4 < this.blockOwner.length && this.blockOwner.length > 1) {
      this.resizeBlockSlots(this.blockOwner.length / 2);
    }
  }

  /** Gives the chunk at block-slot position `at` a leaf holding its uniform value. */
  private splitChunk(at: number, chunk: number): number {
    const leaf = this.leafCount++;
    // Leaves are most of the memory: grow by 1.5, not 2, to waste less at the end.
    if (leaf >= this.leafOwner.length) this.resizeLeaves(Math.ceil(this.leafOwner.length * 1.5));
    this.leaves.fill(this.chunkValue[at], leaf * LEAF, (leaf + 1) * LEAF);
    this.leafOwner[leaf] = chunk;
    this.chunkLeaf[at] = leaf;
    return leaf;
  }

  /** Drops `leaf` (owned by position `at`), moving the last leaf into its place. */
  private freeLeaf(leaf: number, at: number): void {
    const last = --this.leafCount;
    if (leaf !== last) {
      this.leaves.copyWithin(leaf * LEAF, last * LEAF, (last + 1) * LEAF);
      const moved = this.leafOwner[last];
      this.leafOwner[leaf] = moved;
      const movedSlot = this.slotOf(Math.floor(moved / FAN));
      this.chunkLeaf[movedSlot * FAN + (moved & (FAN - 1))] = leaf;
    }
    this.chunkLeaf[at] = -1;
    if (this.leafCount * 4 < this.leafOwner.length && this.leafOwner.length > 4) {
      this.resizeLeaves(Math.ceil(this.leafOwner.length / 2));
    }
  }

  /** Extends the dense top level to hold `block`, unless nothing there would change. */
  private growTop(block: number, value: number): void {
    if (block < this.blockSlot.length || value === this.initialValue) return;
    const n = Math.min(DENSE_BLOCKS, Math.max(block + 1, this.blockSlot.length * 2));
    if (n === this.blockSlot.length) return;
    const slots = new Int32Array(n).fill(-1);
    slots.set(this.blockSlot);
    const values = new this.Values(n).fill(this.initialValue);
    values.set(this.blockValue);
    this.blockSlot = slots;
    this.blockValue = values;
  }

  // The top level: dense arrays below DENSE_BLOCKS, Maps above.
  private slotOf(block: number): number {
    if (block < this.blockSlot.length) return this.blockSlot[block];
    return this.farSlot.get(block) ?? -1;
  }

  private valueOf(block: number): number {
    if (block < this.blockValue.length) return this.blockValue[block];
    return this.farValue.get(block) ?? this.initialValue;
  }

  private setSlot(block: number, slot: number): void {
    if (block < this.blockSlot.length) this.blockSlot[block] = slot;
    else if (slot === UNIFORM) this.farSlot.delete(block);
    else this.farSlot.set(block, slot);
  }

  private setValue(block: number, value: number): void {
    if (block < this.blockValue.length) this.blockValue[block] = value;
    else if (value === this.initialValue) this.farValue.delete(block);
    else this.farValue.set(block, value);
  }

  private resizeBlockSlots(capacity: number): void {
    this.chunkValue = resized(this.chunkValue, capacity * FAN, this.blockSlots * FAN);
    this.chunkLeaf = resized(this.chunkLeaf, capacity * FAN, this.blockSlots * FAN);
    this.blockOwner = resized(this.blockOwner, capacity, this.blockSlots);
  }

  private resizeBuckets(capacity: number): void {
    this.sparseOffset = resized(this.sparseOffset, capacity * SPARSE_CAP, this.buckets * SPARSE_CAP);
    this.sparseValue = resized(this.sparseValue, capacity * SPARSE_CAP, this.buckets * SPARSE_CAP);
    this.sparseCount = resized(this.sparseCount, capacity, this.buckets);
    this.sparseOwner = resized(this.sparseOwner, capacity, this.buckets);
  }

  private resizeLeaves(capacity: number): void {
    this.leaves = resized(this.leaves, capacity * LEAF, this.leafCount * LEAF);
    this.leafOwner = resized(this.leafOwner, capacity, this.leafCount);
  }

  private checkPage(page: number, field: string): void {
    if (!Number.isInteger(page) || page < 0 || page >= PAGE_LIMIT) {
      throw new RangeError(`${field} must be an integer page number in [0, 2^52), got ${page}`);
    }
  }

  /** Rejects a value the element type would change (300 in bytes, 1.5 in Int32Array). */
  private checkValue(value: number, field: string): void {
    this.probe[0] = value;
    const stored = this.probe[0];
    if (stored !== value && !(stored !== stored && value !== value)) {
      throw new RangeError(`${field} ${value} does not fit a ${this.Values.name} element`);
    }
  }
}

/** A copy of the first `used` elements of `array` in a new array of `length` elements. */
function resized<T extends PageValues | Uint16Array | Int32Array | Float64Array>(
  array: T,
  length: number,
  used: number,
): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array.subarray(0, used));
  return next;
}
